/**
 * MemoryConnection: a Connection pair in memory with manual delivery, for tests that need to
 * decide the order in which two sides' messages cross (ACCEPT crossing CANCEL, ...). What one
 * end writes waits in its outbox until the test delivers it to the other end.
 */

import type { Connection, ConnectionEvents } from "./connection.ts";

const NO_EVENTS: ConnectionEvents = { onData() {}, onDrain() {}, onClose() {} };

export class MemoryConnection implements Connection {
  /** Written, not yet delivered, oldest first (copies: the writer may reuse its buffer). */
  readonly outbox: Uint8Array[] = [];
  /** Set by memoryPair. */
  peer!: MemoryConnection;
  private events: ConnectionEvents = NO_EVENTS;
  private early: Uint8Array[] | undefined = [];
  private isClosed = false;
  private closeError: Error | undefined;
  /** Ended (FIN sent): the peer closes once it has taken everything. */
  private ending = false;

  constructor(readonly remoteAddress: string) {}

  /** Written bytes count as taken at once (the outbox plays the network, not our queue). */
  get queuedBytes(): number {
    return 0;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(bytes: Uint8Array): void {
    if (this.isClosed || this.ending) return;
    this.outbox.push(bytes.slice());
  }

  end(): void {
    if (this.isClosed) return;
    this.ending = true;
  }

  destroy(): void {
    this.outbox.length = 0;
    this.close();
    this.peer.close();
  }

  setEvents(events: ConnectionEvents): void {
    this.events = events;
    if (this.isClosed) return events.onClose(this.closeError);
    const early = this.early;
    this.early = undefined;
    if (early) for (const chunk of early) if (!this.isClosed) events.onData(chunk);
  }

  /**
   * Hands up to `count` of our written chunks to the peer, in order.
   * @returns how many were delivered
   */
  deliver(count = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < count && this.outbox.length > 0 && !this.peer.isClosed) {
      this.peer.receive(this.outbox.shift() as Uint8Array);
      n++;
    }
    if (this.ending && this.outbox.length === 0) {
      this.close();
      this.peer.close();
    }
    return n;
  }

  private receive(chunk: Uint8Array): void {
    if (this.early) this.early.push(chunk);
    else this.events.onData(chunk);
  }

  private close(error?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeError = error;
    if (!this.early) this.events.onClose(error);
  }
}

/** Two connected ends: what `a` writes, `a.deliver()` hands to `b`, and the other way. */
export function memoryPair(): [MemoryConnection, MemoryConnection] {
  const a = new MemoryConnection("memory:b");
  const b = new MemoryConnection("memory:a");
  a.peer = b;
  b.peer = a;
  return [a, b];
}
