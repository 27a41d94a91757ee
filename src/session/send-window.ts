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
 *   our ACKs come back behind the peer's DATA, megabytes of it on loopback; such a sample can
 *   only overstate the round trip, so one under GROW_RTT_MS still says the path is short (both
 *   ways on loopback nearly every sample has the peer's DATA in it: without them the path read
 *   as short only after 0.25-0.75 s, and until then a chatting sender's frames were 16 KiB),
 *   and with no minimum yet only a steady streak of them stands for a long path (peer-data-rtt.ts:
 *   both ways on a long path no sample is clean; a queue's samples are not steady);
 * - below GROW_RTT_MS the floor already carries 300 MB/s and more, so short paths (loopback,
 *   LANs) never grow past it whatever a noisy sample says; there the window is about 1 ms of
 *   data, so a chat line waits about 1 ms (with both directions busy, each side's rate halves
 *   and so does its window: both-ways chat p99 5.6-11 ms against 9-12 at a fixed floor).
 *
 * A transfer starts (and starts over after an idle second) at SHORT_MIN_BYTES, or young (off a
 * short path, with a peer that ACKs early: ack-cadence.ts) at YOUNG_WINDOW_BYTES, growing by each
 * byte ACKed as TCP's slow start (10 segments, + each byte ACKed, while half is in use) but from
 * below it and a little after it (our ACKs come once the peer read the bytes), so a long path's
 * congestion window keeps room for a chat segment (a 512 KiB start handed TCP 5 round trips of
 * data at once: lines waited 200-290 ms on a 40 ms path). On a long path that growth goes on
 * past SHORT_MIN_BYTES and the floor (the start-up: start-up.ts) until the rate stops growing,
 * then the rule above. Otherwise below the
 * floor the window grows by at most START_GAIN a round trip (a round ends with the ACK of what
 * was in flight when it began): a cold receiver's first round trips (file open, JIT) read as a
 * long path, and going straight to the floor put 1.5 MiB ahead of the first lines (15-28 ms).
 *
 * Until a round trip says the path is short, frames and the kernel's unsent bytes are kept in
 * proportion to the window (frameBytes: a quarter of it, unsentCap: a sixteenth, within
 * bounds; while we chat a frame is at most half the unsent cap), so what a chat line may find
 * ahead of it shrinks with the window; a short path drops these limits at its first clean ACK.
 * Round trips of frames written before the first ACK are not sampled: they include the
 * receiver's cold start (JIT, file open), which read as a long path on loopback.
 *
 * Through a relay the short-path minimum is RELAY_MIN_WINDOW_BYTES instead (limits.ts: the
 * relay's cost per ACK; the peer then ACKs every RELAY_ACK_EVERY_BYTES), and once past its start
 * a short path's window is RELAY_WINDOW_BYTES (`shortBytes`: three processes share the cores).
 *
 * Pure bookkeeping: the caller passes the clock and its received-DATA count; no I/O.
 */

import { CHUNK_BYTES, LONG_PATH_UNSENT_BYTES, WINDOW_BYTES, WINDOW_CAP_BYTES } from "./limits.ts";
import { PeerDataRtt } from "./peer-data-rtt.ts";
import type { PathFigures } from "./queue-bound.ts";
import { RateSamples } from "./rate-samples.ts";
import { RunningMax } from "./running-max.ts";
import { StartUp } from "./start-up.ts";

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
/** How long a rate sample counts towards the maximum; idle longer and the window starts over. */
export const RATE_MEMORY_MS = 1_000;
/** DATA frames remembered for RTT samples (more in flight: the oldest are dropped). */
const MAX_TRACKED_FRAMES = 4_096;
/** A young window's start: under TCP's initial 10 segments with a frame of overshoot. */
export const YOUNG_WINDOW_BYTES = 8 * 1024;
/** A young window grows by this much per byte ACKed: TCP's slow start (doubling a round trip). */
const YOUNG_GROWTH = 1;
/** Off a short path frames are a quarter of the window, in steps of this, at least this. */
export const FRAME_STEP_BYTES = 4 * 1024;
/** Off a short path the kernel holds at most a sixteenth of the window unsent, in steps of this, at least this. */
const UNSENT_STEP_BYTES = 16 * 1024;
/**
 * ...and on a long path at most this long at the delivery rate: a chat line waits behind all
 * of it. The socket reads as writable again once half is left, so the sender has half this
 * long to refill it before the path runs dry.
 */
const UNSENT_MS = 6;
/**
 * On a long path a frame is at most this long at the delivery rate (FRAME_STEP_BYTES steps): the
 * first line after a silence waits behind the rest of the frame being written.
 */
const FRAME_MS = 10;

/** `fraction` of `bytes`, rounded down to whole `step`s, within [step, most]. */
export function stepsOf(bytes: number, fraction: number, step: number, most: number): number {
  return Math.min(most, Math.max(1, Math.floor((bytes * fraction) / step)) * step);
}

interface Frame {
  /** Running DATA byte count once this frame was written. */
  readonly end: number;
  readonly sentAt: number;
  /** The peer's DATA bytes we had received when it was written. */
  readonly receivedMark: number;
  /** Written before the first ACK: its round trip holds the receiver's cold start. */
  readonly cold: boolean;
}

export class SendWindow {
  private readonly floor: number;
  private readonly cap: number;
  /**
   * Where a transfer's window starts (and starts over after an idle second; a young one grows
   * to it), and what a short path's window stays at or above (SHORT_MIN_BYTES; more through a
   * relay).
   */
  private readonly startBytes: number;
  /** A short path's window once sized from ACKs is at least this (0: no such minimum). */
  private readonly shortBytes: number;
  /** Frames not yet ACKed, oldest first. */
  private readonly frames: Frame[] = [];
  private minRttMs = Number.POSITIVE_INFINITY;
  /** The last ACK's clean round trip, ms (undefined: it gave none). */
  private sampleMs: number | undefined;
  /** Delivery rate samples (bytes per ms): the highest of the last RATE_MEMORY_MS. */
  private readonly rates = new RunningMax(RATE_MEMORY_MS);
  /** ...taken over spans of a round trip at least (rate-samples.ts). */
  private readonly rateSamples = new RateSamples(this.rates);
  private lastAcked = 0;
  private lastAckAt = Number.NEGATIVE_INFINITY;
  private size: number;
  /** The window when the current round began (below the floor it at most doubles a round)... */
  private roundStartSize: number;
  /** ...which ends once this many bytes are ACKed (what had been sent when it began). */
  private roundEnd = 0;
  private sentTotal = 0;
  /** Growing from YOUNG_WINDOW_BYTES by the bytes ACKed (see the header), until SHORT_MIN_BYTES. */
  private young: boolean;
  /** The peer ACKs early (ack-cadence.ts), so the window may be young (again after idling). */
  private readonly mayBeYoung: boolean;
  /** Bytes ACKed when the window last became young: its growth counts from there. */
  private youngSince = 0;
  /** A long path's start-up (start-up.ts). */
  private readonly startUp = new StartUp();
  /** Round trips with the peer's DATA in them, while no minimum is known (peer-data-rtt.ts). */
  private readonly peerDataRtt = new PeerDataRtt();

  /**
   * @param floor - a long path's window never shrinks below this once it got there (a short
   *   path's stays between SHORT_MIN_BYTES and it)
   * @param cap - nor grows beyond this (in-flight bytes sit in kernel buffers)
   * @param options.shortMinBytes - a short path's smallest window, SHORT_MIN_BYTES unless given
   *   (RELAY_MIN_WINDOW_BYTES through a relay: limits.ts)
   * @param options.shortBytes - once sized from ACKs, a short path's window is at least this,
   *   even above the floor (RELAY_WINDOW_BYTES through a relay); from the start it grows there
   *   as from below the floor, doubling a round at most
   */
  constructor(
    floor = WINDOW_BYTES,
    cap = WINDOW_CAP_BYTES,
    options: { readonly young?: boolean; readonly shortMinBytes?: number; readonly shortBytes?: number } = {},
  ) {
    this.floor = floor;
    this.cap = Math.max(cap, floor);
    this.startBytes = Math.min(options.shortMinBytes ?? SHORT_MIN_BYTES, floor);
    this.shortBytes = Math.min(options.shortBytes ?? 0, this.cap);
    this.mayBeYoung = options.young === true && YOUNG_WINDOW_BYTES < this.startBytes;
    this.young = this.mayBeYoung;
    this.size = this.young ? YOUNG_WINDOW_BYTES : this.startBytes;
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

  /** The path reads as short: its shortest clean round trip is under GROW_RTT_MS. */
  get shortPath(): boolean {
    return this.minRttMs < GROW_RTT_MS;
  }

  /**
   * DATA payload bytes for the next frame: `most` on a short path; else a quarter of the
   * window (at least FRAME_STEP_BYTES), so while the window is young a chat line waits behind
   * a small record, not a whole CHUNK_BYTES one. While we chat (`chatting`), off a short path
   * a frame is also at most half the unsent cap: the socket reads as writable once its unsent
   * bytes fall under half the cap (TCP_NOTSENT_LOWAT), and it takes bytes until they reach the
   * cap, so a frame that size is mostly taken whole and at most half of one waits in userspace
   * ahead of the next line (on the bench's 40 ms path: 4-10 KB at the median, 107-131 KB with
   * 256 KiB frames). Each is a record and a write of its own (the sender's CPU per GiB rose by
   * about a third: docs/DESIGN-NOTES.md, "The long link"), so not while only the file goes.
   * And on a long path a frame is at most FRAME_MS at the highest delivery rate of the last
   * second: a line typed after a silence (not chatting) waits behind the rest of a whole frame,
   * and on a slow path a 256 KiB one was 45 ms of 5.7 MB/s, 210 ms of 1.2. Paths above 26 MB/s
   * keep whole records.
   */
  frameBytes(most = CHUNK_BYTES, chatting = false): number {
    if (this.shortPath) return most;
    let bytes = stepsOf(this.size, 1 / 4, FRAME_STEP_BYTES, most);
    const rate = this.rates.highest;
    if (rate !== undefined && this.longPath) {
      bytes = Math.min(bytes, stepsOf(rate * FRAME_MS, 1, FRAME_STEP_BYTES, most));
    }
    if (!chatting) return bytes;
    return Math.min(bytes, Math.max(FRAME_STEP_BYTES, this.unsentCap / 2));
  }

  /**
   * The most the kernel should hold unsent (TCP_NOTSENT_LOWAT), 0 for no limit: none on a short
   * path; else a sixteenth of the window (UNSENT_STEP_BYTES at least, LONG_PATH_UNSENT_BYTES
   * at most), so it is small from a transfer's first frame until a round trip shows the path;
   * and on a long path no more than UNSENT_MS at the highest delivery rate of the last second.
   * A window never shrinks below its floor (1.5 MiB), so on a slow path a sixteenth of it was
   * many milliseconds of the path: 96 KiB is 8 ms at 12 MB/s (100 Mbit/s), 80 ms at 1.2.
   */
  get unsentCap(): number {
    if (this.shortPath) return 0;
    const ofWindow = stepsOf(this.size, 1 / 16, UNSENT_STEP_BYTES, LONG_PATH_UNSENT_BYTES);
    const rate = this.rates.highest;
    if (rate === undefined || !this.longPath) return ofWindow;
    return Math.min(ofWindow, stepsOf(rate * UNSENT_MS, 1, UNSENT_STEP_BYTES, LONG_PATH_UNSENT_BYTES));
  }

  /** The shortest clean round trip seen so far, ms (Infinity before the first). */
  get minRtt(): number {
    return this.minRttMs;
  }

  /** The last ACK's clean round-trip sample, ms (undefined: it gave none). */
  get lastSample(): number | undefined {
    return this.sampleMs;
  }

  /** What QueueBound (queue-bound.ts) sizes from; undefined until a long path's start-up is over. */
  get pathFigures(): PathFigures | undefined {
    if (!this.longPath || this.startUp.on || this.young) return undefined;
    return { window: this.size, minRttMs: this.minRttMs, rate: this.rates.highest, floor: this.floor };
  }

  /**
   * Starts the window over when nothing is in flight and no ACK came for RATE_MEMORY_MS: what
   * the path delivered then says little now. Young again (off a short path, with a peer that
   * ACKs early), as TCP beneath restarts its own window after idling: a 512 KiB start put its
   * round trips ahead of the first lines. The caller asks before sizing the next frame (the
   * first frame after a pause was a whole CHUNK_BYTES one, sized by the window of before).
   * @returns true when it started over
   */
  restartIfIdle(now: number): boolean {
    if (this.young || this.frames.length > 0 || now - this.lastAckAt <= RATE_MEMORY_MS) return false;
    this.young = this.mayBeYoung && !this.shortPath;
    this.youngSince = this.lastAcked;
    this.size = this.young ? YOUNG_WINDOW_BYTES : this.startBytes;
    this.startRound();
    this.startUp.restart();
    this.rateSamples.restart();
    return true;
  }

  /**
   * A DATA frame was written.
   * @param sentTotal - the running count of DATA bytes sent, this frame included
   * @param received - the running count of DATA bytes received from the peer
   */
  sent(sentTotal: number, now: number, received = 0): void {
    this.sentTotal = sentTotal;
    this.restartIfIdle(now);
    if (this.frames.length >= MAX_TRACKED_FRAMES) this.frames.shift();
    this.frames.push({ end: sentTotal, sentAt: now, receivedMark: received, cold: this.lastAcked === 0 });
  }

  /**
   * An ACK arrived.
   * @param ackedTotal - DATA bytes the peer has consumed in all
   * @param received - the running count of DATA bytes received from the peer
   */
  acked(ackedTotal: number, now: number, received = 0): void {
    if (ackedTotal <= this.lastAcked) return; // nothing new (a duplicate ACK)
    const ackedBefore = this.lastAcked;
    this.lastAcked = ackedTotal;
    this.lastAckAt = now;
    // Round trip: from writing the last frame this ACK covers in full to now.
    let covered: Frame | undefined;
    this.sampleMs = undefined;
    while (this.frames.length > 0 && (this.frames[0] as Frame).end <= ackedTotal) covered = this.frames.shift();
    if (covered && !covered.cold) {
      const rtt = Math.max(now - covered.sentAt, 0);
      if (covered.receivedMark === received) {
        this.sampleMs = rtt;
        this.minRttMs = Math.min(this.minRttMs, rtt);
        this.startUp.sampled(rtt, this.minRttMs);
      } else this.sampledBehindPeerData(rtt, now);
    }
    if (ackedTotal >= this.roundEnd) this.startRound();
    this.rateSamples.acked(ackedTotal, now, this.minRttMs);
    this.startUp.acked(ackedTotal, this.sentTotal, this.rates.highest ?? 0, this.longPath);
    if (this.young && !this.shortPath) {
      const grown = YOUNG_WINDOW_BYTES + YOUNG_GROWTH * (ackedTotal - this.youngSince);
      this.size = Math.min(this.startBytes, Math.round(grown));
      this.young = this.size < this.startBytes;
      this.startRound();
      return;
    }
    if (this.young) {
      // A short path: from here its window is sized as always, from SHORT_MIN_BYTES up (which
      // is also what keeps the usual ACK cadence from stalling it).
      this.young = false;
      this.size = Math.max(this.size, this.startBytes);
      this.startRound();
    }
    this.resize(ackedTotal - ackedBefore, this.sentTotal - ackedBefore);
  }

  /**
   * A round trip with the peer's DATA in it: the path plus the ACK's wait behind that DATA, so
   * only ever above the path's. One under GROW_RTT_MS still shows a short path (both ways at once
   * nearly every sample has the peer's DATA in it), one under a known minimum lowers it; with no
   * minimum yet, a steady streak of them stands for a long path (peer-data-rtt.ts: both ways on
   * a long path no sample is clean), an unsteady one (a queue's depth, as on loopback) for nothing.
   */
  private sampledBehindPeerData(rtt: number, now: number): void {
    if (rtt < GROW_RTT_MS || Number.isFinite(this.minRttMs)) {
      this.minRttMs = Math.min(this.minRttMs, rtt);
      if (this.longPath) this.startUp.sampled(rtt, this.minRttMs);
      return;
    }
    const path = this.peerDataRtt.sampled(rtt, now);
    if (path !== undefined) this.minRttMs = path;
  }

  /** A round begins now: it ends once everything sent so far is ACKed. */
  private startRound(): void {
    this.roundStartSize = this.size;
    this.roundEnd = this.sentTotal;
  }

  /** `newlyAcked`: bytes this ACK covered; `inFlight`: un-ACKed before it. */
  private resize(newlyAcked: number, inFlight: number): void {
    if (this.startUp.on && this.longPath) {
      // As the young window, ACK by ACK (no burst past TCP's own window), while half of it is in
      // use (Linux's test). The rule below grew ~1.2x every second round trip past the floor.
      const most = this.startUp.most(this.rates.highest, this.minRttMs);
      const grown = Math.min(this.size + YOUNG_GROWTH * newlyAcked, Math.max(this.size, this.floor, most));
      if (2 * inFlight >= this.size) this.size = Math.round(Math.min(this.cap, grown));
      return;
    }
    const maxRate = this.rates.highest;
    if (maxRate === undefined) return; // no delivery rate yet: the window stays where it is
    let wanted: number;
    if (!this.longPath) {
      // A short path: about SHORT_QUEUE_MS of data at the delivery rate, so a chat line waits
      // about that long behind it whatever the rate (both ways at once halves each side's).
      // Through a relay at least shortBytes (three processes on the cores: limits.ts).
      wanted = Math.max(this.shortBytes, Math.min(this.floor, Math.max(this.startBytes, maxRate * SHORT_QUEUE_MS)));
    } else {
      wanted = Math.min(this.cap, Math.max(this.floor, GAIN * maxRate * this.minRttMs));
    }
    // From below the floor (or a short path's shortBytes) it at most doubles a round (a long
    // path is at the floor after two).
    const most =
      this.roundStartSize < Math.max(this.floor, this.longPath ? 0 : this.shortBytes)
        ? START_GAIN * this.roundStartSize
        : wanted;
    this.size = Math.round(Math.min(wanted, most));
  }
}
