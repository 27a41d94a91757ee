/**
 * The receiver's side of the send window (session/send-window.ts): the peer's DATA received and
 * consumed, and when an ACK is owed for it (AckCadence), early in a stretch of DATA often, so
 * that a young window hears back. Pure arithmetic; no I/O.
 */

import { ACK_EVERY_BYTES } from "./limits.ts";
import { FRAME_STEP_BYTES, RATE_MEMORY_MS } from "./send-window.ts";

/**
 * The receiver's ACK cadence: every `every` bytes consumed (ACK_EVERY_BYTES, or
 * RELAY_ACK_EVERY_BYTES through a relay with a peer that keeps RELAY_MIN_WINDOW_BYTES), but
 * early in a stretch of DATA every eighth of what it consumed so far (at least
 * FRAME_STEP_BYTES), so a young window (which is smaller than `every`) hears back, often enough
 * to double a round trip (every quarter: about 1.75x, the bytes since the last ACK waiting a
 * round more). Never a deadlock: a blocked young window W = YOUNG_WINDOW_BYTES + YOUNG_GROWTH x
 * acked has at least W owed once all is consumed, which is more than FRAME_STEP_BYTES and more
 * than an eighth of all sent; any other window is at least its short-path minimum (SHORT_MIN_BYTES, or
 * RELAY_MIN_WINDOW_BYTES through a relay), more than `every`, and so is what the scheduler holds
 * DATA un-ACKed to while chatting (CHAT_WINDOW_BYTES, BOTH_WAYS_CHAT_WINDOW_BYTES: a record or more;
 * through a relay RELAY_MIN_WINDOW_BYTES), whatever the frames' size (scheduler.test.ts).
 * A stretch begins with the session and again with DATA that comes after ACK_CADENCE_RESTART_MS
 * without any (the sender goes young again after idling: SendWindow.restartIfIdle).
 * @param consumedInStretch - DATA bytes consumed since the stretch began
 * @param every - the steady cadence, bytes
 */
export function ackThresholdBytes(consumedInStretch: number, every = ACK_EVERY_BYTES): number {
  return Math.min(every, Math.max(FRAME_STEP_BYTES, Math.floor(consumedInStretch / 8)));
}

/**
 * DATA after this long without any begins a new stretch of the receiver's early ACK cadence.
 * Half the sender's idle time: the sender starts young again only after RATE_MEMORY_MS without
 * an ACK, and the last ACK went after the last DATA arrived, so the receiver's gap is longer
 * than the sender's by both trips; whenever the sender is young again, so is the cadence. The
 * other way round (a receiver's longer gap, a sender not young) only costs a few ACKs.
 */
export const ACK_CADENCE_RESTART_MS = RATE_MEMORY_MS / 2;

/**
 * The receiver's counts: the peer's DATA bytes received and consumed, and the ACKs owed for them
 * (a running total, at ackThresholdBytes' cadence). The scheduler writes the ACKs it says are due.
 */
export class AckCadence {
  private receivedTotal = 0;
  private receivedAt = Number.NEGATIVE_INFINITY;
  private consumedBytes = 0;
  private ackedBytes = 0;
  /** Received bytes when the early cadence's stretch began. */
  private stretchStart = 0;

  /** @param every - the steady cadence, bytes (ACK_EVERY_BYTES or RELAY_ACK_EVERY_BYTES) */
  constructor(private readonly every: number) {}

  /** DATA payload bytes received from the peer in all. */
  get receivedBytes(): number {
    return this.receivedTotal;
  }

  /** When the peer's DATA last came (clock ms; -Infinity before any). */
  get lastReceivedAt(): number {
    return this.receivedAt;
  }

  /** `bytes` of the peer's DATA arrived at `now` (after ACK_CADENCE_RESTART_MS without any, a new stretch). */
  received(bytes: number, now: number): void {
    if (now - this.receivedAt >= ACK_CADENCE_RESTART_MS) this.stretchStart = this.receivedTotal;
    this.receivedAt = now;
    this.receivedTotal += bytes;
  }

  /**
   * `bytes` of the peer's DATA were taken.
   * @param now - ACK whatever is owed at once (the end of a transfer)
   * @returns the running total to ACK now, or undefined while none is due
   */
  consumed(bytes: number, now: boolean): number | undefined {
    this.consumedBytes += bytes;
    const owed = this.consumedBytes - this.ackedBytes;
    const inStretch = Math.max(0, this.consumedBytes - this.stretchStart);
    if (owed < ackThresholdBytes(inStretch, this.every) && !(now && owed > 0)) return undefined;
    this.ackedBytes = this.consumedBytes;
    return this.consumedBytes;
  }
}
