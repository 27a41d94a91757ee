/**
 * StartUp (src/session/start-up.ts) on its own: when a round trip reads as queued, what bound
 * that gives the window, and when the start-up ends. send-window.test.ts drives it through
 * SendWindow on a path model; there its thresholds, its exit rule and its short-path gate could
 * each be changed without a test failing.
 */

import { describe, expect, test } from "bun:test";
import { StartUp } from "../../src/session/start-up.ts";

/** Bytes per ms (1 MB/s is 1,000 bytes/ms). */
const RATE = 10_000;

/** The bound `most` gives after one clean sample of `rttMs` on a path of `minRttMs`. */
function boundAfter(rttMs: number, minRttMs: number): number {
  const s = new StartUp();
  s.sampled(rttMs, minRttMs);
  return s.most(RATE, minRttMs);
}

describe("StartUp: a queue's worth above the path's round trip", () => {
  test("no queue: the bound is 2 x the rate x 2 (the rate shows half a doubling window)", () => {
    expect(boundAfter(40, 40)).toBe(4 * RATE * 40);
  });

  test("a round trip minRtt/8 above the path's reads as queued: the bound falls to 2 x the rate", () => {
    // 40 ms path: an eighth is 5 ms.
    expect(boundAfter(44.9, 40)).toBe(4 * RATE * 40);
    expect(boundAfter(45.1, 40)).toBe(2 * RATE * 40);
  });

  test("on a short long path the queue is at least 4 ms (an eighth of 10 ms would be 1.25)", () => {
    expect(boundAfter(13.9, 10)).toBe(4 * RATE * 10);
    expect(boundAfter(14.1, 10)).toBe(2 * RATE * 10);
  });

  test("on a very long path the queue is at most 16 ms (an eighth of 200 ms would be 25)", () => {
    expect(boundAfter(215.9, 200)).toBe(4 * RATE * 200);
    expect(boundAfter(216.1, 200)).toBe(2 * RATE * 200);
  });

  test("the last sample decides: a clean one after a queued one lifts the bound again", () => {
    const s = new StartUp();
    s.sampled(60, 40);
    expect(s.most(RATE, 40)).toBe(2 * RATE * 40);
    s.sampled(41, 40);
    expect(s.most(RATE, 40)).toBe(4 * RATE * 40);
  });

  test("no rate yet: no bound", () => {
    expect(new StartUp().most(undefined, 40)).toBe(Number.POSITIVE_INFINITY);
  });
});

/**
 * Rounds of `growth` each: every round ACKs what was sent when it began, at a delivery rate
 * `growth` times the last one's, the session's byte counts going on from `from`.
 * @returns the round at whose end the start-up was over, or 0
 */
function roundsUntilOff(s: StartUp, growth: number, rounds: number, longPath = true, from = 0): number {
  let sent = from + 1_000;
  let acked = from;
  let rate = RATE;
  s.acked(acked, sent, 0, longPath); // the first round begins (no rate yet)
  for (let round = 1; round <= rounds; round++) {
    acked = sent;
    sent *= 2;
    rate *= growth;
    s.acked(acked, sent, rate, longPath);
    if (!s.on) return round;
  }
  return 0;
}

describe("StartUp: it ends once the rate stops growing", () => {
  test("a rate growing by a quarter or more a round keeps it on", () => {
    expect(roundsUntilOff(new StartUp(), 1.25, 40)).toBe(0);
  });

  test("three rounds in a row that grew the rate by less than a quarter end it", () => {
    // The first round's rate is the one to beat; at 1.05x a round the next three stay under
    // 1.25x of it (1.05, 1.10, 1.16).
    expect(roundsUntilOff(new StartUp(), 1.05, 40)).toBe(4);
  });

  test("a round that grows it by a quarter starts the count of flat rounds over", () => {
    const s = new StartUp();
    let sent = 1_000;
    let acked = 0;
    const rounds = [RATE, RATE, RATE, 2 * RATE, 2 * RATE, 2 * RATE];
    s.acked(acked, sent, 0, true);
    for (const [i, rate] of rounds.entries()) {
      acked = sent;
      sent *= 2;
      s.acked(acked, sent, rate, true);
      // Flat after the first (1, 2), grown (reset), flat again (1, 2): never three.
      expect({ round: i, on: s.on }).toEqual({ round: i, on: true });
    }
    acked = sent;
    sent *= 2;
    s.acked(acked, sent, 2 * RATE, true); // the third flat round since the growth
    expect(s.on).toBe(false);
  });

  test("an ACK inside a round does not judge it", () => {
    const s = new StartUp();
    s.acked(0, 1_000, 0, true);
    s.acked(1_000, 2_000, RATE, true); // round 1: the rate to beat
    for (let i = 0; i < 10; i++) s.acked(1_500, 2_000 + i, RATE, true); // inside round 2
    expect(s.on).toBe(true);
  });

  test("off a long path rounds pass without judging (a short path's window is sized otherwise)", () => {
    expect(roundsUntilOff(new StartUp(), 1, 40, false)).toBe(0);
  });

  test("restart: on again, with no rate to beat and no queue read", () => {
    const s = new StartUp();
    expect(roundsUntilOff(s, 1, 40)).toBeGreaterThan(0);
    s.sampled(60, 40);
    s.restart();
    expect(s.on).toBe(true);
    expect(s.most(RATE, 40)).toBe(4 * RATE * 40);
    // Its first round's rate is the one to beat again: three flat rounds after it end it.
    expect(roundsUntilOff(s, 1, 40, true, 1e9)).toBe(4);
  });
});
