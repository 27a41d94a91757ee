/**
 * SendWindow: how many DATA bytes may be sent but not yet ACKed. A window fixed in bytes caps
 * a long link at window / round trip (1.5 MiB at 40 ms is 37 MiB/s); this one is sized in
 * time instead, from what the ACKs show:
 *
 *   window = clamp(maxRate × SHORT_QUEUE_MS, 512 KiB, FLOOR) on a short path (minRtt < GROW_RTT_MS)
 *   window = clamp(gain × pathRate × minRtt, 512 KiB, CAP)   on a long one, in three phases:
 *
 * - start-up: gain 2, so the window doubles a round trip (a round ends with the ACK of what was
 *   in flight when it began) while the delivery rate still grows by a quarter or more a round.
 *   It ends after FULL_ROUNDS rounds without that growth, or at once when a whole round's round
 *   trips stood STANDING_QUEUE above the path's: the path (TCP's own window beneath us, a
 *   bottleneck, the CPU) is full and the rest would only queue;
 * - drain: gain DRAIN_GAIN until no more than pathRate × minRtt is in flight (the start-up's
 *   overshoot, queued in the socket, is delivered; at most DRAIN_MAX_ROUNDS rounds);
 * - cruise: gain 1 with a probe: one round in PROBE_CYCLE's eight at 1.125 (finds a faster
 *   path), the next at 0.875 (takes back the queue that probe left), so about pathRate × minRtt
 *   is in flight and a chat line waits about a round trip, not a standing queue on top of it.
 *   A probe that raised the rate by PROBE_GROWTH means room: back to start-up (a stall on a
 *   busy machine ends start-up early, and 1.125 per eight rounds would take seconds to recover).
 *
 * maxRate (short path): the highest delivery rate (bytes ACKed per span of at least a round
 * trip) over the last RATE_MEMORY_MS; pathRate (long path): the same samples' highest over the
 * last PATH_RATE_ROUNDS round trips, so it follows the path down within a few hundred ms.
 * minRtt: the shortest time seen from writing a DATA frame to the ACK covering it.
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
 * the floor the window grows by at most START_GAIN a round trip: a cold receiver's first round
 * trips are long (file open, JIT) and read as a long path, and going straight to the floor put
 * 1.5 MiB and more ahead of the first chat lines of every transfer (15-28 ms on loopback).
 *
 * Pure bookkeeping: the caller passes the clock and its received-DATA count; no I/O.
 */

import { WINDOW_BYTES, WINDOW_CAP_BYTES } from "./limits.ts";

/** Growth per round trip while the window is still below the floor (a transfer's start). */
const START_GAIN = 2;
/** Long path, start-up: the delivery rate must grow this much a round to go on doubling... */
const STARTUP_GROWTH = 1.25;
/** ...and start-up ends after this many rounds without that growth. */
const FULL_ROUNDS = 3;
/** Long path: a whole round's round trips this far above minRtt (ms, or minRtt / 8 if more) end start-up. */
const STANDING_QUEUE_MS = 5;
/** Long path, drain: the gain until no more than pathRate × minRtt is in flight... */
const DRAIN_GAIN = 0.75;
/** ...for at most this many rounds. */
const DRAIN_MAX_ROUNDS = 3;
/** Long path, cruise: the gain of each round in turn (probe up, take the probe's queue back, hold). */
const PROBE_CYCLE = [1.125, 0.875, 1, 1, 1, 1, 1, 1] as const;
/** Long path, cruise: a probe that raised the delivery rate this much sends it back to start-up. */
const PROBE_GROWTH = 1.1;
/** Long path: pathRate is the highest sample of this many latest rounds. */
const PATH_RATE_ROUNDS = 8;
/** Shortest round trip at which the window grows past the floor. */
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

/** The long path's phase (above). */
type Phase = "startup" | "drain" | "cruise";

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
  private phase: Phase = "startup";
  private phaseRounds = 0;
  /** Start-up: the rate the last growth reached, and rounds since. */
  private fullRate = 0;
  private roundsWithoutGrowth = 0;
  /** Cruise: pathRate when the latest probe round began. */
  private probeBaseRate = Number.POSITIVE_INFINITY;
  /** A path-rate sample was taken in the current round (start-up judges only such rounds). */
  private sampledThisRound = false;
  /** The shortest clean round trip of the current round. */
  private roundMinRtt = Number.POSITIVE_INFINITY;

  /**
   * @param floor - a short path's window stays between SHORT_MIN_BYTES and this; below it any
   *   window at most doubles a round
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
      this.enterPhase("startup");
      this.fullRate = 0;
      this.roundsWithoutGrowth = 0;
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
      const rtt = Math.max(now - covered.sentAt, 0);
      this.minRttMs = Math.min(this.minRttMs, rtt);
      this.roundMinRtt = Math.min(this.roundMinRtt, rtt);
    }
    this.sampleRate(ackedTotal, now);
    if (ackedTotal >= this.roundEnd) {
      this.roundStartSize = this.size;
      this.roundEnd = this.sentTotal;
      this.endRound(now);
    }
    this.resize(now);
  }

  /** Bytes sent and not yet ACKed. */
  private get inFlight(): number {
    return this.sentTotal - this.lastAcked;
  }

  /**
   * The long path's delivery rate: the highest sample of the last PATH_RATE_ROUNDS round trips
   * (the samples are kept in falling order, so the first one that recent is their maximum).
   */
  private pathRate(now: number): number | undefined {
    const since = now - PATH_RATE_ROUNDS * this.minRttMs;
    return this.rates.find((r) => r.at >= since)?.bytesPerMs;
  }

  private enterPhase(phase: Phase): void {
    this.phase = phase;
    this.phaseRounds = 0;
  }

  /** A round ended: the long path's phase moves on (on a short path nothing here is used). */
  private endRound(now: number): void {
    const roundMinRtt = this.roundMinRtt;
    this.roundMinRtt = Number.POSITIVE_INFINITY;
    this.phaseRounds++;
    const sampled = this.sampledThisRound;
    this.sampledThisRound = false;
    const rate = this.pathRate(now);
    if (rate === undefined || !Number.isFinite(this.minRttMs)) return;
    if (this.phase === "startup" && sampled) {
      if (rate >= STARTUP_GROWTH * this.fullRate) {
        this.fullRate = rate;
        this.roundsWithoutGrowth = 0;
      } else {
        this.roundsWithoutGrowth++;
      }
      const standing =
        Number.isFinite(roundMinRtt) && roundMinRtt - this.minRttMs > Math.max(STANDING_QUEUE_MS, this.minRttMs / 8);
      // A queue alone may be the path's own start (TCP's slow start beneath us: the first
      // frames' round trips are several of the path's) or a stall: it ends start-up only past
      // the floor and in a round the rate did not grow.
      const queued = standing && this.size > this.floor && this.roundsWithoutGrowth > 0;
      const full = this.roundsWithoutGrowth >= FULL_ROUNDS || queued;
      if (full) this.enterPhase("drain");
    } else if (this.phase === "drain") {
      if (this.inFlight <= rate * this.minRttMs || this.phaseRounds >= DRAIN_MAX_ROUNDS) this.enterPhase("cruise");
    } else if (this.phase === "cruise") {
      const at = this.cycleRound;
      if (at === 0) this.probeBaseRate = rate; // the probe round begins
      if (at === 2 && rate >= PROBE_GROWTH * this.probeBaseRate) {
        // The probe's ACKs are back and the path carried it: there is room (start-up ended on
        // a stall, or the path got faster). Find how much by doubling again.
        this.fullRate = rate;
        this.roundsWithoutGrowth = 0;
        this.enterPhase("startup");
      }
    }
  }

  /** Cruise: where the current round is in PROBE_CYCLE (the first probe comes two rounds in). */
  private get cycleRound(): number {
    return (this.phaseRounds + PROBE_CYCLE.length - 2) % PROBE_CYCLE.length;
  }

  /** The long path's gain this round. */
  private get longGain(): number {
    if (this.phase === "startup") return START_GAIN;
    if (this.phase === "drain") return DRAIN_GAIN;
    return PROBE_CYCLE[this.cycleRound] as number;
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
    this.sampledThisRound = true;
  }

  private resize(now: number): void {
    const maxRate = this.rates[0]?.bytesPerMs;
    if (maxRate === undefined) return; // no delivery rate yet: the window stays where it is
    let wanted: number;
    if (!Number.isFinite(this.minRttMs) || this.minRttMs < GROW_RTT_MS) {
      // A short path: about SHORT_QUEUE_MS of data at the delivery rate, so a chat line waits
      // about that long behind it whatever the rate (both ways at once halves each side's).
      wanted = Math.min(this.floor, Math.max(SHORT_MIN_BYTES, maxRate * SHORT_QUEUE_MS));
    } else {
      const pathRate = this.pathRate(now);
      if (pathRate === undefined) return; // no sample in the last rounds: stay
      // A long path: the path's bytes in flight (rate × round trip) times this phase's gain.
      const inFlight = this.longGain * pathRate * this.minRttMs;
      wanted = Math.min(this.cap, Math.max(SHORT_MIN_BYTES, inFlight));
    }
    // From below the floor it at most doubles a round (from 512 KiB: the floor after two).
    const most = this.roundStartSize < this.floor ? START_GAIN * this.roundStartSize : wanted;
    this.size = Math.round(Math.min(wanted, most));
  }
}
