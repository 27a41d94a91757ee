/**
 * QueueBound: while we chat on a long path, how many DATA bytes may be un-ACKed so that the
 * queue a chat line waits behind stays short, judged by how far the round trips rise over the
 * path's (a delay-based bound, as TCP Vegas and FAST size a window).
 *
 * Why: past its start-up a long path's window is GAIN x rate x round trip, a quarter more than
 * the path holds, so the path's own window is always full. The surplus waits in Parley and in
 * the kernel's unsent bytes (capped), and a line written then waits behind those bytes for the
 * path's room, which comes back in lumps; a line on a connection of its own never does. Held
 * to the path's bytes in flight plus a little, the path is still full (throughput kept) but the
 * queue ahead of a line is that little. A bound of g x rate x minRtt (session 11) sank below the
 * path over a longer run (the rate it is sized from falls with it); this one is sized from the
 * queue itself, so a bound below the path (no queue: round trips at the path's) grows again.
 *
 * Each round (until the bytes un-ACKed when it began are ACKed) gives its shortest round trip;
 * its rise over the path's shortest (`minRtt`) is the queue that stood all round. Then
 *
 *   bound += rate x (TARGET_QUEUE_MS - rise) / 2,  at most ± bound / STEP_DIVISOR,
 *
 * within [max(floor, rate x minRtt), the window] (that rate: the highest the window gave over
 * the last RATE_MEMORY_MS): the queue settles near TARGET_QUEUE_MS of the rate. It starts (and
 * starts over once we stop chatting, or the peer's DATA comes too) at what is un-ACKed then.
 * Traced on the bench's 40 ms path (docs/DESIGN-NOTES.md, the long link, session 12): a line's
 * wait from its write until the path's relay read it went from 3.2 ms at the median to 0.8.
 *
 * Pure bookkeeping: the scheduler passes the clock, its totals and the window's figures.
 */

import { RunningMax } from "./running-max.ts";

/** The queue the bound aims at, ms of the delivery rate (the shortest round trip's rise over the path's). */
export const TARGET_QUEUE_MS = 0.7;
/** The bound never goes below the highest delivery rate of this long x the path's round trip. */
const RATE_MEMORY_MS = 1_000;
/** A round moves the bound by at most this fraction of it. */
const STEP_DIVISOR = 16;

/** What the send window knows when an ACK arrived. */
export interface PathFigures {
  /** The window (the bound never exceeds it). */
  readonly window: number;
  /** The path's shortest round trip, ms. */
  readonly minRttMs: number;
  /** The highest delivery rate of the last second, bytes per ms (undefined: none yet). */
  readonly rate: number | undefined;
  /** The window's floor (the bound never goes below it). */
  readonly floor: number;
}

export class QueueBound {
  private bound = Number.NaN;
  private roundEnd = 0;
  /** The current round's shortest clean round trip, ms. */
  private roundMinRtt = Number.POSITIVE_INFINITY;
  /** The highest of the window's rates (its own highest of the last second) over RATE_MEMORY_MS. */
  private readonly rates = new RunningMax(RATE_MEMORY_MS);

  /** Bytes that may be un-ACKed (Infinity until it has started). */
  get bytes(): number {
    return Number.isNaN(this.bound) ? Number.POSITIVE_INFINITY : this.bound;
  }

  /** We stopped chatting (or the path changed): the next use starts over. */
  reset(): void {
    this.bound = Number.NaN;
    this.roundMinRtt = Number.POSITIVE_INFINITY;
    this.rates.clear();
  }

  /**
   * An ACK arrived while the bound applies.
   * @param ackedTotal - DATA bytes ACKed in all
   * @param sentTotal - DATA bytes sent in all
   * @param rttMs - this ACK's clean round-trip sample, if it gave one
   */
  acked(ackedTotal: number, sentTotal: number, rttMs: number | undefined, path: PathFigures, now: number): void {
    if (rttMs !== undefined) this.roundMinRtt = Math.min(this.roundMinRtt, rttMs);
    this.remember(path.rate, now);
    if (Number.isNaN(this.bound)) {
      this.bound = Math.min(path.window, Math.max(path.floor, sentTotal - ackedTotal));
      this.startRound(sentTotal);
      return;
    }
    if (ackedTotal < this.roundEnd) return;
    const rate = path.rate;
    if (rate !== undefined && Number.isFinite(this.roundMinRtt) && Number.isFinite(path.minRttMs)) {
      const rise = Math.max(0, this.roundMinRtt - path.minRttMs);
      const most = this.bound / STEP_DIVISOR;
      const step = Math.max(-most, Math.min(most, (rate * (TARGET_QUEUE_MS - rise)) / 2));
      const lowest = Math.max(path.floor, (this.rates.highest ?? rate) * path.minRttMs);
      this.bound = Math.round(Math.min(path.window, Math.max(lowest, this.bound + step)));
    }
    this.startRound(sentTotal);
  }

  /** Keeps the highest rate of the last RATE_MEMORY_MS. */
  private remember(bytesPerMs: number | undefined, now: number): void {
    this.rates.expire(now);
    if (bytesPerMs !== undefined) this.rates.add(bytesPerMs, now);
  }

  private startRound(sentTotal: number): void {
    this.roundEnd = sentTotal;
    this.roundMinRtt = Number.POSITIVE_INFINITY;
  }
}
