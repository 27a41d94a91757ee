/**
 * When the bytes of what a MailboxSocket sent have left: Bun's WebSocket client says no drain,
 * only `bufferedAmount` (bytes still in this process), so it is looked at every WRITTEN_POLL_MS
 * while bytes wait. Bytes the kernel took are not seen leaving: on a slow uplink the kernel may
 * still hold what it took at once when this process's share is gone (its send buffer grows with
 * the path: up to tcp_wmem's 4 MiB on loopback, tens of KB on a slow link), so the time those
 * take is reckoned at the rate the rest left.
 */

/** How often the bytes waiting to leave are looked at: far below the mailbox server's 10 s. */
export const WRITTEN_POLL_MS = 50;

/**
 * Hears bytes leave: `waiting` still wait in this process; once 0, `restMs` is how long what
 * the kernel still holds is reckoned to take, at most `maxRestMs`.
 */
export type WrittenListener = (waiting: number, restMs: number) => void;

export class Outflow {
  private poll: ReturnType<typeof setInterval> | undefined;
  private waiting = 0;
  /** Since when bytes wait here; how many the kernel took at once then; how many left since. */
  private backlog: { since: number; held: number; left: number } | undefined;

  /**
   * @param buffered - the socket's bytes waiting in this process (WebSocket.bufferedAmount)
   * @param maxRestMs - the longest `restMs` reckoned
   */
  constructor(
    private readonly buffered: () => number,
    private readonly listener: WrittenListener | undefined,
    private readonly maxRestMs: number,
  ) {}

  /**
   * A message of `size` bytes was just handed to the socket. Returns the bytes waiting here.
   */
  sent(size: number, waitingBefore: number): number {
    const now = this.buffered();
    if (this.backlog) {
      // Bytes that left since the last look are still to be told: the poll sees them go, as
      // only what this send added to those waiting counts as new (set to `now`, a drop to 0
      // before the next look went untold, and the poll ran on until the socket closed).
      this.waiting += Math.max(0, now - waitingBefore);
      return now;
    }
    if (now > 0) {
      this.backlog = { since: performance.now(), held: Math.max(0, waitingBefore + size - now), left: 0 };
      this.poll ??= setInterval(() => this.look(), WRITTEN_POLL_MS);
    }
    this.waiting = now;
    return now;
  }

  /** The socket is gone: nothing more is looked at. */
  stop(): void {
    clearInterval(this.poll);
    this.poll = undefined;
    this.backlog = undefined;
    this.waiting = 0;
  }

  private look(): void {
    const now = this.buffered();
    const left = this.waiting - now;
    this.waiting = now;
    const backlog = this.backlog;
    if (left <= 0 || !backlog) return;
    backlog.left += left;
    if (now > 0) return this.listener?.(now, 0);
    this.stop();
    const rate = backlog.left / Math.max(1, performance.now() - backlog.since); // bytes a ms
    this.listener?.(0, Math.min(this.maxRestMs, backlog.held / rate));
  }
}
