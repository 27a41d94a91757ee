/**
 * RateLimiter: a token bucket for `--limit-rate`. The scheduler spends the bytes of each DATA
 * frame it sends and asks how long to wait before the next one. Pure: time comes in as a
 * parameter.
 */

export class RateLimiter {
  private tokens: number;
  private last: number;

  /**
   * @param bytesPerSecond - sustained rate, > 0
   * @param burstBytes - most bytes sent at once after an idle time
   */
  constructor(
    readonly bytesPerSecond: number,
    private readonly burstBytes: number,
    now: number,
  ) {
    this.tokens = burstBytes;
    this.last = now;
  }

  /** Milliseconds to wait before sending more; 0 when sending may go on now. */
  delayMs(now: number): number {
    this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.bytesPerSecond) * 1000);
  }

  /** Records `bytes` sent (the bucket may go below zero: the next delay pays it back). */
  spend(bytes: number, now: number): void {
    this.refill(now);
    this.tokens -= bytes;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}

/**
 * DATA payload per frame under a rate limit: about 1/20 s of data, 1 KiB to `maxChunk`. The
 * chunk is also the burst a start may send at once, so at tiny rates it must be small (with
 * 16 KiB, a 5,000-byte file went out at once under `--limit-rate 1k`).
 */
export function chunkBytesForRate(bytesPerSecond: number | undefined, maxChunk: number): number {
  if (bytesPerSecond === undefined) return maxChunk;
  return Math.max(1024, Math.min(maxChunk, Math.floor(bytesPerSecond / 20)));
}
