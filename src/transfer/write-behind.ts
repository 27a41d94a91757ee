/**
 * WriteBehind: a receiver's positional writes into one open file, kept off the event loop
 * when the file system is slow. Most writes are synchronous (a 256 KiB write into warm page
 * cache takes tens of microseconds here, less than handing it to another thread costs); one
 * that takes SLOW_WRITE_MS or more (page cache the VM's host must fault back in, both cores
 * copying at once: 0.3 ms to tens of ms a write) switches the next ASYNC_SPAN_BYTES to
 * `fs.write` on Bun's thread pool, each write's bytes copied into one of a few pooled
 * buffers. Chat, ACKs and the terminal then go on while the copy into the page cache runs
 * elsewhere. After that span a synchronous write measures again. The mark may be asked at each
 * write: a session's is 0 while we chat (session/limits.ts, CHAT_SLOW_WRITE_MS), and at 0 every
 * write goes to the pool while a buffer is free, none synchronous to measure.
 *
 * A write may come in two parts (write-pieces.ts: a carried page in front of a record): one
 * pooled buffer and one pool job for both, or one `pwritev` when synchronous.
 *
 * Bytes handed off and not yet written are the `backlog`: the session ACKs them only once
 * written, so the sender's window bounds them. With every pooled buffer in flight a write is
 * synchronous, so memory stays bounded. The descriptor must stay open while writes are in
 * flight (a number closed and reused by another open would take the late bytes): `close`
 * waits for them.
 */

import { write, writeSync, writevSync } from "node:fs";

/** A synchronous write this slow sends the next writes to the thread pool (the default). */
export const SLOW_WRITE_MS = 1;
/** How many bytes go to the thread pool after a slow write, before measuring again. */
export const ASYNC_SPAN_BYTES = 16 * 1024 * 1024;
/** Buffers in flight at most (one write each): 8 x 256 KiB covers a short path's whole window. */
const POOL_BUFFERS = 8;

/** The file calls and the clock, injectable for tests. */
export interface FileWrites {
  writeSync(fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number;
  write(
    fd: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    position: number,
    done: (err: NodeJS.ErrnoException | null, written: number) => void,
  ): void;
  now(): number;
  /** `head` then `body` in one call from `position` (without it: two writeSync calls). */
  writevSync?(fd: number, parts: readonly Uint8Array[], position: number): number;
}

/**
 * A slow-write mark that may change: asked at each write (`ms`), and told how long each
 * synchronous write took (`tookSync`), so that what a write showed can move it.
 */
export interface SlowWriteMark {
  ms(): number;
  tookSync(ms: number): void;
}

const realFileWrites: FileWrites = { writeSync, write, writevSync, now: () => performance.now() };
const NO_BYTES = new Uint8Array(0);

export class WriteBehind {
  /** Bytes handed to the thread pool and not yet in the file. */
  backlog = 0;
  private readonly free: Uint8Array[] = [];
  private pooled = 0;
  private inFlight = 0;
  /** Bytes still to go to the thread pool before a synchronous write measures again. */
  private asyncLeft = 0;
  private failure: unknown;
  private closeWhenDone: (() => void) | undefined;
  /**
   * The first file offset a pooled write failed (or, closing, left) to write: what lies past it
   * is not a prefix of the file, though a later write in flight beside it went in.
   */
  holeAt: number | undefined;

  constructor(
    private readonly fd: number,
    /** The largest write; each pooled buffer has this size. */
    private readonly pieceBytes: number,
    /** Bytes in flight were written: backlog fell. */
    private readonly flushed: () => void,
    /** A write in flight failed (the first error only); later writes are dropped. */
    private readonly failed: (err: unknown) => void,
    private readonly io: FileWrites = realFileWrites,
    private readonly poolBuffers = POOL_BUFFERS,
    /**
     * A synchronous write this slow or slower sends the next ASYNC_SPAN_BYTES to the pool: a
     * number, or a SlowWriteMark asked at each write and told each synchronous write's time (the
     * session's: lower while we chat).
     */
    private readonly slowWriteMs: number | SlowWriteMark = SLOW_WRITE_MS,
  ) {}

  /** Writes handed to the thread pool are still running. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /**
   * Writes `head` then `bytes` (at most `pieceBytes` together) from `position`; both may be
   * reused once this returns. Nothing is written after a failure or `close`.
   * @throws the OS error of a synchronous write (disk full, ...)
   */
  write(bytes: Uint8Array, position: number, head: Uint8Array = NO_BYTES): void {
    if (this.failure !== undefined || this.closeWhenDone) return;
    const buffer = this.asyncLeft > 0 || this.mark() <= 0 ? this.take() : undefined;
    if (!buffer) return this.writeNow(head, bytes, position);
    const length = head.length + bytes.length;
    this.asyncLeft -= length;
    buffer.set(head);
    buffer.set(bytes, head.length);
    this.backlog += length;
    this.inFlight++;
    this.send(buffer, 0, length, position);
  }

  /** Closes the descriptor (with `closeFd`) now, or once the writes in flight are done. */
  close(closeFd: () => void): void {
    if (this.inFlight === 0) return closeFd();
    this.closeWhenDone = closeFd;
  }

  /** A synchronous write, timed: a slow one sends the next ASYNC_SPAN_BYTES to the pool. */
  private writeNow(head: Uint8Array, bytes: Uint8Array, position: number): void {
    const started = this.io.now();
    writeJoinedSync(this.io, this.fd, head, bytes, position);
    const took = this.io.now() - started;
    if (typeof this.slowWriteMs !== "number") this.slowWriteMs.tookSync(took);
    if (took >= this.mark()) this.asyncLeft = ASYNC_SPAN_BYTES;
  }

  /** The slow-write mark now: 0 sends every write to the pool while a buffer is free. */
  private mark(): number {
    return typeof this.slowWriteMs === "number" ? this.slowWriteMs : this.slowWriteMs.ms();
  }

  private take(): Uint8Array | undefined {
    const buffer = this.free.pop();
    if (buffer) return buffer;
    if (this.pooled >= this.poolBuffers) return undefined;
    this.pooled++;
    return new Uint8Array(this.pieceBytes);
  }

  /** Writes buffer[from, to) at `position`; `length` is the whole write's (for the backlog). */
  private send(buffer: Uint8Array, from: number, to: number, position: number, length = to - from): void {
    this.io.write(this.fd, buffer, from, to - from, position, (err, written) => {
      if (!err && from + written < to && !this.closeWhenDone) {
        // A short write (the disk filling up): the rest; the next try reports the error.
        return this.send(buffer, from + written, to, position + written, length);
      }
      const unwritten = err ? position : from + written < to ? position + written : undefined;
      if (unwritten !== undefined) this.holeAt = Math.min(this.holeAt ?? unwritten, unwritten);
      this.inFlight--;
      this.free.push(buffer);
      this.backlog -= length;
      if (this.closeWhenDone) {
        if (this.inFlight === 0) this.closeWhenDone();
        return;
      }
      if (err) {
        if (this.failure === undefined) {
          this.failure = err;
          this.failed(err);
        }
        return;
      }
      this.flushed();
    });
  }
}

/** Writes `head` then `body` from `position`, synchronously: one `pwritev` when both have bytes. */
export function writeJoinedSync(
  io: Pick<FileWrites, "writeSync" | "writevSync">,
  fd: number,
  head: Uint8Array,
  body: Uint8Array,
  position: number,
): void {
  let done = 0;
  if (head.length > 0 && body.length > 0 && io.writevSync) done = io.writevSync(fd, [head, body], position);
  // What is left of the head, then of the body (a short write: the disk filling up).
  while (done < head.length) done += io.writeSync(fd, head, done, head.length - done, position + done);
  const from = done - head.length;
  for (let at = from; at < body.length; ) {
    at += io.writeSync(fd, body, at, body.length - at, position + head.length + at);
  }
}
