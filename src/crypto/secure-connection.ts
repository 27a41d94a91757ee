/**
 * SecureConnection: the record layer between the socket (net) and the frames (protocol).
 * Every write becomes one record, every record read is handed up as one chunk. Records are
 * plain until the handshake calls `startSealing` / `startOpening` with the keys it agreed on;
 * the session above never knows the difference. A record that does not open closes the
 * connection with "integrity error" (the owner's onClose gets the CryptoError); a close in the
 * middle of a record is a close as any other (the partial record is dropped, never handed up).
 *
 * Nothing is allocated per record on the hot path: records are sealed into one reused
 * scratch buffer and opened into the opener's own buffer (record.ts). So the chunk handed to
 * the owner's onData is valid only during that call (the frame decoder copies control frames
 * and the file sinks write DATA before returning); chunks are never handed up re-entrantly.
 */

import type { Connection, ConnectionEvents } from "../net/index.ts";
import { CryptoError } from "./errors.ts";
import {
  MAX_RECORD_PLAINTEXT_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_TAG_BYTES,
  RecordOpener,
  RecordSealer,
} from "./record.ts";

/** The scratch buffer grows to one whole record at most. */
const SCRATCH_LIMIT = RECORD_HEADER_BYTES + MAX_RECORD_PLAINTEXT_BYTES + RECORD_TAG_BYTES;

export class SecureConnection implements Connection {
  private readonly sealer = new RecordSealer();
  private readonly opener = new RecordOpener();
  private opening = false;
  /** Where records are built while the socket's queue is empty (grown on demand). */
  private scratch: Uint8Array = new Uint8Array(0);
  private failure: CryptoError | undefined;
  /** True while records are being handed up (the plaintext buffer is in use). */
  private delivering = false;

  /** Pauses the inner connection's reading; absent where it cannot (FrameChannel then never defers). */
  readonly pauseReading?: (paused: boolean) => void;

  constructor(private readonly inner: Connection) {
    if (inner.pauseReading) this.pauseReading = (paused) => inner.pauseReading?.(paused);
    // A socket's reads are buffers of their own: each is released once its records are open.
    if (inner.freshChunks) this.opener.releaseReadChunks();
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get queuedBytes(): number {
    return this.inner.queuedBytes;
  }

  get closed(): boolean {
    return this.inner.closed;
  }

  /** Records written from now on are sealed with `key` (32 bytes). */
  startSealing(key: Uint8Array): void {
    this.sealer.setKey(key);
  }

  /** Records read after the current one must be sealed with `key` (32 bytes). */
  startOpening(key: Uint8Array): void {
    this.opener.setKey(key);
    this.opening = true;
  }

  /**
   * Benchmark baseline only (the unsealed case of `bun run bench`): after the handshake, keep
   * the records plain but let them be as large and be delivered as sealed ones would.
   */
  continueUnsealedForBenchmark(): void {
    this.opener.allowLargePlainRecords();
    this.opening = true;
  }

  /**
   * Writes `bytes` as one record, in one write; `bytes` may be reused as soon as this returns.
   * The record is built in a reused scratch buffer while the socket has nothing queued (so no
   * earlier record still points into it), else in a new one.
   */
  write(bytes: Uint8Array): void {
    if (this.inner.closed || bytes.length === 0) return;
    if (this.inner.queuedBytes > 0) {
      this.inner.write(this.sealer.seal(bytes));
      return;
    }
    const needed = this.sealer.recordBytes(bytes.length);
    if (this.scratch.length < needed && needed <= SCRATCH_LIMIT) this.scratch = new Uint8Array(needed);
    this.inner.write(this.sealer.seal(bytes, this.scratch));
  }

  limitUnsent(bytes: number): boolean {
    return this.inner.limitUnsent?.(bytes) ?? false;
  }

  end(timeoutMs?: number): void {
    this.inner.end(timeoutMs);
  }

  destroy(): void {
    this.inner.destroy();
  }

  setEvents(events: ConnectionEvents): void {
    this.inner.setEvents({
      onData: (chunk) => this.onData(chunk, events),
      onDrain: () => events.onDrain(),
      onClose: (error) => {
        // A close in the middle of a record drops what came of it (nothing of a record goes up
        // before its tag is checked) and is a lost connection as any other: a peer killed between
        // the two parts of a short write, not tampered bytes (a cut at a record's end is no safer).
        this.sealer.destroy();
        this.opener.destroy();
        events.onClose(this.failure ?? error);
      },
    });
  }

  private onData(chunk: Uint8Array, events: ConnectionEvents): void {
    if (this.failure) return;
    this.opener.feed(chunk);
    // Bytes that arrive while a record is being handled (a connection that delivers
    // synchronously) wait in the opener: opening them now would overwrite the record in use.
    if (this.delivering) return;
    this.delivering = true;
    try {
      this.deliverRecords(events);
    } finally {
      this.delivering = false;
    }
    // Until the record begun is whole nothing can go up: the socket may wait for all of it.
    if (!this.inner.closed && !this.failure) this.inner.expectBytes?.(this.opener.bytesAwaited);
  }

  private deliverRecords(events: ConnectionEvents): void {
    // One record at a time: handling one may set the receive key for the next.
    for (;;) {
      // A record handled below may have closed the connection (and wiped the opener).
      if (this.inner.closed || this.failure) return;
      let parts: Uint8Array[] | undefined;
      try {
        parts = this.opener.nextParts();
      } catch (err) {
        if (!(err instanceof CryptoError)) throw err;
        this.failure = err;
        this.inner.destroy();
        return;
      }
      if (parts === undefined) return;
      if (!this.opening) {
        // Plain (handshake) records go up whole, one chunk each: the handshake checks that
        // its last frame ends the record. They are small (MAX_PLAIN_RECORD_BYTES).
        const record = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
        if (record.length > 0) events.onData(record);
        continue;
      }
      for (const part of parts) {
        if (this.inner.closed) return;
        events.onData(part);
      }
    }
  }
}
