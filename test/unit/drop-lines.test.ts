/** DropLines (issue 11.4): a flood of dropped connections prints a few lines, then summaries. */

import { expect, test } from "bun:test";
import { DROP_LINES_PER_WINDOW, DROP_WINDOW_MS, type DropClock, DropLines } from "../../src/cli/drop-lines.ts";

function manualClock(): DropClock & { advance(ms: number): void } {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void }> = [];
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimeout: (t) => {
      timers = timers.filter((x) => x !== t);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

test("7,673 drops in 14 s print a few lines and one summary per window", () => {
  const clock = manualClock();
  const lines: string[] = [];
  const drops = new DropLines((l) => lines.push(l), clock);
  for (let ms = 0; ms < 14_000; ms += 2) {
    drops.dropped("127.0.0.1:5555", "not a Parley peer (no greeting)");
    drops.dropped("127.0.0.1:5556", "not a Parley peer (no greeting)");
    clock.advance(2);
  }
  drops.close();
  expect(lines.length).toBeLessThanOrEqual(Math.ceil(14_000 / DROP_WINDOW_MS + 1) * (DROP_LINES_PER_WINDOW + 1));
  expect(lines.filter((l) => l.startsWith("Dropped a connection from"))).toHaveLength(DROP_LINES_PER_WINDOW * 3);
  const summaries = lines.filter((l) => /^Dropped \d+ more connections in the last 5 s\.$/.test(l));
  expect(summaries.length).toBe(3);
  const counted = summaries.reduce((n, l) => n + Number(/\d+/.exec(l)?.[0]), 0);
  expect(counted + DROP_LINES_PER_WINDOW * 3).toBe(7_000 * 2);
});

test("a few drops now and then each get their own line", () => {
  const clock = manualClock();
  const lines: string[] = [];
  const drops = new DropLines((l) => lines.push(l), clock);
  for (let i = 0; i < 5; i++) {
    drops.dropped("127.0.0.1:1", "closed before the greeting");
    clock.advance(DROP_WINDOW_MS);
  }
  drops.close();
  expect(lines).toEqual(Array(5).fill("Dropped a connection from 127.0.0.1:1: closed before the greeting."));
});
