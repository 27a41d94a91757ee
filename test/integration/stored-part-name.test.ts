/**
 * A file stored verified under a name ending in `.part` (`x.part`: a peer's file, a stream's
 * --name) is never taken, by a later run, for an interrupted transfer of `x`. Before, it kept
 * its `.part`'s mark (the offer's token) as it was: the peer that sent it could offer `x` with
 * the same token, the receiver offered to resume from the saved file's end (and sent its digest),
 * and a START 0 truncated it: a saved file lost (the real CLI: `Saved .../x.part`, then 0 bytes).
 * Within one run `storedThisRun` already kept it; the mark keeps it across runs.
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FileReceiver } from "../../src/transfer/index.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-stored-part-");
const TOKEN = "0123456789abcdef0123456789abcdef";

test("a saved x.part is not resumed into for x with the same token by a later run", async () => {
  const dir = tempDir();
  // The earlier run: a receiver process stores `x.part` (1000 bytes), verified.
  const source = join(import.meta.dir, "../../src/transfer/index.ts");
  const earlier = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const { FileReceiver } = await import(${JSON.stringify(source)});
       const r = FileReceiver.open(${JSON.stringify(dir)}, "x.part", 1, 1000, "xxh3", { token: "${TOKEN}" });
       r.write(new Uint8Array(1000).fill(65));
       console.log(r.finish().path);`,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const [stored] = await Promise.all([new Response(earlier.stdout).text(), earlier.exited]);
  expect(stored.trim()).toBe(join(dir, "x.part"));
  // This run: the same peer offers `x` with the same token.
  const receiver = FileReceiver.open(dir, "x", 1, 5000, "xxh3", { token: TOKEN });
  try {
    expect(receiver.resumeOffset, "the saved x.part was taken as x's .part").toBe(0);
    expect(receiver.name).toBe("x (1)");
  } finally {
    receiver.abort();
  }
  expect(readFileSync(join(dir, "x.part")).length).toBe(1000);
});
