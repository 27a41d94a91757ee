/**
 * StartUp: a long path's start-up for SendWindow (send-window.ts). There the window grows by
 * each byte ACKed, as TCP's slow start does (doubling a round trip), to at most
 * STARTUP_GAIN x rate x round trip (`most`), until the delivery rate grew by less than
 * STARTUP_RATE_GROWTH in STARTUP_FLAT_ROUNDS rounds. While the window doubles, the rate shows the
 * window of a round before, half of it: a bound of 2 x that rate held the window flat a round at
 * the floor and again at 2.3 MB on the bench's 40 ms path, so while the last clean round trip
 * shows no queue (less than minRtt / 8 above the path's, within STARTUP_QUEUE_MIN_MS..
 * STARTUP_QUEUE_MAX_MS: HyStart's delay test, RFC 9406) the bound is STARTUP_RATE_LAG times
 * higher; with one it is 2 x the rate, which caps an overshoot into a deep queue at about twice
 * the path's bytes in flight. Not an exit: a round whose round trips all stood that far above
 * the path's ended the start-up in 3 of 12 runs on the loaded bench host, two in its first
 * rounds (the receiver's cold start), at 0.82-0.84x socat (docs/DESIGN-NOTES.md, "The long
 * link", ninth and tenth sessions).
 *
 * Pure bookkeeping: SendWindow passes its samples, rate and totals.
 */

const STARTUP_RATE_GROWTH = 1.25;
const STARTUP_FLAT_ROUNDS = 3;
const STARTUP_GAIN = 2;
const STARTUP_RATE_LAG = 2;
const STARTUP_QUEUE_MIN_MS = 4;
const STARTUP_QUEUE_MAX_MS = 16;

/** How far above the path's round trip `minRttMs` a start-up round trip reads as a queue, ms. */
function queueMs(minRttMs: number): number {
  return Math.min(STARTUP_QUEUE_MAX_MS, Math.max(STARTUP_QUEUE_MIN_MS, minRttMs / 8));
}

export class StartUp {
  /** Starting up (until the rate stops growing). */
  on = true;
  /** The rate it last grew past (bytes per ms), and round trips since. */
  private rate = 0;
  private flatRounds = 0;
  /** This round ends once this many bytes are ACKed (what had been sent when it began). */
  private roundEnd = 0;
  /** The last clean round trip stood a queue's worth above the path's. */
  private lastRttQueued = false;

  /** Starting up again (after idling). */
  restart(): void {
    this.on = true;
    this.rate = 0;
    this.flatRounds = 0;
    this.lastRttQueued = false;
  }

  /** A clean round-trip sample, `minRttMs` the path's shortest (this one included). */
  sampled(rttMs: number, minRttMs: number): void {
    this.lastRttQueued = rttMs > minRttMs + queueMs(minRttMs);
  }

  /**
   * An ACK: when it ends a round (a window's growth shows in the rate a round later: several),
   * the round is judged by the highest delivery rate `rate`.
   */
  acked(ackedTotal: number, sentTotal: number, rate: number, longPath: boolean): void {
    if (ackedTotal < this.roundEnd) return;
    this.roundEnd = sentTotal;
    if (!this.on || !longPath) return;
    if (rate >= this.rate * STARTUP_RATE_GROWTH) {
      this.rate = rate;
      this.flatRounds = 0;
    } else if (++this.flatRounds >= STARTUP_FLAT_ROUNDS) {
      this.on = false;
    }
  }

  /** The most the window may grow to while starting up, bytes (`rate` undefined: no bound). */
  most(rate: number | undefined, minRttMs: number): number {
    const lag = this.lastRttQueued ? 1 : STARTUP_RATE_LAG;
    return lag * STARTUP_GAIN * (rate ?? Number.POSITIVE_INFINITY) * minRttMs;
  }
}
