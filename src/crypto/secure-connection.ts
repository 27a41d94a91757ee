/**
 * SecureConnection: a Connection whose bytes travel in sealed records (record.ts), slotted
 * between the socket and the frame layer once the handshake has agreed on keys, so that the
 * session above it does not change. A record that does not open closes the connection with
 * "integrity error" (the owner's onClose gets the CryptoError); so does a close in the middle
 * of a record.
 */

import type { Connection, ConnectionEvents } from "../net/index.ts";
import { CryptoError } from "./errors.ts";
import { RecordOpener, RecordSealer } from "./record.ts";

export class SecureConnection implements Connection {
  private readonly sealer: RecordSealer;
  private readonly opener: RecordOpener;
  private failure: CryptoError | undefined;

  /**
   * @param inner - the connection, already past the handshake
   * @param sendKey - 32 bytes for what we send; receiveKey - 32 bytes for what the peer sends
   * @param early - bytes that arrived after the handshake's last frame, in the same chunk
   */
  constructor(
    private readonly inner: Connection,
    sendKey: Uint8Array,
    receiveKey: Uint8Array,
    private readonly early: Uint8Array = new Uint8Array(0),
  ) {
    this.sealer = new RecordSealer(sendKey);
    this.opener = new RecordOpener(receiveKey);
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

  /** Seals `bytes` into one record; `bytes` may be reused as soon as this returns. */
  write(bytes: Uint8Array): void {
    if (this.inner.closed || bytes.length === 0) return;
    this.inner.write(this.sealer.seal(bytes));
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
        if (!this.failure && !this.opener.atRecordBoundary)
          this.failure = new CryptoError("E_AUTH_FAILED", "integrity error");
        this.sealer.destroy();
        this.opener.destroy();
        events.onClose(this.failure ?? error);
      },
    });
    if (this.early.length > 0) this.onData(this.early, events);
  }

  private onData(chunk: Uint8Array, events: ConnectionEvents): void {
    if (this.failure) return;
    let plaintexts: Uint8Array[];
    try {
      plaintexts = this.opener.push(chunk);
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      this.failure = err;
      this.inner.destroy();
      return;
    }
    for (const p of plaintexts) {
      if (this.inner.closed) return;
      events.onData(p);
    }
  }
}
