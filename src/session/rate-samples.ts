/**
 * RateSamples: the send window's delivery-rate samples (bytes ACKed per ms). A sample spans at
 * least MIN_SAMPLE_MS and at least the path's shortest round trip, from one ACK to a later one
 * (over a shorter span the ACKs' bunching, not the path, sets the rate); each goes into the
 * window's RunningMax, whose highest of the last second sizes the window, its frames and the
 * unsent cap (send-window.ts). Pure bookkeeping: the caller passes the clock.
 */

import type { RunningMax } from "./running-max.ts";

/** A delivery-rate sample spans at least this long (and at least one round trip). */
const MIN_SAMPLE_MS = 5;

export class RateSamples {
  private startAt = Number.NaN;
  private startBytes = 0;

  /** @param rates - where the samples go; SendWindow reads its highest directly */
  constructor(private readonly rates: RunningMax) {}

  /**
   * An ACK: `ackedTotal` bytes ACKed in all at `now`; `minRttMs`, the path's shortest round trip
   * (Infinity while none is known). Expires the old samples, and adds one if the span is long enough.
   */
  acked(ackedTotal: number, now: number, minRttMs: number): void {
    this.rates.expire(now);
    if (Number.isNaN(this.startAt)) {
      this.startAt = now;
      this.startBytes = ackedTotal;
      return;
    }
    const span = now - this.startAt;
    if (span < Math.max(MIN_SAMPLE_MS, Number.isFinite(minRttMs) ? minRttMs : 0)) return;
    const bytesPerMs = (ackedTotal - this.startBytes) / span;
    this.startAt = now;
    this.startBytes = ackedTotal;
    this.rates.add(bytesPerMs, now);
  }

  /** Forgets every sample (the window starts over after idling): the next ACK starts a span. */
  restart(): void {
    this.rates.clear();
    this.startAt = Number.NaN;
  }
}
