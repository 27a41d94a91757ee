/**
 * TcpPathWindow: how many bytes one direction of a TCP connection may have in flight on a long
 * path, as Linux's TCP would allow them, for bench/delay-relay.ts's `tcp` model. Pure
 * bookkeeping (the relay passes the clock and the bytes); no I/O.
 *
 * Why: a relay on loopback that reads everything at once acts as a TCP-splitting proxy. The
 * sender's kernel sees a loopback peer (ACKs within microseconds, no slow start to speak of,
 * no window to fill), so a plain TCP stream through it runs at the relay's own speed from the
 * first byte, while an application window (Parley's) must carry the whole bandwidth-delay
 * product. On a real path of the same round trip both are TCP, end to end:
 *
 * - the congestion window starts at 10 segments (RFC 6928; Linux's TCP_INIT_CWND) and in slow
 *   start grows by the bytes each ACK covers, so it doubles a round trip (RFC 5681). A lossless
 *   path with no bottleneck queue never ends slow start: the window grows until a limit below;
 * - it grows only while it is the limit: Linux counts a slow-start window as limiting while it
 *   is below twice the most that was in flight in the last round (tcp_is_cwnd_limited), so an
 *   application that sends less than the window keeps it at most twice what it used;
 * - what is in flight is bounded by the sender's socket buffer (un-ACKed data stays queued in
 *   it; autotuned up to net.ipv4.tcp_wmem's maximum) and by the receiver's advertised window
 *   (autotuned up to net.ipv4.tcp_rmem's maximum, of which it advertises about half:
 *   tcp_adv_win_scale = 1); the smaller of the two caps the stream at cap / round trip;
 * - after an idle retransmission timeout (tcp_slow_start_after_idle = 1) the window halves for
 *   each one idle, down to the initial window (tcp_cwnd_restart).
 *
 * An ACK comes back one round trip after its bytes were sent (the relay releases them at the
 * far end after half of it, the ACK takes the other half): the ACK clock.
 */

/** A path's TCP limits, in bytes (as on a 1500-byte-MTU path). */
export interface TcpPathLimits {
  /** Bytes in a segment: 1448 on a 1500-byte-MTU path with timestamps. */
  readonly mss: number;
  /** The initial window, segments. */
  readonly initialSegments: number;
  /** The most that may be in flight: min(send buffer cap, advertised receive window cap). */
  readonly capBytes: number;
  /** The path's round trip, ms (for the idle restart's retransmission timeout, and pacing). */
  readonly rttMs: number;
  /**
   * Paced as Linux paces a TCP socket whose congestion control asks for it (BBR, this machine's):
   * bytes leave at most at PACING_SLOW_START_GAIN (PACING_GAIN once the window stopped growing)
   * x the window a round trip, in bursts of at most PACING_BURST_MS of that rate.
   */
  readonly paced?: boolean;
}

/** Linux's tcp_pacing_ss_ratio and tcp_pacing_ca_ratio (200% and 120% of cwnd / srtt). */
export const PACING_SLOW_START_GAIN = 2;
export const PACING_GAIN = 1.2;
/** A paced sender's largest burst, ms of its pacing rate (Linux sizes a TSO burst at ~1 ms). */
export const PACING_BURST_MS = 1;

/** Linux's smallest retransmission timeout (TCP_RTO_MIN), ms: an idle path's RTO is about RTT + this. */
const RTO_MIN_MS = 200;

export class TcpPathWindow {
  private readonly limits: TcpPathLimits;
  private cwnd: number;
  private inFlight = 0;
  private sentTotal = 0;
  private ackedTotal = 0;
  /** A round ends once the bytes sent when it began are ACKed. */
  private roundEnd = 0;
  private maxInFlightThisRound = 0;
  private maxInFlightLastRound = 0;
  private lastSendAt = Number.NEGATIVE_INFINITY;
  /** Pacing: bytes that may leave now, as of `creditAt`. */
  private credit = 0;
  private creditAt = Number.NEGATIVE_INFINITY;

  constructor(limits: TcpPathLimits) {
    this.limits = limits;
    this.cwnd = this.initialWindow;
  }

  private get initialWindow(): number {
    return Math.min(this.limits.mss * this.limits.initialSegments, this.limits.capBytes);
  }

  /** The congestion window now, bytes. */
  get congestionWindow(): number {
    return this.cwnd;
  }

  /** Bytes sent and not yet ACKed. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /**
   * Bytes that may be sent now: the window's room and, paced, what the pace allows.
   * @param lateMs - paced: the caller (a timer) came this late, so the pace would have let that
   *   much more out meanwhile (the burst limit is for a sender that had nothing to send)
   */
  room(now: number, lateMs = 0): number {
    this.restartAfterIdle(now);
    const room = Math.max(0, Math.min(this.cwnd, this.limits.capBytes) - this.inFlight);
    return this.limits.paced ? Math.min(room, Math.floor(this.pacingCredit(now, lateMs))) : room;
  }

  /** Paced: ms from `now` until `bytes` (at most a burst) may leave; 0 when not paced. */
  paceWaitMs(bytes: number, now: number): number {
    if (!this.limits.paced) return 0;
    const wanted = Math.min(bytes, this.burst);
    return Math.max(0, (wanted - this.pacingCredit(now)) / this.pacingRate);
  }

  /** Bytes per ms: the pacing gain x the congestion window a round trip. */
  private get pacingRate(): number {
    const window = Math.min(this.cwnd, this.limits.capBytes);
    const gain = window < this.limits.capBytes ? PACING_SLOW_START_GAIN : PACING_GAIN;
    return (gain * window) / this.limits.rttMs;
  }

  private get burst(): number {
    return Math.max(2 * this.limits.mss, this.pacingRate * PACING_BURST_MS);
  }

  private pacingCredit(now: number, lateMs = 0): number {
    const elapsed = Number.isFinite(this.creditAt) ? now - this.creditAt : Number.POSITIVE_INFINITY;
    // Grows up to a burst (and what a late caller missed), never cut back to it: the credit a
    // late caller was given is spent by sent(), which asks again without the lateness.
    const most = this.burst + Math.max(0, lateMs) * this.pacingRate;
    this.credit = Math.min(Math.max(this.credit, most), this.credit + elapsed * this.pacingRate);
    this.creditAt = now;
    return this.credit;
  }

  sent(bytes: number, now: number): void {
    this.restartAfterIdle(now);
    if (this.limits.paced) this.credit = this.pacingCredit(now) - bytes;
    this.inFlight += bytes;
    this.sentTotal += bytes;
    this.lastSendAt = now;
    this.maxInFlightThisRound = Math.max(this.maxInFlightThisRound, this.inFlight);
  }

  /** `bytes` sent earlier were ACKed (one round trip after they were sent). */
  acked(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
    this.ackedTotal += bytes;
    const usedMost = Math.max(this.maxInFlightThisRound, this.maxInFlightLastRound);
    if (this.cwnd < 2 * usedMost) this.cwnd = Math.min(this.limits.capBytes, this.cwnd + bytes);
    if (this.ackedTotal >= this.roundEnd) {
      this.maxInFlightLastRound = this.maxInFlightThisRound;
      this.maxInFlightThisRound = this.inFlight;
      this.roundEnd = this.sentTotal;
    }
  }

  /** tcp_cwnd_restart: idle (nothing in flight) for RTOs, the window halves per RTO, not below the initial. */
  private restartAfterIdle(now: number): void {
    if (this.inFlight > 0) return;
    const rto = this.limits.rttMs + RTO_MIN_MS;
    const idleRtos = Math.floor((now - this.lastSendAt) / rto);
    if (idleRtos < 1 || !Number.isFinite(idleRtos)) return;
    this.cwnd = Math.max(this.initialWindow, Math.floor(this.cwnd / 2 ** Math.min(idleRtos, 30)));
    this.lastSendAt = now; // counted: the next restart needs another RTO of idleness
  }
}
