/**
 * RunningMax: the highest of the values added over the last `spanMs` (a delivery rate, say), kept
 * as a short list in which each value is smaller than every one before it: the first is the
 * highest, and a value no larger than a newer one can never be the highest again, so it goes.
 * Pure bookkeeping: the caller passes the clock.
 */

export class RunningMax {
  private readonly samples: Array<{ readonly at: number; readonly value: number }> = [];

  constructor(private readonly spanMs: number) {}

  /** The highest value kept (undefined: none). */
  get highest(): number | undefined {
    return this.samples[0]?.value;
  }

  /** Forgets the values added more than `spanMs` before `now`. */
  expire(now: number): void {
    while (this.samples.length > 0 && now - (this.samples[0] as { at: number }).at > this.spanMs) this.samples.shift();
  }

  /** Adds `value`, seen at `now`. */
  add(value: number, now: number): void {
    while (this.samples.length > 0 && (this.samples.at(-1) as { value: number }).value <= value) this.samples.pop();
    this.samples.push({ at: now, value });
  }

  /** Forgets every value. */
  clear(): void {
    this.samples.length = 0;
  }
}
