/**
 * StreamReceiver on a full non-blocking pipe (issue 11 item 21): it holds bytes back and
 * writes them when the reader reads, without blocking the event loop (it used to spin in
 * Bun.sleepSync for up to 10 s, freezing chat, PINGs and signals).
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { outputStallMs } from "../../src/cli/stream-output.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { OUTPUT_STALL_MS, StreamReceiver, type TransferError } from "../../src/transfer/index.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A FIFO with both ends open non-blocking: [read fd, write fd]. */
function fifo(): [number, number] {
  const dir = mkdtempSync(join(tmpdir(), "parley-fifo-"));
  const path = join(dir, "pipe");
  Bun.spawnSync(["mkfifo", path]);
  const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  cleanups.push(() => {
    closeSync(r);
    closeSync(w);
    rmSync(dir, { recursive: true, force: true });
  });
  return [r, w];
}

function drain(fd: number, into: number[]): void {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    let n = 0;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as { code?: string }).code === "EAGAIN") return;
      throw err;
    }
    if (n === 0) return;
    for (let i = 0; i < n; i++) into.push(buf[i] as number);
  }
}

test("a full pipe holds bytes back without blocking; they go out, in order, once the reader reads", async () => {
  const [r, w] = fifo();
  const data = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff);
  const sink = new StreamReceiver(w, "out", data.length, "xxh3");
  let flushed = 0;
  sink.onFlushed = () => flushed++;
  const started = performance.now();
  for (let at = 0; at < data.length; at += 256 * 1024) sink.write(data.subarray(at, at + 256 * 1024));
  expect(performance.now() - started).toBeLessThan(1_000); // returned at once, not after a stall
  expect(sink.backlog).toBeGreaterThan(0); // the pipe (64 KiB) could not take 1 MiB
  expect(sink.received).toBe(data.length);
  // The event loop is free: a timer runs while bytes are held back.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const got: number[] = [];
  while (got.length < data.length) {
    drain(r, got);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  expect(sink.backlog).toBe(0);
  expect(flushed).toBeGreaterThan(0);
  expect(Buffer.compare(Buffer.from(got), Buffer.from(data))).toBe(0);
  const digest = createDigest("xxh3");
  digest.update(data);
  expect(sink.finish({ bytes: data.length, algo: "xxh3", digest: digest.hex() }).bytes).toBe(data.length);
});

/** The copies (Uint8Array.prototype.slice) made while `run` runs: StreamReceiver's held bytes. */
function slicesMadeBy(run: () => void): Uint8Array[] {
  const copies: Uint8Array[] = [];
  const slice = Uint8Array.prototype.slice;
  Uint8Array.prototype.slice = function (this: Uint8Array, ...args: [number?, number?]) {
    const copy = slice.apply(this, args);
    copies.push(copy);
    return copy;
  };
  try {
    run();
  } finally {
    Uint8Array.prototype.slice = slice;
  }
  return copies;
}

test("the copies it holds back are handed back once written, not left to the collector", async () => {
  const [r, w] = fifo();
  const data = new Uint8Array(1 << 20).fill(3);
  const sink = new StreamReceiver(w, "out", data.length, "xxh3");
  const copies = slicesMadeBy(() => {
    for (let at = 0; at < data.length; at += 256 * 1024) sink.write(data.subarray(at, at + 256 * 1024));
  });
  expect(copies.length).toBeGreaterThan(0); // the pipe (64 KiB) refused most of 1 MiB
  const got: number[] = [];
  while (got.length < data.length) {
    drain(r, got);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  expect(sink.backlog).toBe(0);
  expect(
    copies.every((c) => (c.buffer as ArrayBuffer).detached),
    "every written copy is detached",
  ).toBe(true);
});

test("abort hands back the copies still held", () => {
  const [, w] = fifo();
  const sink = new StreamReceiver(w, "out", 1 << 20, "xxh3");
  const copies = slicesMadeBy(() => sink.write(new Uint8Array(1 << 20)));
  expect(sink.backlog).toBeGreaterThan(0);
  sink.abort();
  expect(copies.length).toBeGreaterThan(0);
  expect(copies.every((c) => (c.buffer as ArrayBuffer).detached)).toBe(true);
});

test("an output not read for the stall time fails the transfer, once, saying for how long", async () => {
  const [, w] = fifo(); // its reader never reads
  const sink = new StreamReceiver(w, "out", 1 << 20, "xxh3", 50);
  const failed: TransferError[] = [];
  sink.onFailed = (err) => failed.push(err);
  const started = performance.now();
  sink.write(new Uint8Array(1 << 20));
  while (failed.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  // Not before the stall time: a full pipe is not a stalled one until then.
  expect(performance.now() - started).toBeGreaterThanOrEqual(50);
  expect(failed.map((e) => [e.code, e.detail])).toEqual([["E_WRITE", "stalled"]]);
  expect(failed[0]?.message).toMatch(/^the output has not been read for 0\.05 s; \d+ of its 1048576 bytes reached it/);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(failed).toHaveLength(1); // no retry after the failure
});

test("the stall time: 10 s unless PARLEY_OUTPUT_STALL_MS gives a whole number of ms above 0", () => {
  expect(OUTPUT_STALL_MS).toBe(10_000); // the README's "output that is not read for 10 s fails the transfer"
  const [, w] = fifo();
  const stallOf = (sink: StreamReceiver) => (sink as unknown as { stallMs: number }).stallMs;
  expect(stallOf(new StreamReceiver(w, "out", 1, "xxh3"))).toBe(OUTPUT_STALL_MS);
  // The CLI passes outputStallMs(env): undefined, so the default, unless the variable is set.
  expect(stallOf(new StreamReceiver(w, "out", 1, "xxh3", outputStallMs({})))).toBe(OUTPUT_STALL_MS);
  expect(outputStallMs({ PARLEY_OUTPUT_STALL_MS: "1000" })).toBe(1_000);
  for (const bad of ["", "0", "-5", "1.5", "ten", "1e400"]) {
    expect(outputStallMs({ PARLEY_OUTPUT_STALL_MS: bad }), bad).toBeUndefined();
  }
});
