/**
 * ChunkQueue: received bytes not yet read, kept as the chunks they came in: never concatenated
 * and never sliced. The first chunk is read from an offset, so reading a piece makes no view of
 * it (a heap object per piece kept the garbage collector taking fresh, page-faulting blocks;
 * docs/DESIGN-NOTES.md). A chunk fed whole (a socket read's own buffer) is released once it has
 * been read to its end and nothing handed out refers to it any more (read-buffers.ts).
 */

import { releaseBuffer, wholeBufferOf } from "./read-buffers.ts";
import { readU32 } from "./u32.ts";

export class ChunkQueue {
  /** Unread bytes in all. */
  bytes = 0;
  private chunks: Uint8Array[] = [];
  /** Per chunk: its buffer, to release once read, for a chunk fed whole while releasing. */
  private wholes: Array<ArrayBuffer | undefined> = [];
  /** Bytes of the first chunk already read. */
  private offset = 0;
  /** Whole chunks read to their end, to release at the next `releaseSpent`. */
  private readonly spent: ArrayBuffer[] = [];

  /** @param releasing - chunks fed whole are the queue's, released once read (Connection.freshChunks) */
  constructor(public releasing = false) {}

  /** Appends a chunk (a view: it must not change until it has been read). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.wholes.push(this.releasing ? wholeBufferOf(chunk) : undefined);
    this.bytes += chunk.length;
  }

  /** The first chunk and where its unread bytes start (there must be one). */
  get head(): Uint8Array {
    return this.chunks[0] as Uint8Array;
  }

  get headOffset(): number {
    return this.offset;
  }

  /** Unread bytes of the first chunk. */
  headBytes(): number {
    return this.head.length - this.offset;
  }

  /** Marks `n` bytes of the first chunk read (at most all of them). */
  advance(n: number): void {
    this.offset += n;
    this.bytes -= n;
    if (this.offset === this.head.length) {
      this.chunks.shift();
      this.offset = 0;
      const whole = this.wholes.shift();
      if (whole) this.spent.push(whole);
    }
  }

  /** The next 4 bytes as a big-endian u32, not read (at least 4 must be there). */
  peekU32(): number {
    if (this.headBytes() >= 4) return readU32(this.head, this.offset);
    let value = 0;
    let i = 0;
    let at = this.offset;
    for (let k = 0; k < 4; k++) {
      let chunk = this.chunks[i] as Uint8Array;
      while (at === chunk.length) {
        chunk = this.chunks[++i] as Uint8Array;
        at = 0;
      }
      value = value * 256 + (chunk[at++] as number);
    }
    return value;
  }

  /** Reads the next `n` bytes: a view when they sit in the first chunk, else one copy. */
  take(n: number): Uint8Array {
    if (this.headBytes() >= n) {
      const out = this.head.subarray(this.offset, this.offset + n);
      this.advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    this.copyInto(out);
    return out;
  }

  /** Reads the next `target.length` bytes into `target`. */
  copyInto(target: Uint8Array): void {
    const n = target.length;
    for (let filled = 0; filled < n; ) {
      const chunk = this.head;
      const part = Math.min(chunk.length - this.offset, n - filled);
      // Byte by byte for the few bytes of a header or a tag (no view); a long run is worth its view.
      if (part > 32) target.set(chunk.subarray(this.offset, this.offset + part), filled);
      else for (let k = 0; k < part; k++) target[filled + k] = chunk[this.offset + k] as number;
      filled += part;
      this.advance(part);
    }
  }

  /** Releases the whole chunks read to their end (nothing may refer to them any more). */
  releaseSpent(): void {
    for (const buffer of this.spent) releaseBuffer(buffer);
    this.spent.length = 0;
  }

  /** Forgets every chunk (releasing the spent ones). */
  clear(): void {
    this.releaseSpent();
    this.chunks = [];
    this.wholes = [];
    this.offset = 0;
    this.bytes = 0;
  }
}
