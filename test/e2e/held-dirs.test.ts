/**
 * The real receiving CLI in a download folder other users can change (mode 0777, no sticky bit),
 * a hand-made sender (test/raw-parley.ts) that decides when each byte goes: half of a folder's
 * entry is sent, and once it is in the receiver's `.part`, another process (this test) renames
 * the folder being received away and puts a symbolic link to a folder of the receiving user's
 * elsewhere in its place; then the rest and END. No timing luck: the swap happens while the
 * receiver waits for bytes the test has not sent. The entry is stored in the folder the receiver
 * made, byte for byte; the folder elsewhere is left exactly as it was (on the code before,
 * which named the file by path, the final link went through the link, found a file of the
 * victim's there, and the cleanup deleted it); the next entry is refused in words.
 */

import { afterEach, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { encodeDataHeader, encodeMessage, type Frame, FrameType } from "../../src/protocol/index.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { cleanup, makeTempDir, rawLeaderInto, seededBytes, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const HALF = 48 * 1024;

async function acceptOf(frames: Frame[], id: number): Promise<void> {
  const mine = (f: Frame) => f.type === FrameType.Accept && new TextDecoder().decode(f.payload).includes(`"id":${id}`);
  while (!frames.some(mine)) await Bun.sleep(5);
}

test(
  "a folder being received, swapped for a link mid-entry: the entry lands in the folder made, nothing elsewhere is touched",
  async () => {
    const b = await startPeer("bob");
    chmodSync(b.dir, 0o777);
    const elsewhere = makeTempDir();
    mkdirSync(join(elsewhere, "sub"));
    const victim = "the receiving user's own unfinished download";
    writeFileSync(join(elsewhere, "sub", "a.bin.part"), victim);
    const raw = await rawLeaderInto(b);
    const bytes = seededBytes(2 * HALF, 13);
    const folder = { group: 1, root: "photos", entries: 2, bytes: bytes.length + 3 };
    raw.send(
      encodeMessage({
        kind: "offer",
        id: 1,
        name: "a.bin",
        size: bytes.length,
        algo: "xxh3",
        folder: { ...folder, path: ["sub", "a.bin"] },
      }),
    );
    await acceptOf(raw.frames, 1);
    raw.send(Buffer.concat([encodeDataHeader(1, HALF), bytes.subarray(0, HALF)]));
    const part = join(b.dir, "photos", "sub", "a.bin.part");
    for (;;) {
      try {
        if (statSync(part).size >= HALF) break;
      } catch {
        // Not made yet.
      }
      await Bun.sleep(5);
    }
    renameSync(join(b.dir, "photos"), join(b.dir, "photos-moved"));
    symlinkSync(elsewhere, join(b.dir, "photos"));
    const digest = createDigest("xxh3");
    digest.update(bytes);
    raw.send(
      Buffer.concat([
        encodeDataHeader(1, HALF),
        bytes.subarray(HALF),
        encodeMessage({ kind: "end", id: 1, bytes: bytes.length, algo: "xxh3", digest: digest.hex() }),
      ]),
    );
    // A folder's entries are reported together at its end: until then, the file tells.
    const stored = join(b.dir, "photos-moved", "sub", "a.bin");
    while (!existsSync(stored) && b.cli.linesMatching(/a\.bin.*failed/).length === 0) await Bun.sleep(5);
    // The final name is a link to the .part made first, then the .part's name goes (part-files.ts
    // linkToFreeName): another process can see both between the two calls. A .part left for good
    // still fails the listing below, after this short bound.
    const since = Date.now();
    while (existsSync(`${stored}.part`) && Date.now() - since < 2_000) await Bun.sleep(5);
    expect(readdirSync(elsewhere)).toEqual(["sub"]);
    expect(readdirSync(join(elsewhere, "sub")), "removed or linked through the link").toEqual(["a.bin.part"]);
    expect(readFileSync(join(elsewhere, "sub", "a.bin.part"), "utf8")).toBe(victim);
    expect(b.cli.linesMatching(/failed/), b.cli.describe()).toEqual([]);
    expect(readFileSync(join(b.dir, "photos-moved", "sub", "a.bin")).equals(bytes)).toBe(true);
    expect(readdirSync(join(b.dir, "photos-moved", "sub"))).toEqual(["a.bin"]);
    // The next entry would be stored where its path no longer leads: refused, in words.
    raw.send(
      encodeMessage({
        kind: "offer",
        id: 3,
        name: "b.bin",
        size: 3,
        algo: "xxh3",
        folder: { ...folder, path: ["b.bin"] },
      }),
    );
    await b.cli.waitForLine(/b\.bin failed: .*was moved or replaced by another process/);
    await b.cli.waitForLine(/folder .*photos.*1 entry/);
    expect(readdirSync(elsewhere)).toEqual(["sub"]);
  },
  TEST_MS,
);
