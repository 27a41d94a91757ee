/**
 * PeerDataRtt: round-trip samples with the peer's DATA in them, for SendWindow (send-window.ts).
 * When both sides send, our ACKs come back behind the peer's DATA, so such a sample is the path
 * plus however long the ACK queued behind it: an upper bound on the path's round trip, never a
 * lower one. Both ways on a long path no sample is clean (the peer's DATA never stops), and
 * without these the window stayed at its 512 KiB start: 512 KiB / 44 ms, about 12 MiB/s on the
 * bench's 40 ms path whatever the link could carry.
 *
 * On loopback both ways the same samples are the peer's queue, not a path: megabytes of its
 * DATA ahead of our ACKs read as a long path (5-12 ms, up to 50), and a window sized on them
 * grew to 5x the floor (chat p99 9-12 -> 23-83 ms). What tells the two apart is how steady they
 * are: a path's samples stand within a few ms of one another (traced, 40 ms both ways: p10 41.3,
 * p90 43.6 ms), a queue's go up and down with its depth (loopback: 5.0, 6.1, 10.1, 11.5, 8.9 ms,
 * then under 5). So a streak of STREAK_SAMPLES such samples in a row, spanning STREAK_ROUNDS of
 * its own shortest, all within `bandMs` of that shortest, stands for the path: the streak's
 * shortest is then the round trip (still an upper bound; any later sample under it lowers it,
 * and one under SendWindow's 5 ms still shows a short path).
 *
 * And a path's samples come every round trip: while the window is in use each ACK frees room for
 * the next frame, whose ACK comes a round trip later (traced, 40 ms both ways: the next sample
 * at most 1.06 of the shortest later). A starved loopback's come in bursts far apart: two hogs
 * beside both sides reading at ~43 MB/s, a streak of 47.3-51.3 ms samples in pairs 170-186 ms
 * apart (3.5-8.8 of its shortest) stood for a 47 ms path and grew a window past the floor (1.9
 * MB). So a sample more than GAP_ROUNDS of the streak's shortest after the one before it starts
 * a new streak.
 *
 * Pure bookkeeping: SendWindow passes each sample and the clock.
 */

/** Samples in a row that must agree... */
export const STREAK_SAMPLES = 8;
/** ...over at least this many of their shortest round trip. */
export const STREAK_ROUNDS = 4;
/** A sample this many of the streak's shortest after the one before it breaks the streak. */
export const GAP_ROUNDS = 2;
const BAND_MIN_MS = 2;
const BAND_MAX_MS = 16;

/** How far above the streak's shortest sample `minMs` a sample may stand and still agree, ms. */
export function bandMs(minMs: number): number {
  return Math.min(BAND_MAX_MS, Math.max(BAND_MIN_MS, minMs / 8));
}

export class PeerDataRtt {
  private count = 0;
  private startedAt = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;
  private lastAt = 0;

  /**
   * A round trip `rttMs` with the peer's DATA in it, ending `now`.
   * @returns the streak's shortest round trip once the streak stands for the path, else undefined
   */
  sampled(rttMs: number, now: number): number | undefined {
    const min = Math.min(this.min, rttMs);
    const max = Math.max(this.max, rttMs);
    const late = now - this.lastAt > GAP_ROUNDS * min;
    this.lastAt = now;
    if (this.count === 0 || max > min + bandMs(min) || late) {
      // The first, one that disagrees (a queue's depth moved) or one long after the one before it
      // (ACKs in bursts, not a round trip's clock): a new streak from this sample.
      this.count = 1;
      this.startedAt = now - rttMs; // from the write of its frame: the span covers its round trip
      this.min = rttMs;
      this.max = rttMs;
      return undefined;
    }
    this.count++;
    this.min = min;
    this.max = max;
    if (this.count >= STREAK_SAMPLES && now - this.startedAt >= STREAK_ROUNDS * min) return min;
    return undefined;
  }
}
