/**
 * ForwardingConnection: a Connection that passes every member through to the one it wraps, for
 * wrappers that change one thing (what the reader sees first, what it is told) and must keep the
 * rest, the optional members included: a wrapper that forgot one would quietly turn its
 * feature off underneath (limitUnsent, expectBytes, pauseReading).
 */

import type { Connection, ConnectionEvents } from "./connection.ts";

export class ForwardingConnection implements Connection {
  constructor(protected readonly inner: Connection) {}

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get queuedBytes(): number {
    return this.inner.queuedBytes;
  }

  get closed(): boolean {
    return this.inner.closed;
  }

  get freshChunks(): boolean | undefined {
    return this.inner.freshChunks;
  }

  write(bytes: Uint8Array): void {
    this.inner.write(bytes);
  }

  limitUnsent(bytes: number): boolean {
    return this.inner.limitUnsent?.(bytes) ?? false;
  }

  expectBytes(bytes: number): void {
    this.inner.expectBytes?.(bytes);
  }

  pauseReading(paused: boolean): void {
    this.inner.pauseReading?.(paused);
  }

  end(timeoutMs?: number): void {
    this.inner.end(timeoutMs);
  }

  destroy(): void {
    this.inner.destroy();
  }

  setEvents(events: ConnectionEvents): void {
    this.inner.setEvents(events);
  }
}
