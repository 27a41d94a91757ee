/**
 * TransitPipe: transit.py's record pipe on the connection a plain wormhole peer and we agreed on
 * (net/transit.ts did the handshake). Each `send` is one sealed record; each record the peer
 * sends is handed up whole, opened and in order. A record that does not open or comes out of
 * order ends the connection (`closed` with the CryptoError): nothing after it is trusted.
 */

import { CryptoError } from "../crypto/index.ts";
import { releaseBuffer, wholeBufferOf } from "../crypto/read-buffers.ts";
import {
  TRANSIT_RECORD_OVERHEAD,
  TransitRecordOpener,
  TransitRecordSealer,
  transitRecordKeys,
} from "../crypto/transit-records.ts";
import type { Connection, TransitPath } from "../net/index.ts";

export interface TransitPipeEvents {
  /**
   * One record (a view valid only during this call); started with `joined`, the bytes of one
   * or more records in a row instead (a file's stream: fewer, larger pieces).
   */
  record(plain: Uint8Array): void;
  /** Our queue emptied: more records may be sent. */
  drained(): void;
  /** The connection is gone: `error` is a CryptoError for a bad record, else undefined or the socket's. */
  closed(error?: Error): void;
}

const NO_EVENTS: TransitPipeEvents = { record() {}, drained() {}, closed() {} };

export class TransitPipe {
  private readonly sealer: TransitRecordSealer;
  private readonly opener: TransitRecordOpener;
  private events: TransitPipeEvents = NO_EVENTS;
  private failure: Error | undefined;
  private isClosed = false;
  /** The buffer records are sealed into: reused only while the connection has taken every earlier byte. */
  private scratch = new Uint8Array(0);

  /**
   * @param transitKey - derived from the mailbox key (wormholeTransitKey); wiped by the caller
   */
  constructor(
    private readonly conn: Connection,
    transitKey: Uint8Array,
    role: "sender" | "receiver",
    readonly path: TransitPath,
    readonly address: string,
    /** The peer dialed our transit listener (TransitResult.dialedIn). */
    readonly dialedIn = false,
  ) {
    const keys = transitRecordKeys(transitKey, role);
    this.sealer = new TransitRecordSealer(keys.sendKey);
    this.opener = new TransitRecordOpener(keys.receiveKey);
    keys.sendKey.fill(0);
    keys.receiveKey.fill(0);
  }

  /**
   * Starts reading (records that arrived meanwhile come now).
   * @param joined - hand up records joined into runs (TransitRecordOpener.pushJoined), for a file
   */
  start(events: TransitPipeEvents, joined = false): void {
    this.events = events;
    const record = (plain: Uint8Array) => this.events.record(plain);
    this.conn.setEvents({
      onData: (chunk) => {
        if (this.failure) return;
        try {
          if (joined) this.opener.pushJoined(chunk, record);
          else this.opener.push(chunk, record);
        } catch (err) {
          if (!(err instanceof CryptoError)) throw err;
          this.failure = err;
          this.conn.destroy();
        } finally {
          // The opener keeps no view of a read (a record split across reads is copied): a
          // socket's read buffer goes straight back to the allocator, warm for the next read.
          const whole = this.conn.freshChunks ? wholeBufferOf(chunk) : undefined;
          if (whole) releaseBuffer(whole);
        }
      },
      onDrain: () => this.events.drained(),
      onClose: (error) => {
        if (this.isClosed) return;
        this.isClosed = true;
        this.sealer.destroy();
        this.opener.destroy();
        this.events.closed(this.failure ?? error);
      },
    });
  }

  /**
   * Stops (true) or resumes (false) reading the peer's records: the receiver's sink holds back
   * too much (a full output), and TCP's flow control holds the sender back meanwhile.
   */
  pauseReading(paused: boolean): void {
    if (!this.isClosed) this.conn.pauseReading?.(paused);
  }

  /** Bytes waiting in userspace (the sender keeps this small). */
  get queuedBytes(): number {
    return this.conn.queuedBytes;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Seals `plain` as the next records, `recordBytes` of it each (default: one record), and
   * writes them with one write. The buffer they are sealed into is reused while the
   * connection has taken every earlier byte (a sender that waits for `drained` before it sends
   * again never makes a new one).
   */
  send(plain: Uint8Array, recordBytes = plain.length): void {
    if (this.isClosed) return;
    const per = Math.max(1, recordBytes);
    const records = Math.max(1, Math.ceil(plain.length / per));
    const need = plain.length + records * TRANSIT_RECORD_OVERHEAD;
    // The connection keeps a view of what it could not write at once: reuse the buffer only
    // when nothing waits in its queue.
    const out = this.conn.queuedBytes === 0 && this.scratch.length >= need ? this.scratch : new Uint8Array(need);
    let at = 0;
    for (let i = 0; i < records; i++) {
      at += this.sealer.seal(plain.subarray(i * per, (i + 1) * per), out.subarray(at)).length;
    }
    this.scratch = out;
    this.conn.write(out.subarray(0, at));
  }

  /** Flushes and closes. */
  end(): void {
    this.conn.end();
  }

  destroy(): void {
    this.conn.destroy();
  }
}
