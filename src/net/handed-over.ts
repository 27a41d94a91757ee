/**
 * HandedOver: the transit race's winning connection (transit.ts), for its next owner. Bytes only.
 */

import type { Connection, ConnectionEvents } from "./connection.ts";
import { EARLY_MAX_BYTES } from "./connection.ts";
import { ForwardingConnection } from "./forwarding-connection.ts";

/**
 * The winning connection, for its next owner: what the peer sent after the handshake (in the read
 * that finished it, and in every read until the owner sets its events) is handed to the owner
 * first, in order, as a SocketConnection hands over what came before its owner: also when the
 * peer closed meanwhile (`closed` is false while it is handed over, so a record layer reads it).
 * More than EARLY_MAX_BYTES before the owner ends the connection, as a SocketConnection's early
 * bytes do; an owner that let go without setting events (end() of a refused channel) holds none.
 */
export class HandedOver extends ForwardingConnection {
  /** Bytes read before the owner set its events; undefined once it has. */
  private held: Uint8Array[] | undefined;
  private heldBytes = 0;
  private replaying = false;
  /** The owner called end() or destroy(): nothing more is handed to it. */
  private released = false;

  constructor(inner: Connection, leftover: Uint8Array) {
    super(inner);
    this.held = leftover.length > 0 ? [leftover] : [];
  }

  /** A read that came before the owner (copied: a chunk is valid only during its call). */
  hold(chunk: Uint8Array): void {
    if (!this.held || this.released) return;
    this.held.push(chunk.slice());
    this.heldBytes += chunk.length;
    if (this.heldBytes > EARLY_MAX_BYTES) this.inner.destroy();
  }

  override get closed(): boolean {
    return this.inner.closed && !this.replaying;
  }

  override end(timeoutMs?: number): void {
    this.released = true;
    this.inner.end(timeoutMs);
  }

  override destroy(): void {
    this.released = true;
    this.inner.destroy();
  }

  override setEvents(events: ConnectionEvents): void {
    const held = this.held ?? [];
    this.held = undefined;
    const closedBefore = this.inner.closed;
    this.replaying = closedBefore;
    try {
      for (const chunk of held) {
        // The owner let go, or the connection closed while it read (it is told so next).
        if (this.released || (this.inner.closed && !closedBefore)) break;
        events.onData(chunk);
      }
    } finally {
      this.replaying = false;
    }
    this.inner.setEvents(events);
  }
}
