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
 * Bytes handed off and not yet written are the `backlog`: the session ACKs them only once
 * written, so the sender's window bounds them. With every pooled buffer in flight a write is
 * synchronous, so memory stays bounded. The descriptor must stay open while writes are in
 * flight (a number closed and reused by another open would take the late bytes): `close`
 * waits for them.
 */

import { write, writeSync } from "node:fs";

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
}

const realFileWrites: FileWrites = { writeSync, write, now: () => performance.now() };

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
     * number, or asked at each write (the session's is lower while we chat).
     */
    private readonly slowWriteMs: number | (() => number) = SLOW_WRITE_MS,
  ) {}

  /** Writes handed to the thread pool are still running. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /**
   * Writes `bytes` (at most `pieceBytes`) at `position`; `bytes` may be reused once this
   * returns. Nothing is written after a failure or `close`.
   * @throws the OS error of a synchronous write (disk full, ...)
   */
  write(bytes: Uint8Array, position: number): void {
    if (this.failure !== undefined || this.closeWhenDone) return;
    const buffer = this.asyncLeft > 0 || this.mark() <= 0 ? this.take() : undefined;
    if (!buffer) return this.writeNow(bytes, position);
    this.asyncLeft -= bytes.length;
    buffer.set(bytes);
    this.backlog += bytes.length;
    this.inFlight++;
    this.send(buffer, 0, bytes.length, position);
  }

  /** Closes the descriptor (with `closeFd`) now, or once the writes in flight are done. */
  close(closeFd: () => void): void {
    if (this.inFlight === 0) return closeFd();
    this.closeWhenDone = closeFd;
  }

  /** A synchronous write, timed: a slow one sends the next ASYNC_SPAN_BYTES to the pool. */
  private writeNow(bytes: Uint8Array, position: number): void {
    const started = this.io.now();
    let done = 0;
    while (done < bytes.length) {
      done += this.io.writeSync(this.fd, bytes, done, bytes.length - done, position + done);
    }
    if (this.io.now() - started >= this.mark()) this.asyncLeft = ASYNC_SPAN_BYTES;
  }

  /** The slow-write mark now: 0 sends every write to the pool while a buffer is free. */
  private mark(): number {
    return typeof this.slowWriteMs === "number" ? this.slowWriteMs : this.slowWriteMs();
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
