/**
 * Clock: the time and timers a session, its scheduler and keepalive use, injected so tests can
 * run them on a manual clock (ManualClock in test/support) instead of waiting.
 */

/** A timer's handle; only the clock that made it can clear it. */
export type TimerHandle = { readonly __timer: unique symbol } | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds, monotonic (performance.now in production). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  /** Runs `fn` after pending I/O (setImmediate). */
  setImmediate(fn: () => void): void;
}

/** The real clock. Interval timers do not keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
  setInterval: (fn, ms) => {
    const handle = setInterval(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval> | undefined),
  setImmediate: (fn) => {
    setImmediate(fn);
  },
};
