/**
 * When the bytes a mailbox socket sent have left (net/mailbox-outflow.ts), from the socket's
 * bytes waiting in this process, looked at every WRITTEN_POLL_MS: each drop is told; once none
 * wait, what the kernel took at once is reckoned to leave at the rate the rest did, at most
 * maxRestMs. A scripted `buffered` stands for WebSocket.bufferedAmount.
 */

import { expect, test } from "bun:test";
import { Outflow, WRITTEN_POLL_MS } from "../../src/net/mailbox-outflow.ts";

/** An Outflow over a `buffered` the test sets, and what it told. */
function scripted(maxRestMs: number) {
  let buffered = 0;
  const told: Array<{ waiting: number; restMs: number }> = [];
  const drained = Promise.withResolvers<void>();
  const outflow = new Outflow(
    () => buffered,
    (waiting, restMs) => {
      told.push({ waiting, restMs });
      if (waiting === 0) drained.resolve();
    },
    maxRestMs,
  );
  return {
    outflow,
    told,
    drained: drained.promise,
    set: (n: number) => {
      buffered = n;
    },
  };
}

test("a send the kernel took whole: nothing waits, nothing is looked at or told", async () => {
  const s = scripted(10_000);
  expect(s.outflow.sent(1_000, 0)).toBe(0);
  await Bun.sleep(3 * WRITTEN_POLL_MS);
  expect(s.told).toEqual([]);
});

test("bytes leaving are told as they go; once none wait, the kernel's share at the rate the rest left", async () => {
  const s = scripted(10_000);
  s.set(600_000); // of 1,000,000: the kernel took 400,000 at once
  const started = performance.now();
  expect(s.outflow.sent(1_000_000, 0)).toBe(600_000);
  await Bun.sleep(2 * WRITTEN_POLL_MS);
  s.set(300_000);
  await Bun.sleep(2 * WRITTEN_POLL_MS);
  s.set(0);
  await s.drained;
  const elapsed = performance.now() - started;
  expect(s.told.slice(0, -1)).toEqual([{ waiting: 300_000, restMs: 0 }]);
  const last = s.told.at(-1);
  expect(last?.waiting).toBe(0);
  // 600,000 left in about `elapsed`: the 400,000 the kernel holds take about 2/3 of it.
  expect(last?.restMs).toBeGreaterThan(0);
  expect(last?.restMs).toBeLessThanOrEqual((elapsed * 2) / 3 + 1);
});

test("the reckoning is bounded (maxRestMs): a large share at a low rate does not put the answer off for long", async () => {
  const s = scripted(500);
  s.set(999_999); // of 10,000,000: the kernel took 9,000,001 at once, one byte left per poll
  s.outflow.sent(10_000_000, 0);
  await Bun.sleep(2 * WRITTEN_POLL_MS);
  s.set(0);
  await s.drained;
  expect(s.told.at(-1)).toEqual({ waiting: 0, restMs: 500 });
});

test("stop(): nothing more is told", async () => {
  const s = scripted(10_000);
  s.set(500);
  s.outflow.sent(1_000, 0);
  s.outflow.stop();
  s.set(0);
  await Bun.sleep(3 * WRITTEN_POLL_MS);
  expect(s.told).toEqual([]);
});

test("a send after the earlier one's bytes left, before the poll looked: their leaving is still told, and the poll stops", async () => {
  const s = scripted(10_000);
  s.set(500);
  expect(s.outflow.sent(1_000, 0)).toBe(500);
  s.set(0); // those 500 left; then a small send, taken whole, before the poll looked
  expect(s.outflow.sent(10, 0)).toBe(0);
  const late = Bun.sleep(20 * WRITTEN_POLL_MS).then(() => "never told");
  expect(await Promise.race([s.drained.then(() => "told"), late])).toBe("told");
  expect(s.told).toEqual([{ waiting: 0, restMs: expect.any(Number) }]);
  const looks = s.told.length;
  await Bun.sleep(3 * WRITTEN_POLL_MS);
  expect(s.told.length).toBe(looks);
});
