/** bench/lib/extras.ts: Parley's long-link chat against the echo of the same round (issue 13's goal restated). */

import { expect, test } from "bun:test";
import { PEER_CHAT_MS } from "../../bench/lib/cases.ts";
import {
  afterFirstSecond,
  chatOverEcho,
  type EchoRun,
  formatChatOverEcho,
  type LongLinkRun,
} from "../../bench/lib/extras.ts";

/** A run's round trips: the first second's lines at `first` ms, 200 more at `rest`, the slowest 5 of them at `tail`. */
function rtts(first: number, rest: number, tail = rest): EchoRun {
  const early = Math.ceil(1000 / PEER_CHAT_MS);
  return { rtts: [...Array(early).fill(first), ...Array(195).fill(rest), ...Array(5).fill(tail)] };
}

function run(p50: number, p99AfterFirstSecond: number): LongLinkRun {
  return { mibps: 80, rttP50: p50, rttP99: 200, rttP99AfterFirstSecond: p99AfterFirstSecond, senderCpuSPerGiB: 2 };
}

test("round by round: Parley's p50 and p99 past the first second less the same round's echo, medians", () => {
  // Round 2's echo had a slow tail past the first second (60 ms): Parley's 66 there is +6.
  const c = chatOverEcho(
    [run(45, 60), run(46, 66), run(47, 90)],
    [rtts(300, 42), rtts(300, 42, 60), rtts(300, 43)],
    40,
  );
  expect(c?.runs).toBe(3);
  expect(c?.p50Ms).toBe(4); // 45-42, 46-42, 47-43: 3, 4, 4
  expect(c?.p99AfterFirstSecondMs).toBe(18); // 60-42, 66-60, 90-43: 18, 6, 47
  expect(c?.met).toBe(false);
  expect(c?.echoAboveGoalRuns).toBe(1); // 60 > 40 + 10; the first second's 300 ms not counted
});

test("met when both medians are within +3 and +10 ms; a round without an echo is left out", () => {
  const c = chatOverEcho([run(44, 50), run(45, 52), run(99, 999)], [rtts(41, 42), rtts(41, 43), { rtts: [] }], 40);
  expect(c?.runs).toBe(2);
  expect(c?.met).toBe(true);
  expect(c?.echoAboveGoalRuns).toBe(0);
  expect(chatOverEcho([run(44, 50)], [], 40)).toBeUndefined();
});

test("past the first second is counted from the transfer's start by each line's send time, not by its index", () => {
  // The echo probe started 200 ms before socat (its lines 0-12 before the transfer): by index its
  // 67th line (sent at 805 ms of the transfer) counted as past the second. A busy sender's late
  // timer, the other way: its 60th line went at 1,030 ms.
  const sentMs = Array.from({ length: 100 }, (_, i) => (i + 1) * PEER_CHAT_MS - 200);
  const run = { rtts: sentMs.map((at) => (at < 1000 ? 90 : 42)), sentMs };
  expect(afterFirstSecond(run)).toEqual(Array(sentMs.filter((at) => at >= 1000).length).fill(42));
  expect(Math.max(...afterFirstSecond({ rtts: run.rtts }))).toBe(90); // by index: 13 of the first second's lines
  const late = { rtts: [50, 60, 70], sentMs: [990, 1_030, 1_045] };
  expect(afterFirstSecond(late)).toEqual([60, 70]);
});

test("the bench line says the margins, the verdict and the echo's own runs above RTT + 10", () => {
  const line = formatChatOverEcho(
    { runs: 2, p50Ms: 3.94, p99AfterFirstSecondMs: 11.8, met: false, echoAboveGoalRuns: 1 },
    40,
  );
  expect(line).toBe(
    "chat over the echo in the same round (median of 2): p50 +3.9 ms, p99 after the first second +11.8 ms " +
      "(goal: within +3 / +10: not met; the echo alone above RTT + 10 = 50 ms after the first second in 1 of 2)",
  );
});
