/**
 * WritePieces, the cut of a receiver's bytes into file writes: whatever the chunks, the writes
 * put every byte where it belongs, none is over 256 KiB or starts on a 256 KiB boundary with more
 * than a page, at most a page is held back, and aligned 256 KiB records after the first are one
 * write each.
 */

import { expect, test } from "bun:test";
import { readFileSync, writeSync, writevSync } from "node:fs";
import { join } from "node:path";
import { FileReceiver } from "../../src/transfer/file-receiver.ts";
import type { FileWrites } from "../../src/transfer/write-behind.ts";
import { ALIGNED_LEAD_BYTES, WRITE_PIECE_BYTES, WritePieces } from "../../src/transfer/write-pieces.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const PIECE = WRITE_PIECE_BYTES;
const PAGE = ALIGNED_LEAD_BYTES;

/** A file image the writes fill, and each write's [position, length]. */
function recorder(size: number) {
  const file = new Uint8Array(size);
  const writes: Array<[number, number]> = [];
  const pieces = new WritePieces((head, body, at) => {
    file.set(head, at);
    file.set(body, at + head.length);
    writes.push([at, head.length + body.length]);
  });
  return { file, writes, pieces };
}

/** Bytes whose value tells their offset apart (mod 251). */
function bytesAt(from: number, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (from + i) % 251;
  return out;
}

test("aligned 256 KiB records: the first page alone, then one write a record from the page below its boundary", () => {
  const size = 4 * PIECE;
  const { writes, pieces } = recorder(size);
  for (let at = 0; at < size; at += PIECE) pieces.take(bytesAt(at, PIECE), at, at + PIECE < size);
  expect(writes).toEqual([
    [0, PAGE],
    [PAGE, PIECE - 2 * PAGE],
    [PIECE - PAGE, PIECE],
    [2 * PIECE - PAGE, PIECE],
    [3 * PIECE - PAGE, PIECE],
    [4 * PIECE - PAGE, PAGE],
  ]);
  expect(pieces.pending).toBe(0);
});

test("a carried page waits while more is to come, and flush hands it over alone", () => {
  const { file, writes, pieces } = recorder(PIECE);
  pieces.take(bytesAt(0, PIECE), 0, true);
  expect(pieces.pending).toBe(PAGE);
  expect(writes.at(-1)).toEqual([PAGE, PIECE - 2 * PAGE]);
  pieces.flush(PIECE);
  expect(pieces.pending).toBe(0);
  expect(writes.at(-1)).toEqual([PIECE - PAGE, PAGE]);
  expect(file).toEqual(bytesAt(0, PIECE));
  pieces.flush(PIECE); // nothing carried: nothing written
  expect(writes.length).toBe(3);
});

test("any chunks: every byte in place, no piece over 256 KiB or from a boundary with more than a page", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const sizes = [1, 100, PAGE - 1, PAGE, PAGE + 1, 16 * 1024, PIECE - PAGE, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE];
  for (let round = 0; round < 30; round++) {
    const size = 3 * PIECE + random(3 * PIECE);
    const { file, writes, pieces } = recorder(size);
    let at = round % 3 === 0 ? PIECE : 0; // a resumed file starts where its `.part` ended
    const start = at;
    while (at < size) {
      const n = Math.min(size - at, sizes[random(sizes.length)] as number);
      pieces.take(bytesAt(at, n), at, at + n < size);
      expect(pieces.pending).toBeLessThanOrEqual(PAGE);
      at += n;
    }
    expect(pieces.pending).toBe(0);
    expect(file.subarray(start)).toEqual(bytesAt(start, size - start));
    expect(writes.reduce((sum, [, n]) => sum + n, 0)).toBe(size - start);
    for (const [position, n] of writes) {
      expect(n).toBeLessThanOrEqual(PIECE);
      if (position % PIECE === 0) expect(n).toBeLessThanOrEqual(PAGE);
    }
  }
});

test("a stream (more always true) keeps its last page until flushed; drop forgets it", () => {
  const { writes, pieces } = recorder(2 * PIECE);
  pieces.take(bytesAt(0, PIECE), 0, true);
  pieces.drop();
  expect(pieces.pending).toBe(0);
  pieces.take(bytesAt(0, 100), 0, true);
  expect(writes.at(-1)).toEqual([0, 100]); // not on a boundary's end: nothing carried
  expect(pieces.pending).toBe(0);
});

const tempDir = tempDirsRemovedAfterEach("parley-write-pieces-");

test("a FileReceiver stopped mid-file keeps every byte it took in its .part, the carried page too", () => {
  const dir = tempDir();
  const receiver = FileReceiver.open(dir, "h.bin", 1, 3 * PIECE, "xxh3", {}, {});
  receiver.write(bytesAt(0, PIECE));
  receiver.write(bytesAt(PIECE, PIECE));
  expect(receiver.received).toBe(2 * PIECE);
  receiver.abort(true); // the connection broke: the .part stays for a resume
  expect(readFileSync(join(dir, "h.bin.part"))).toEqual(Buffer.from(bytesAt(0, 2 * PIECE)));
});

/** Real file calls on a clock that makes every synchronous write slow: all but a file's first page goes to the pool, whose jobs wait in `pool`; the job of the second record (from PIECE - PAGE) fails (a full disk), later ones would not. */
function fillingDisk() {
  const pool: Array<() => void> = [];
  let t = 0;
  const io: FileWrites = {
    now: () => t,
    writeSync: (...args) => {
      t += 10;
      return writeSync(...args);
    },
    writevSync: (fd, parts, position) => {
      t += 10;
      return writevSync(fd, parts, position);
    },
    write: (fd, bytes, offset, length, position, done) => {
      pool.push(() =>
        position !== PIECE - PAGE
          ? done(null, writeSync(fd, bytes, offset, length, position))
          : done(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }), 0),
      );
    },
  };
  return { pool, io };
}

for (const when of ["after the failure is reported", "while the writes are in flight"]) {
  test(`a .part kept when a pool write fails ends where its bytes end: no carried page past the hole (abort ${when})`, () => {
    const dir = tempDir();
    const { pool, io } = fillingDisk();
    const receiver = FileReceiver.open(dir, "k.bin", 1, 4 * PIECE, "xxh3", {}, { writeBehind: io });
    receiver.onFailed = () => receiver.abort(true); // as the session ends it: E_WRITE keeps the .part
    receiver.write(bytesAt(0, PIECE));
    receiver.write(bytesAt(PIECE, PIECE));
    expect(pool).toHaveLength(2);
    if (when.startsWith("while")) receiver.abort(true); // the connection broke
    for (const run of pool) run();
    // The second record (from PIECE - PAGE) never reached the file: the .part must end there, a
    // prefix of the file. Its carried page written at 2 * PIECE - PAGE would leave zeros below
    // it: a resume would find its prefix different from the sender's and start over from byte 0.
    const part = readFileSync(join(dir, "k.bin.part"));
    expect(part.length).toBe(PIECE - PAGE);
    expect(part).toEqual(Buffer.from(bytesAt(0, PIECE - PAGE)));
  });
}

test("a FileReceiver whose writes go to the thread pool stores every byte in place, the carried pages too", async () => {
  const dir = tempDir();
  const size = 6 * PIECE + 5_000;
  // slowWriteMs 0: every write goes to the pool while a pooled buffer is free (as while we chat).
  const receiver = FileReceiver.open(dir, "p.bin", 1, size, "xxh3", {}, { writeBehind: true, slowWriteMs: 0 });
  const written = new Promise<void>((resolve) => {
    receiver.onFlushed = () => {
      if (receiver.backlog === 0 && receiver.received === size) resolve();
    };
  });
  // Records on the boundaries (each after the first carries a page in front), then odd ones.
  for (let at = 0; at < 4 * PIECE; at += PIECE) receiver.write(bytesAt(at, PIECE));
  for (const n of [1_000, PIECE - 1_000, 3 * PAGE, PIECE + 5_000 - 3 * PAGE]) {
    receiver.write(bytesAt(receiver.received, n));
  }
  expect(receiver.received).toBe(size);
  await written;
  expect(readFileSync(receiver.finish().path)).toEqual(Buffer.from(bytesAt(0, size)));
});

test("a .part kept after a failed pool write ends where the failed write began, though a later one in flight was written", () => {
  const dir = tempDir();
  const { pool, io } = fillingDisk(); // the second record's job fails; the third's, in flight beside it, is written
  const receiver = FileReceiver.open(dir, "m.bin", 1, 4 * PIECE, "xxh3", {}, { writeBehind: io });
  receiver.onFailed = () => receiver.abort(true); // as the session ends it: E_WRITE keeps the .part
  for (let at = 0; at < 3 * PIECE; at += PIECE) receiver.write(bytesAt(at, PIECE));
  expect(pool).toHaveLength(3);
  for (const run of pool) run();
  // Zeros where the second record belongs, under the third's bytes, would make the resume's
  // prefix differ from the sender's: it would start the file over. The .part is cut back instead.
  const part = readFileSync(join(dir, "m.bin.part"));
  expect(part.length).toBe(PIECE - PAGE);
  expect(part).toEqual(Buffer.from(bytesAt(0, PIECE - PAGE)));
});
