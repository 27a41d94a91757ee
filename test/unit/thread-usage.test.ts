/**
 * threadUsage (getrusage RUSAGE_THREAD through libc): this thread's own CPU time grows while it
 * computes, and its voluntary context switches while it sleeps. Linux only; elsewhere undefined.
 */

import { expect, test } from "bun:test";
import { threadUsage } from "../../src/transfer/thread-usage.ts";

test.if(process.platform === "linux")("counts this thread's CPU time while it computes and its sleeps", () => {
  const start = threadUsage();
  expect(start).toBeDefined();
  const before = start as NonNullable<typeof start>;
  let x = 0;
  for (let i = 0; i < 2e7; i++) x = (x + i) % 1000003;
  expect(x).toBeGreaterThanOrEqual(0);
  const computed = threadUsage() as NonNullable<typeof start>;
  expect(computed.cpuMs).toBeGreaterThan(before.cpuMs);
  Bun.sleepSync(3);
  const slept = threadUsage() as NonNullable<typeof start>;
  expect(slept.sleeps).toBeGreaterThan(computed.sleeps);
  expect(slept.cpuMs - computed.cpuMs).toBeLessThan(3); // asleep, not computing (generous: the call itself)
});

test.if(process.platform !== "linux")("is undefined where it cannot be read", () => {
  expect(threadUsage()).toBeUndefined();
});
