/**
 * A `.part` another program changes while it is written (cut short, grown, deleted): the digest
 * is of the bytes as they came, so only a look at the file tells. Before, a `.part` cut to 1,000
 * bytes mid-transfer was filled up to its size again by the later writes (zeros in between),
 * named, and "verified" on both sides (the real CLI: 20 MiB, `truncate -s 1000 big.bin.part`
 * at 4.7 MB: cmp differed from byte 1001).
 */

import { expect, test } from "bun:test";
import {
  appendFileSync,
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  statfsSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDigest } from "../../src/transfer/checksum.ts";
import { PART_CHANGED, TransferError } from "../../src/transfer/errors.ts";
import { FileReceiver } from "../../src/transfer/file-receiver.ts";
import { HOLES_ARE_CUTS } from "../../src/transfer/part-intact.ts";
import { markAsOurs } from "../../src/transfer/part-mark.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-part-intact-");
/** The temporary folder's file system keeps written bytes as data (part-intact.ts looks for holes there). */
const holesLooked = HOLES_ARE_CUTS.has(Number(statfsSync(tmpdir()).type));
if (!holesLooked)
  console.warn(
    "\n*** SKIPPED: the .part hole cases (part-intact.test.ts): the temporary folder is on a file system not looked at ***\n",
  );
const PIECE = 256 * 1024;
const SIZE = 4 * PIECE;
const content = crypto.getRandomValues(new Uint8Array(SIZE));
const digest = (() => {
  const d = createDigest("xxh3");
  d.update(content);
  return d.hex();
})();
const trailer = { bytes: SIZE, algo: "xxh3", digest };

/** Receives `content` as x.bin in a new folder, calling `meddle` (another program) halfway. */
function receiving(meddle: (part: string) => void): { dir: string; finish: () => unknown } {
  const dir = tempDir();
  const receiver = FileReceiver.open(dir, "x.bin", 1, SIZE, "xxh3");
  receiver.write(content.subarray(0, 2 * PIECE));
  meddle(join(dir, "x.bin.part"));
  receiver.write(content.subarray(2 * PIECE));
  return { dir, finish: () => receiver.finish(trailer) };
}

function failure(finish: () => unknown): TransferError {
  try {
    finish();
  } catch (err) {
    if (err instanceof TransferError) return err;
    throw err;
  }
  throw new Error("stored: the change went unseen");
}

const cuts = [
  [
    "cut short (truncate, > x.bin.part): a hole of zeros under the later writes",
    (p: string) => truncateSync(p, 1000),
    "part of it was cut away",
  ],
  ["cut to nothing", (p: string) => truncateSync(p, 0), "part of it was cut away"],
] as const;
test.each([
  ...(holesLooked ? cuts : []),
  ["grown past what was written (truncate -s bigger)", (p: string) => truncateSync(p, 8 * PIECE), "grew to"],
  ["deleted", (p: string) => unlinkSync(p), "it was deleted"],
] as const)("a .part %s: E_WRITE, said, nothing stored under the name", (_, meddle, said) => {
  const { dir, finish } = receiving(meddle);
  const err = failure(finish);
  expect(err.code).toBe("E_WRITE");
  expect(err.detail).toBe(PART_CHANGED);
  expect(err.message).toContain(said);
  expect(err.message).toEndWith("(and the .part was removed: sending again starts it over)");
  expect(readdirSync(dir)).not.toContain("x.bin");
  expect(existsSync(join(dir, "x.bin.part"))).toBe(false);
});

test("a .part appended to by another program after the last write: its size tells", () => {
  const dir = tempDir();
  const receiver = FileReceiver.open(dir, "y.bin", 1, SIZE, "xxh3");
  receiver.write(content);
  appendFileSync(join(dir, "y.bin.part"), "x");
  expect(failure(() => receiver.finish(trailer)).message).toContain(`grew to ${SIZE + 1} bytes`);
});

test("a .part left alone is stored as before", () => {
  const { dir, finish } = receiving(() => {});
  finish();
  expect(readFileSync(join(dir, "x.bin")).equals(Buffer.from(content))).toBe(true);
});

test.if(holesLooked)(
  "a resumed .part cut after its prefix was hashed: seen, and it goes (a resume of it would meet the same hole)",
  async () => {
    const dir = tempDir();
    const meta = { token: "t".repeat(32) };
    const first = FileReceiver.open(dir, "r.bin", 1, SIZE, "xxh3", meta);
    first.write(content.subarray(0, 2 * PIECE));
    first.abort(true); // the connection broke: kept for a resume
    const again = FileReceiver.open(dir, "r.bin", 2, SIZE, "xxh3", meta);
    expect(again.resumeOffset, "the .part is taken up (a file system with user xattrs)").toBe(2 * PIECE);
    await again.hashPrefix(); // the sender compares it: START at 2 PIECE
    truncateSync(join(dir, "r.bin.part"), 0);
    again.write(content.subarray(2 * PIECE));
    expect(failure(() => again.finish(trailer)).message).toContain("it reads zeros from byte 0 or before");
    expect(readdirSync(dir)).toEqual([]);
  },
);

/** A resumable s.bin.part of `data` then zeros up to 2 PIECE, the zeros a hole (sparse, as a test or a sparse image makes one). */
function sparsePart(dir: string, data: Uint8Array, token: string): void {
  const fd = openSync(join(dir, "s.bin.part"), "w");
  writeSync(fd, data, 0, data.length, 0);
  ftruncateSync(fd, 2 * PIECE);
  markAsOurs(fd, token);
  closeSync(fd);
}

test.if(holesLooked)(
  "a resumed .part that came with a hole (the sender's zeros there): stored; cut before that hole afterwards: seen",
  async () => {
    const source = new Uint8Array(SIZE);
    source.set(content.subarray(0, PIECE), 0); // [PIECE, 2 PIECE) zeros: the sender's too
    source.set(content.subarray(2 * PIECE), 2 * PIECE);
    const d = createDigest("xxh3");
    d.update(source);
    const sparseTrailer = { bytes: SIZE, algo: "xxh3", digest: d.hex() };
    const meta = { token: "s".repeat(32) };
    for (const cut of [false, true]) {
      const dir = tempDir();
      sparsePart(dir, source.subarray(0, PIECE), meta.token);
      const again = FileReceiver.open(dir, "s.bin", 1, SIZE, "xxh3", meta);
      expect(again.resumeOffset, "the .part is taken up (a file system with user xattrs)").toBe(2 * PIECE);
      await again.hashPrefix();
      if (cut) truncateSync(join(dir, "s.bin.part"), 1000);
      again.write(source.subarray(2 * PIECE));
      if (!cut) {
        again.finish(sparseTrailer);
        expect(readFileSync(join(dir, "s.bin")).equals(Buffer.from(source))).toBe(true);
      } else
        expect(failure(() => again.finish(sparseTrailer)).message).toContain("it reads zeros from byte 4096 or before");
    }
  },
);
