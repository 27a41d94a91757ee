import { describe, expect, test } from "bun:test";
import { rateFlag, UsageError } from "../../src/cli/flags.ts";
import { chunkBytesForRate, RateLimiter } from "../../src/session/rate-limiter.ts";

describe("RateLimiter", () => {
  test("a burst goes at once, then sending waits for the rate to pay it back", () => {
    const r = new RateLimiter(1000, 500, 0); // 1000 B/s, 500 B burst
    expect(r.delayMs(0)).toBe(0);
    r.spend(500, 0);
    expect(r.delayMs(0)).toBe(0); // bucket empty, not negative
    r.spend(300, 0);
    expect(r.delayMs(0)).toBe(300); // 300 B owed at 1000 B/s
    expect(r.delayMs(150)).toBe(150);
    expect(r.delayMs(300)).toBe(0);
  });

  test("over a long run the rate holds: 10 s of 100 B frames at 1000 B/s", () => {
    const r = new RateLimiter(1000, 100, 0);
    let now = 0;
    let sent = 0;
    while (now < 10_000) {
      const wait = r.delayMs(now);
      if (wait > 0) now += wait;
      else {
        r.spend(100, now);
        sent += 100;
      }
    }
    expect(sent).toBeGreaterThanOrEqual(9_900);
    expect(sent).toBeLessThanOrEqual(10_200);
  });

  test("an idle time refills at most the burst", () => {
    const r = new RateLimiter(1000, 200, 0);
    r.spend(200, 0);
    r.spend(250, 60_000); // a minute idle: only 200 back
    expect(r.delayMs(60_000)).toBe(50);
  });

  test.each([
    [undefined, 512 * 1024],
    [20 * 1024 * 1024, 512 * 1024],
    [1024 * 1024, 52428],
    [100 * 1024, 5120],
    [1024, 1024],
  ])("chunk size for rate %p is %p", (rate, chunk) => {
    expect(chunkBytesForRate(rate, 512 * 1024)).toBe(chunk);
  });
});

describe("--limit-rate", () => {
  test.each([
    ["20M", 20 * 1024 * 1024],
    ["512k", 512 * 1024],
    ["1G", 1024 ** 3],
    ["1048576", 1048576],
    ["1.5M", 1.5 * 1024 * 1024],
    ["20MiB/s", 20 * 1024 * 1024],
  ])("%s is %p bytes/s", (text, rate) => {
    expect(rateFlag({ "limit-rate": text })).toBe(rate);
  });

  test.each(["", "fast", "0", "100", "-5M", "5T"])("%p is a usage error", (text) => {
    expect(() => rateFlag({ "limit-rate": text })).toThrow(UsageError);
  });

  test("absent means unlimited", () => {
    expect(rateFlag({})).toBeUndefined();
  });

  test("a number too large for a double is a usage error, not an Infinity rate", () => {
    // 0 ms after the last look, Infinity's refill is 0 * Infinity: NaN tokens, and a NaN delay
    // for every frame after it (the bucket never fills again).
    expect(new RateLimiter(Number.POSITIVE_INFINITY, 1024, 0).delayMs(0)).toBeNaN();
    expect(() => rateFlag({ "limit-rate": "9".repeat(400) })).toThrow(UsageError);
    expect(() => rateFlag({ "limit-rate": `${"9".repeat(400)}G` })).toThrow(UsageError);
  });
});
