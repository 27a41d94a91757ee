/**
 * SendWindow: how many DATA bytes may be sent but not yet ACKed. A window fixed in bytes caps
 * a long link at window / round trip (1.5 MiB at 40 ms is 37 MiB/s); this one is sized in
 * time instead, from what the ACKs show:
 *
 *   window = clamp(GAIN × maxRate × minRtt, FLOOR, CAP)     on a long path (minRtt >= GROW_RTT_MS)
 *   window = clamp(maxRate × SHORT_QUEUE_MS, 512 KiB, FLOOR) on a short one (loopback, a LAN)
 *
 * maxRate: the highest delivery rate (bytes ACKed per second) over the last RATE_MEMORY_MS;
 * minRtt: the shortest time seen from writing a DATA frame to the ACK covering it. A window
 * that is the limit delivers window / RTT, so each round trip it grows by GAIN until the path
 * (or the CPU) is the limit; it then keeps about (GAIN - 1) × RTT of data queued on the way.
 *
 * Round-trip samples must not contain queues, or the window would feed on them:
 * - minRtt is the minimum over the whole session and never rises (samples taken behind a full
 *   window include the time that window takes to drain);
 * - a sample counts only if no DATA arrived from the peer meanwhile: when both sides send,
 *   our ACKs come back behind the peer's DATA, megabytes of it on loopback;
 * - below GROW_RTT_MS the floor already carries 300 MB/s and more, so short paths (loopback,
 *   LANs) never grow past it whatever a noisy sample says; there the window is about 1 ms of
 *   data, so a chat line waits about 1 ms (with both directions busy, each side's rate halves
 *   and so does its window: both-ways chat p99 5.6-11 ms against 9-12 at a fixed floor).
 *
 * A transfer starts (and starts over after an idle second) at SHORT_MIN_BYTES, and while below
 * the floor the window grows by at most START_GAIN a round trip (a round ends with the ACK of
 * what was in flight when it began): a cold receiver's first round trips are long (file open,
 * JIT) and read as a long path, and going straight to the floor put 1.5 MiB and more ahead of
 * the first chat lines of every transfer (15-28 ms on loopback).
 *
 * Pure bookkeeping: the caller passes the clock and its received-DATA count; no I/O.
 */

import { WINDOW_BYTES, WINDOW_CAP_BYTES } from "./limits.ts";

/** Growth per round trip while the window is the limit. */
const GAIN = 1.25;
/** Growth per round trip while the window is still below the floor (a transfer's start). */
const START_GAIN = 2;
/** Shortest round trip at which the window grows past the floor: a long path. */
const GROW_RTT_MS = 5;
/** On a short path the window holds about this much time of data... */
const SHORT_QUEUE_MS = 1;
/** ...but never less than this (a few records: fewer would stall the pipe between ACKs). */
export const SHORT_MIN_BYTES = 512 * 1024;
/** A delivery-rate sample spans at least this long (and at least one round trip). */
const MIN_SAMPLE_MS = 5;
/** How long a rate sample counts towards the maximum; idle longer and the window starts over. */
const RATE_MEMORY_MS = 1_000;
/** DATA frames remembered for RTT samples (more in flight: the oldest are dropped). */
const MAX_TRACKED_FRAMES = 4_096;

interface Frame {
  /** Running DATA byte count once this frame was written. */
  readonly end: number;
  readonly sentAt: number;
  /** The peer's DATA bytes we had received when it was written. */
  readonly receivedMark: number;
}

export class SendWindow {
  private readonly floor: number;
  private readonly cap: number;
  /** Frames not yet ACKed, oldest first. */
  private readonly frames: Frame[] = [];
  private minRttMs = Number.POSITIVE_INFINITY;
  /** Rate samples (bytes per ms), each smaller than every one before it: the first is the maximum. */
  private readonly rates: Array<{ readonly at: number; readonly bytesPerMs: number }> = [];
  private sampleStartAt = Number.NaN;
  private sampleStartBytes = 0;
  private lastAcked = 0;
  private lastAckAt = Number.NEGATIVE_INFINITY;
  private size: number;
  /** The window when the current round began (below the floor it at most doubles a round)... */
  private roundStartSize: number;
  /** ...which ends once this many bytes are ACKed (what had been sent when it began). */
  private roundEnd = 0;
  private sentTotal = 0;

  /**
   * @param floor - a long path's window never shrinks below this once it got there (a short
   *   path's stays between SHORT_MIN_BYTES and it)
   * @param cap - nor grows beyond this (in-flight bytes sit in kernel buffers)
   */
  constructor(floor = WINDOW_BYTES, cap = WINDOW_CAP_BYTES) {
    this.floor = floor;
    this.cap = Math.max(cap, floor);
    this.size = Math.min(SHORT_MIN_BYTES, floor);
    this.roundStartSize = this.size;
  }

  /** Bytes that may be un-ACKed now. */
  get bytes(): number {
    return this.size;
  }

  /** The path reads as long: its shortest clean round trip is GROW_RTT_MS or more. */
  get longPath(): boolean {
    return Number.isFinite(this.minRttMs) && this.minRttMs >= GROW_RTT_MS;
  }

  /** The shortest clean round trip seen so far, ms (Infinity before the first). */
  get minRtt(): number {
    return this.minRttMs;
  }

  /**
   * A DATA frame was written.
   * @param sentTotal - the running count of DATA bytes sent, this frame included
   * @param received - the running count of DATA bytes received from the peer
   */
  sent(sentTotal: number, now: number, received = 0): void {
    if (this.frames.length === 0 && now - this.lastAckAt > RATE_MEMORY_MS) {
      // Idle for a while: what the path delivered then says little now. Start small again.
      this.size = Math.min(SHORT_MIN_BYTES, this.floor);
      this.roundStartSize = this.size;
      this.roundEnd = sentTotal;
      this.rates.length = 0;
      this.sampleStartAt = Number.NaN;
    }
    this.sentTotal = sentTotal;
    if (this.frames.length >= MAX_TRACKED_FRAMES) this.frames.shift();
    this.frames.push({ end: sentTotal, sentAt: now, receivedMark: received });
  }

  /**
   * An ACK arrived.
   * @param ackedTotal - DATA bytes the peer has consumed in all
   * @param received - the running count of DATA bytes received from the peer
   */
  acked(ackedTotal: number, now: number, received = 0): void {
    if (ackedTotal <= this.lastAcked) return; // nothing new (a duplicate ACK)
    this.lastAcked = ackedTotal;
    this.lastAckAt = now;
    // Round trip: from writing the last frame this ACK covers in full to now.
    let covered: Frame | undefined;
    while (this.frames.length > 0 && (this.frames[0] as Frame).end <= ackedTotal) covered = this.frames.shift();
    if (covered && covered.receivedMark === received) {
      this.minRttMs = Math.min(this.minRttMs, Math.max(now - covered.sentAt, 0));
    }
    if (ackedTotal >= this.roundEnd) {
      this.roundStartSize = this.size;
      this.roundEnd = this.sentTotal;
    }
    this.sampleRate(ackedTotal, now);
    this.resize();
  }

  /** Delivery rate over spans of at least one round trip, kept as a running maximum. */
  private sampleRate(ackedTotal: number, now: number): void {
    while (this.rates.length > 0 && now - (this.rates[0] as { at: number }).at > RATE_MEMORY_MS) this.rates.shift();
    if (Number.isNaN(this.sampleStartAt)) {
      this.sampleStartAt = now;
      this.sampleStartBytes = ackedTotal;
      return;
    }
    const span = now - this.sampleStartAt;
    if (span < Math.max(MIN_SAMPLE_MS, Number.isFinite(this.minRttMs) ? this.minRttMs : 0)) return;
    const bytesPerMs = (ackedTotal - this.sampleStartBytes) / span;
    this.sampleStartAt = now;
    this.sampleStartBytes = ackedTotal;
    // A sample no larger than a newer one can never be the maximum again: drop it.
    while (this.rates.length > 0 && (this.rates.at(-1) as { bytesPerMs: number }).bytesPerMs <= bytesPerMs) {
      this.rates.pop();
    }
    this.rates.push({ at: now, bytesPerMs });
  }

  private resize(): void {
    const maxRate = this.rates[0]?.bytesPerMs;
    if (maxRate === undefined) return; // no delivery rate yet: the window stays where it is
    let wanted: number;
    if (!this.longPath) {
      // A short path: about SHORT_QUEUE_MS of data at the delivery rate, so a chat line waits
      // about that long behind it whatever the rate (both ways at once halves each side's).
      wanted = Math.min(this.floor, Math.max(SHORT_MIN_BYTES, maxRate * SHORT_QUEUE_MS));
    } else {
      wanted = Math.min(this.cap, Math.max(this.floor, GAIN * maxRate * this.minRttMs));
    }
    // From below the floor it at most doubles a round (a long path is at the floor after two).
    const most = this.roundStartSize < this.floor ? START_GAIN * this.roundStartSize : wanted;
    this.size = Math.round(Math.min(wanted, most));
  }
}
