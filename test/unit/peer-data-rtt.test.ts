/**
 * PeerDataRtt: round trips with the peer's DATA in them stand for the path only as a steady
 * streak (STREAK_SAMPLES in a row, within bandMs of their shortest, spanning STREAK_ROUNDS of it
 * from the first one's write); the streak's shortest is then the round trip.
 */

import { expect, test } from "bun:test";
import { bandMs, GAP_ROUNDS, PeerDataRtt, STREAK_ROUNDS, STREAK_SAMPLES } from "../../src/session/peer-data-rtt.ts";

/** Feeds `samples` (rtt ms, arriving at `at` ms); the results in order. */
function feed(rtt: PeerDataRtt, samples: ReadonlyArray<readonly [number, number]>): Array<number | undefined> {
  return samples.map(([ms, at]) => rtt.sampled(ms, at));
}

test("the band: 2 ms at least, an eighth of the shortest, 16 ms at most", () => {
  expect([bandMs(1), bandMs(16), bandMs(40), bandMs(128), bandMs(400)]).toEqual([2, 2, 5, 16, 16]);
});

test("a steady streak of STREAK_SAMPLES over STREAK_ROUNDS round trips gives its shortest sample, not before", () => {
  expect([STREAK_SAMPLES, STREAK_ROUNDS]).toEqual([8, 4]);
  const rtt = new PeerDataRtt();
  // 40-44 ms samples every 20 ms: the eighth arrives 140 ms after the first, 180 after its write.
  const ms = [42, 40, 44, 41, 43, 42, 41, 43];
  const got = feed(
    rtt,
    ms.map((m, i) => [m, 1_000 + 20 * i] as const),
  );
  expect(got.slice(0, 7)).toEqual(Array(7).fill(undefined));
  expect(got[7]).toBe(40); // the shortest, not the last (43) nor the longest (44)
  expect(rtt.sampled(41, 1_160)).toBe(40); // still standing
});

test("eight steady samples within fewer than STREAK_ROUNDS round trips (from the first one's write) do not stand", () => {
  const rtt = new PeerDataRtt();
  // First written at 1000 - 40 = 960; 4 x 40 ms = 160 ms: the streak stands at 1120, not before.
  const got = feed(
    rtt,
    Array.from({ length: 8 }, (_, i) => [40, 1_000 + 15 * i] as const),
  );
  expect(got).toEqual(Array(8).fill(undefined)); // the eighth at 1105: 145 ms since the first write
  expect(rtt.sampled(40, 1_119)).toBeUndefined();
  expect(rtt.sampled(40, 1_120)).toBe(40);
});

test("one sample out of the band starts a new streak from it", () => {
  const rtt = new PeerDataRtt();
  feed(
    rtt,
    Array.from({ length: 7 }, (_, i) => [40, 1_000 + 30 * i] as const),
  );
  expect(rtt.sampled(40 + bandMs(40) + 0.5, 1_210)).toBeUndefined(); // out: a queue moved
  // The new streak counts from that sample: six more agreeing ones (seven in all) are not enough.
  const again = feed(
    rtt,
    Array.from({ length: 6 }, (_, i) => [46, 1_240 + 30 * i] as const),
  );
  expect(again).toEqual(Array(6).fill(undefined));
  expect(rtt.sampled(46, 1_420)).toBe(45.5);
});

test("a starved loopback's samples, steady but in bursts rounds apart, never stand for a path", () => {
  // Traced (session 11): both CLIs on loopback both ways, each reading ~43 MB/s beside two CPU
  // hogs. Eight samples within the band over 12 of their shortest: without the gap rule they
  // stood for a 47.27 ms path and the window grew past the floor (1.9 MB).
  const traced: Array<readonly [number, number]> = [
    [47.27, 910.6],
    [47.28, 910.9],
    [51.06, 1_096.8],
    [51.31, 1_097.2],
    [48.68, 1_266.9],
    [48.55, 1_267.0],
    [48.43, 1_435.8],
    [48.37, 1_435.9],
  ];
  expect(feed(new PeerDataRtt(), traced)).toEqual(Array(8).fill(undefined));
});

test("a sample more than GAP_ROUNDS of the streak's shortest after the one before it starts a new streak", () => {
  expect(GAP_ROUNDS).toBe(2);
  // 40 ms samples: 80 ms apart keeps the streak (it stands at the eighth)...
  const kept = feed(
    new PeerDataRtt(),
    Array.from({ length: 8 }, (_, i) => [40, 1_000 + 80 * i] as const),
  );
  expect(kept.at(-1)).toBe(40);
  // ...81 ms apart breaks it every time.
  const broken = feed(
    new PeerDataRtt(),
    Array.from({ length: 12 }, (_, i) => [40, 1_000 + 81 * i] as const),
  );
  expect(broken).toEqual(Array(12).fill(undefined));
  // One late sample in a streak: eight more from it are needed.
  const rtt = new PeerDataRtt();
  feed(
    rtt,
    Array.from({ length: 7 }, (_, i) => [40, 1_000 + 30 * i] as const),
  );
  const after = feed(
    rtt,
    Array.from({ length: 8 }, (_, i) => [40, 1_261 + 30 * i] as const),
  );
  expect(after.slice(0, 7)).toEqual(Array(7).fill(undefined));
  expect(after[7]).toBe(40);
});
