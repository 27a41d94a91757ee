/**
 * SendWindow: how many DATA bytes may be sent but not yet ACKed. A window fixed in bytes caps
 * a long link at window / round trip (1.5 MiB at 40 ms is 37 MiB/s); this one is sized in
 * time instead, from what the ACKs show:
 *
 *   window = clamp(GAIN × maxRate × minRtt, FLOOR, CAP)
 *
 * maxRate: the highest delivery rate (bytes ACKed per second) over the last RATE_MEMORY_MS;
 * minRtt: the shortest time seen from writing a DATA frame to the ACK covering it. A window
 * that is the limit delivers window / RTT, so each round trip it grows by GAIN until the path
 * (or the CPU) is the limit; it then keeps about (GAIN - 1) × RTT of data queued on the way.
 * minRtt is the minimum over the whole session and never rises: samples taken behind a full
 * window include the time that window takes to drain, and letting them in would feed the
 * window its own queue. On loopback (minRtt well under 1 ms) the floor rules, which keeps a
 * chat line's wait behind the data at about a millisecond.
 *
 * Pure bookkeeping: the caller passes the clock; no I/O.
 */

import { WINDOW_BYTES, WINDOW_CAP_BYTES } from "./limits.ts";

/** Growth per round trip while the window is the limit. */
const GAIN = 1.25;
/** A delivery-rate sample spans at least this long (and at least one round trip). */
const MIN_SAMPLE_MS = 2;
/** How long a rate sample counts towards the maximum. */
const RATE_MEMORY_MS = 1_000;
/** DATA frames remembered for RTT samples (more in flight: the oldest are dropped). */
const MAX_TRACKED_FRAMES = 4_096;

export class SendWindow {
  private readonly floor: number;
  private readonly cap: number;
  /** End offsets (running DATA byte count) and send times of frames not yet ACKed. */
  private readonly frameEnds: number[] = [];
  private readonly frameTimes: number[] = [];
  private minRttMs = Number.POSITIVE_INFINITY;
  /** Rate samples, bytes per ms, with when they were taken. */
  private readonly rates: Array<{ readonly at: number; readonly bytesPerMs: number }> = [];
  private sampleStartAt = Number.NaN;
  private sampleStartBytes = 0;
  private size: number;

  /**
   * @param floor - the window never shrinks below this (what loopback needs for full speed)
   * @param cap - nor grows beyond this (in-flight bytes sit in kernel buffers)
   */
  constructor(floor = WINDOW_BYTES, cap = WINDOW_CAP_BYTES) {
    this.floor = floor;
    this.cap = Math.max(cap, floor);
    this.size = floor;
  }

  /** Bytes that may be un-ACKed now. */
  get bytes(): number {
    return this.size;
  }

  /** The shortest round trip seen so far, ms (Infinity before the first ACK of a frame). */
  get minRtt(): number {
    return this.minRttMs;
  }

  /** A DATA frame was written; `sentTotal` is the running count of DATA bytes including it. */
  sent(sentTotal: number, now: number): void {
    if (this.frameEnds.length >= MAX_TRACKED_FRAMES) {
      this.frameEnds.shift();
      this.frameTimes.shift();
    }
    this.frameEnds.push(sentTotal);
    this.frameTimes.push(now);
  }

  /** An ACK arrived: the peer has consumed `ackedTotal` DATA bytes in all. */
  acked(ackedTotal: number, now: number): void {
    // Round trip: from writing the last frame this ACK covers in full to now.
    let coveredAt = Number.NaN;
    while (this.frameEnds.length > 0 && (this.frameEnds[0] as number) <= ackedTotal) {
      this.frameEnds.shift();
      coveredAt = this.frameTimes.shift() as number;
    }
    if (!Number.isNaN(coveredAt)) this.minRttMs = Math.min(this.minRttMs, Math.max(now - coveredAt, 0));

    // Delivery rate over spans of at least one round trip.
    if (Number.isNaN(this.sampleStartAt)) {
      this.sampleStartAt = now;
      this.sampleStartBytes = ackedTotal;
    } else {
      const span = now - this.sampleStartAt;
      const minSpan = Math.max(MIN_SAMPLE_MS, Number.isFinite(this.minRttMs) ? this.minRttMs : 0);
      if (span >= minSpan) {
        this.rates.push({ at: now, bytesPerMs: (ackedTotal - this.sampleStartBytes) / span });
        this.sampleStartAt = now;
        this.sampleStartBytes = ackedTotal;
      }
    }
    while (this.rates.length > 0 && now - (this.rates[0] as { at: number }).at > RATE_MEMORY_MS) this.rates.shift();
    this.resize();
  }

  private resize(): void {
    if (!Number.isFinite(this.minRttMs) || this.rates.length === 0) return;
    let maxRate = 0;
    for (const r of this.rates) maxRate = Math.max(maxRate, r.bytesPerMs);
    const wanted = GAIN * maxRate * this.minRttMs;
    this.size = Math.round(Math.min(this.cap, Math.max(this.floor, wanted)));
  }
}
