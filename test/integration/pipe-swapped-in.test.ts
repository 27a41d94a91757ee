/**
 * A file to send swapped for a named pipe after it was checked (by its owner, or anyone who can
 * write its folder): opening it must not wait for a writer. Such an open blocked the whole
 * process, Ctrl-C included, until it was killed (`parley send FILE` to a plain wormhole peer,
 * whose PieceReader opens the file by path once the peer said yes). Each case runs the call in
 * a child process, killed after a few seconds: on the old code the call never returned.
 */

import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-pipe-swap-");
const TRANSFER = join(import.meta.dir, "../../src/transfer/index.ts");
const KILL_AFTER_MS = 5_000;

/** Runs `script` (ES module text) in a child Bun; @returns its exit code and standard output. */
async function inChild(script: string): Promise<{ code: number; out: string }> {
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  clearTimeout(timer);
  return { code, out: out.trim() };
}

test("a plain wormhole send's file that became a named pipe before the peer's yes: E_NOT_A_FILE, not a hang", async () => {
  const path = join(tempDir(), "doc.bin");
  Bun.spawnSync(["mkfifo", path]);
  const { code, out } = await inChild(`const { openPieceReader } = await import(${JSON.stringify(TRANSFER)});
    try { openPieceReader(${JSON.stringify(path)}); console.log("opened"); } catch (err) { console.log(err.code); }`);
  expect(code, `still opening the pipe after ${KILL_AFTER_MS} ms (killed)`).toBe(0);
  expect(out).toBe("E_NOT_A_FILE");
});

test("checkReadableFile on a path another process keeps swapping between a file and a named pipe never blocks", async () => {
  const dir = tempDir();
  const path = join(dir, "doc.bin");
  await Bun.write(join(dir, "file"), "the bytes");
  Bun.spawnSync(["mkfifo", join(dir, "pipe")]);
  // Swaps the two in under the checked name, until killed.
  const flipper = Bun.spawn([
    process.execPath,
    "-e",
    `const { renameSync } = require("node:fs"); const d = ${JSON.stringify(dir)};
     for (;;) for (const n of ["file", "pipe"]) { renameSync(d + "/" + n, d + "/doc.bin"); renameSync(d + "/doc.bin", d + "/" + n); }`,
  ]);
  try {
    const { code, out } = await inChild(`const { checkReadableFile } = await import(${JSON.stringify(TRANSFER)});
      const outcomes = new Set();
      for (const end = performance.now() + 300; performance.now() < end; ) {
        try { outcomes.add(typeof checkReadableFile(${JSON.stringify(path)})); } catch (err) { outcomes.add(err.code); }
      }
      console.log([...outcomes].sort().join(" "));`);
    expect(code, `a check still waiting on the pipe after ${KILL_AFTER_MS} ms (killed)`).toBe(0);
    // Its size, or a TransferError's code (the name gone between the swaps, at the stat or the open; the pipe seen by either).
    for (const outcome of out.split(" "))
      expect(["number", "E_NOT_FOUND", "E_NOT_A_FILE", "E_UNREADABLE"]).toContain(outcome);
  } finally {
    flipper.kill("SIGKILL");
    await flipper.exited;
  }
});
