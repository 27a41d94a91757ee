/**
 * QuietWatch: notices that something has been quiet too long (a plain peer sending nothing, a
 * receiver taking nothing or never acking) with one timer, however often it is stamped.
 * Stamping only records the time; the timer, when it fires, arms itself again for what is left
 * of the limit, or calls `quiet` once the limit has passed since the last stamp. No timer per
 * record or per write.
 */

import type { Clock, TimerHandle } from "./clock.ts";

export class QuietWatch {
  private lastAt: number;
  private timer: TimerHandle | undefined;
  private stopped = false;

  /**
   * Quiet from now; the timer starts with `start`.
   * @param limitMs - how long quiet may last, asked at each look (a sender waits for an ack longer than for its bytes to be taken)
   * @param quiet - called once, with the limit that passed
   * @param look - called first at each look: a stamp it makes counts
   */
  constructor(
    private readonly clock: Clock,
    private readonly limitMs: () => number,
    private readonly quiet: (limitMs: number) => void,
    private readonly look?: () => void,
  ) {
    this.lastAt = clock.now();
  }

  /** Arms the timer: the first look after `firstLookMs` (the limit now, unless said). */
  start(firstLookMs = this.limitMs()): void {
    this.timer = this.clock.setTimeout(() => this.check(), firstLookMs);
  }

  /** Not quiet now. */
  stamp(): void {
    this.lastAt = this.clock.now();
  }

  /** No more looks. */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private check(): void {
    if (this.stopped) return;
    this.look?.();
    const limit = this.limitMs();
    const quietMs = this.clock.now() - this.lastAt;
    if (quietMs < limit) {
      this.timer = this.clock.setTimeout(() => this.check(), limit - quietMs);
      return;
    }
    this.stopped = true;
    this.quiet(limit);
  }
}
