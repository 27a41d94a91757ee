/**
 * Deadlines on the mailbox peer that count only connected time (session/mailbox-deadline.ts):
 * a link that goes down stops the clock, its return starts it with what was left; the cancel
 * ends it for good.
 */

import { expect, test } from "bun:test";
import { type MailboxLink, startConnectedDeadline, withinConnectedTime } from "../../src/session/mailbox-deadline.ts";

/** A link the test switches by hand. */
function manualLink(connected: boolean) {
  const listeners = new Set<(change: { connected: boolean }) => void>();
  let up = connected;
  const link: MailboxLink & { set(to: boolean): void } = {
    get connected() {
      return up;
    },
    onConnectedChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(to) {
      up = to;
      for (const l of listeners) l({ connected: to });
    },
  };
  return link;
}

test("time while the link is down does not count: the deadline runs out only after it is back", async () => {
  const link = manualLink(true);
  const deadlineMs = 1_000;
  const expired = Promise.withResolvers<number>();
  const startedAt = performance.now();
  const cancel = startConnectedDeadline(link, deadlineMs, () => expired.resolve(performance.now()));
  let expiredAt: number | undefined;
  void expired.promise.then((at) => (expiredAt = at));
  await Bun.sleep(50);
  link.set(false);
  // Measured, not assumed: a loaded machine may sleep far longer than asked. And measured once
  // the link is down, not before: a pause between the two (a collection, the core taken away)
  // is up time to the deadline, and the check below would ask it to wait that much longer.
  const upMs = performance.now() - startedAt;
  await Bun.sleep(deadlineMs + 200); // down for longer than the whole deadline
  expect(expiredAt, `up for ${upMs} ms before the link went down`).toBeUndefined();
  const backAt = performance.now();
  link.set(true);
  // Only what was left counts from here (a timer never fires early; 5 ms for the clocks' rounding).
  expect((await expired.promise) - backAt).toBeGreaterThanOrEqual(deadlineMs - upMs - 5);
  cancel();
});

test("a deadline started while the link is down waits for it; the cancel ends it", async () => {
  const link = manualLink(false);
  let expired = 0;
  const cancel = startConnectedDeadline(link, 20, () => expired++);
  await Bun.sleep(100);
  expect(expired).toBe(0);
  cancel();
  link.set(true);
  await Bun.sleep(100);
  expect(expired).toBe(0);
});

test("withinConnectedTime: the promise's value when it comes first, the error when time runs out", async () => {
  const link = manualLink(true);
  expect(await withinConnectedTime(link, Promise.resolve("value"), 1_000, () => new Error("late"))).toBe("value");
  const never = new Promise<string>(() => {});
  await expect(withinConnectedTime(link, never, 20, () => new Error("late"))).rejects.toThrow("late");
});
