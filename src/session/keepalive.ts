/**
 * Keepalive: a side that has sent nothing for PING_INTERVAL_MS sends PING; a peer silent for
 * PEER_TIMEOUT_MS is lost. Time comes from the injected Clock.
 */

import type { Clock, TimerHandle } from "./clock.ts";
import { PEER_TIMEOUT_MS, PING_INTERVAL_MS } from "./limits.ts";

export interface KeepaliveHooks {
  /** Time to send a PING (only asked when no control frame is waiting). */
  ping(token: Uint8Array): void;
  /** Nothing from the peer for PEER_TIMEOUT_MS. */
  timedOut(silentMs: number): void;
  /** Whether a PING may go now (nothing else waits to be sent). */
  idle(): boolean;
}

export class Keepalive {
  private lastReceivedAt: number;
  private lastSentAt: number;
  private readonly timer: TimerHandle;

  constructor(
    private readonly clock: Clock,
    private readonly hooks: KeepaliveHooks,
  ) {
    this.lastReceivedAt = clock.now();
    this.lastSentAt = clock.now();
    this.timer = clock.setInterval(() => this.tick(), PING_INTERVAL_MS / 5);
  }

  /** A frame arrived from the peer. */
  heard(): void {
    this.lastReceivedAt = this.clock.now();
  }

  /** We wrote a frame. */
  spoke(): void {
    this.lastSentAt = this.clock.now();
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
  }

  private tick(): void {
    const now = this.clock.now();
    if (now - this.lastReceivedAt > PEER_TIMEOUT_MS) return this.hooks.timedOut(PEER_TIMEOUT_MS);
    if (now - this.lastSentAt >= PING_INTERVAL_MS && this.hooks.idle()) {
      const token = new Uint8Array(8);
      new DataView(token.buffer).setFloat64(0, now);
      this.hooks.ping(token);
    }
  }
}
