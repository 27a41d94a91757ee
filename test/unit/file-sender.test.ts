/**
 * FileSender's frames: each DATA frame is the 9-byte header and the next chunk of the file,
 * the last one short; the trailer's digest is the file's; and full frames come in the same
 * view every time (no heap object per frame on the hot path).
 */

import { afterAll, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATA_HEADER_BYTES } from "../../src/protocol/index.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { SOURCE_CHANGED, TransferError } from "../../src/transfer/errors.ts";
import { FileSender } from "../../src/transfer/file-sender.ts";

const dir = mkdtempSync(join(tmpdir(), "parley-file-sender-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("frames carry the file in chunks behind their headers; full frames reuse one view", () => {
  const chunk = 4096;
  const content = crypto.getRandomValues(new Uint8Array(3 * chunk + 100));
  const path = join(dir, "three-and-a-bit.bin");
  writeFileSync(path, content);
  const sender = new FileSender(7, path, content.length, "xxh3", chunk);
  const frames: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  for (let frame = sender.nextFrame(); frame; frame = sender.nextFrame()) {
    frames.push(frame);
    copies.push(Uint8Array.from(frame));
  }
  expect(copies.map((f) => f.length)).toEqual([chunk, chunk, chunk, 100].map((n) => n + DATA_HEADER_BYTES));
  // The same object for every full frame: the caller writes each before asking for the next.
  expect(frames[1]).toBe(frames[0] as Uint8Array);
  expect(frames[2]).toBe(frames[0] as Uint8Array);
  expect(frames[3]).not.toBe(frames[0] as Uint8Array);
  let at = 0;
  for (const frame of copies) {
    const n = frame.length - DATA_HEADER_BYTES;
    // length u32 (type byte + id + payload), type, id u32
    expect(new DataView(frame.buffer).getUint32(0)).toBe(n + 5);
    expect(new DataView(frame.buffer).getUint32(5)).toBe(7);
    expect(Buffer.from(frame.subarray(DATA_HEADER_BYTES)).equals(Buffer.from(content.subarray(at, at + n)))).toBe(true);
    at += n;
  }
  expect(at).toBe(content.length);
  const digest = createDigest("xxh3");
  digest.update(content);
  expect(sender.trailer()).toEqual({ bytes: content.length, algo: "xxh3", digest: digest.hex() });
});

test("frames asked smaller than a chunk are cut from one read of the chunk", () => {
  const chunk = 64 * 1024;
  const content = crypto.getRandomValues(new Uint8Array(2 * chunk + 5000));
  const path = join(dir, "cut.bin");
  writeFileSync(path, content);
  utimesSync(path, new Date(2_000_000_000), new Date(2_000_000_000)); // the change below moves its mtime
  const sender = new FileSender(3, path, content.length, "xxh3", chunk);
  const sizes = [4096, 16 * 1024, chunk, chunk, 1000, chunk, chunk];
  const frames: Uint8Array[] = [];
  let endError: unknown;
  for (const [i, size] of sizes.entries()) {
    let frame: Uint8Array | undefined;
    try {
      frame = sender.nextFrame(size);
    } catch (err) {
      endError = err; // the file changed meanwhile: its end says so (next test)
    }
    if (!frame) break;
    frames.push(Uint8Array.from(frame));
    // Changed on disk after the first frame: frames from the chunk already read keep the bytes
    // read with it (one read per chunk), later chunks read the new bytes.
    if (i === 0) {
      const changed = Uint8Array.from(content).fill(0xee, 0, 2 * chunk);
      writeFileSync(path, changed);
    }
  }
  // 4096 + 16 KiB + the chunk's rest; then a whole chunk; then 1000 and the last 4000 of 5000.
  expect(frames.map((f) => f.length - DATA_HEADER_BYTES)).toEqual([4096, 16384, chunk - 20480, chunk, 1000, 4000]);
  expect((endError as TransferError | undefined)?.detail).toBe(SOURCE_CHANGED);
  const sent = Buffer.concat(frames.map((f) => f.subarray(DATA_HEADER_BYTES)));
  expect(sent.length).toBe(content.length);
  // The first chunk as it was read, the second one as changed, the tail (unchanged) as it is.
  expect(sent.subarray(0, chunk).equals(Buffer.from(content.subarray(0, chunk)))).toBe(true);
  expect(sent.subarray(chunk, 2 * chunk).every((b) => b === 0xee)).toBe(true);
  expect(sent.subarray(2 * chunk).equals(Buffer.from(content.subarray(2 * chunk)))).toBe(true);
  for (const [i, frame] of frames.entries()) {
    const view = new DataView(frame.buffer);
    expect(view.getUint32(0)).toBe(frame.length - DATA_HEADER_BYTES + 5);
    expect(view.getUint32(5), `frame ${i}'s id`).toBe(3);
  }
  const digest = createDigest("xxh3");
  digest.update(sent);
  expect(sender.trailer()).toEqual({ bytes: content.length, algo: "xxh3", digest: digest.hex() });
});

/** Reads `sender` to its end; the error it throws there, if any. */
function readToEnd(sender: FileSender): unknown {
  try {
    while (sender.nextFrame()) {}
    return undefined;
  } catch (err) {
    return err;
  }
}

test("a file rewritten in place while it is read (same size) fails at its end: the bytes read mix two versions", () => {
  const chunk = 4096;
  const path = join(dir, "rewritten.bin");
  writeFileSync(path, crypto.getRandomValues(new Uint8Array(4 * chunk)));
  utimesSync(path, new Date(2_000_000_000), new Date(2_000_000_000)); // any write now moves its mtime
  const sender = new FileSender(1, path, 4 * chunk, "xxh3", chunk);
  sender.nextFrame(); // the first chunk is read and gone
  writeFileSync(path, crypto.getRandomValues(new Uint8Array(4 * chunk)), { flag: "r+" }); // as cp over it does
  const err = readToEnd(sender);
  expect(err).toBeInstanceOf(TransferError);
  expect((err as TransferError).code).toBe("E_READ");
  expect((err as TransferError).detail).toBe(SOURCE_CHANGED);
  expect((err as TransferError).message).toBe(
    `${path} was changed while it was being sent: what was read mixes its old and new bytes, so it is not stored (send it again once nothing writes to it)`,
  );
});

test("a file rewritten in place with more bytes while it is read fails at its end too (not taken for an append)", () => {
  const chunk = 4096;
  const path = join(dir, "rewritten-longer.bin");
  writeFileSync(path, crypto.getRandomValues(new Uint8Array(4 * chunk)));
  utimesSync(path, new Date(2_000_000_000), new Date(2_000_000_000));
  const sender = new FileSender(1, path, 4 * chunk, "xxh3", chunk);
  sender.nextFrame(); // the first chunk is read and gone
  // As `cp longer.bin rewritten-longer.bin` does: the same file, truncated and written anew, longer.
  writeFileSync(path, crypto.getRandomValues(new Uint8Array(5 * chunk)));
  const err = readToEnd(sender);
  expect(err, "taken for a file appended to").toBeInstanceOf(TransferError);
  expect((err as TransferError).detail).toBe(SOURCE_CHANGED);
});

test("a file that is only read, or grows while it is read (the offered bytes go), ends well", () => {
  const chunk = 4096;
  const path = join(dir, "growing.log");
  writeFileSync(path, crypto.getRandomValues(new Uint8Array(2 * chunk)));
  utimesSync(path, new Date(2_000_000_000), new Date(2_000_000_000));
  const still = new FileSender(1, path, 2 * chunk, "xxh3", chunk);
  expect(readToEnd(still)).toBeUndefined();
  const growing = new FileSender(3, path, 2 * chunk, "xxh3", chunk);
  growing.nextFrame();
  appendFileSync(path, "a line more\n");
  expect(readToEnd(growing)).toBeUndefined();
  expect(growing.trailer().bytes).toBe(2 * chunk);
});

test("a file that shrank while it was sent says so to the receiver (SOURCE_CHANGED), not a bare read failure", () => {
  const path = join(dir, "shrinks.bin");
  writeFileSync(path, new Uint8Array(3 * 4096));
  const sender = new FileSender(9, path, 3 * 4096, "xxh3", 4096);
  expect(sender.nextFrame()).toBeDefined();
  writeFileSync(path, "replaced\n"); // 9 bytes now: the next read finds nothing at 4096
  let err: unknown;
  try {
    sender.nextFrame();
  } catch (e) {
    err = e;
  }
  expect((err as TransferError).message).toContain("shrank while it was being sent");
  expect((err as TransferError).detail).toBe(SOURCE_CHANGED);
});
