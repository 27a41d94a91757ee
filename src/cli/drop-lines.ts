/**
 * "Dropped a connection from ..." lines, rate-limited: a flood of connections that never
 * become the session (idle, garbage, refused) prints the first few of each window one by one,
 * then one summary line per window, never thousands of lines.
 */

import { sanitizeForTerminal } from "../ui/sanitize.ts";

/** A window's length, and how many drops in it are printed one by one. */
export const DROP_WINDOW_MS = 5_000;
export const DROP_LINES_PER_WINDOW = 3;

export interface DropClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

const REAL_CLOCK: DropClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export class DropLines {
  private windowStart = Number.NEGATIVE_INFINITY;
  private printed = 0;
  private held = 0;
  private timer: unknown;

  constructor(
    private readonly print: (line: string) => void,
    private readonly clock: DropClock = REAL_CLOCK,
  ) {}

  dropped(address: string, reason: string): void {
    const now = this.clock.now();
    if (now - this.windowStart >= DROP_WINDOW_MS && this.held === 0) {
      this.windowStart = now;
      this.printed = 0;
    }
    if (this.printed < DROP_LINES_PER_WINDOW) {
      this.printed++;
      this.print(`Dropped a connection from ${address}: ${sanitizeForTerminal(reason)}.`);
      return;
    }
    this.held++;
    this.timer ??= this.clock.setTimeout(() => this.summarize(), this.windowStart + DROP_WINDOW_MS - now);
  }

  /** Prints what is held back, now (at exit). */
  close(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.summarize();
  }

  private summarize(): void {
    this.timer = undefined;
    if (this.held === 0) return;
    const n = this.held;
    this.held = 0;
    this.print(`Dropped ${n} more connection${n === 1 ? "" : "s"} in the last ${DROP_WINDOW_MS / 1000} s.`);
    // A new window begins: its first drops print one by one again.
    this.windowStart = this.clock.now();
    this.printed = 0;
  }
}
