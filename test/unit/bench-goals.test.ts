/** Issue 13's goals judged against a bench run's summaries: each bound, its figure, and "not measured" without its cases. */

import { expect, test } from "bun:test";
import type { RunResult } from "../../bench/lib/cases.ts";
import type { FixedCost } from "../../bench/lib/fixed-cost.ts";
import { formatGoals, judgeIssue13 } from "../../bench/lib/goals.ts";
import { summarise } from "../../bench/lib/report.ts";

const usage = (sysS: number, minorFaults: number, rssMiB = 60) => ({
  userS: 0.5,
  sysS,
  minorFaults,
  majorFaults: 0,
  voluntarySwitches: 1,
  involuntarySwitches: 1,
  rssMiB,
});

function run(name: string, mibps: number, extra: Partial<RunResult> = {}): RunResult {
  return { case: name, mibps, recv: usage(0.5, 2000), send: usage(0.5, 2000), ...extra };
}

const lines = (p99: number, max: number) => ({
  kind: "one way" as const,
  ms: [...Array.from({ length: 198 }, () => 1), p99, max],
  lost: 0,
  outOfOrder: 0,
});

interface Overrides {
  cliMibps?: number;
  bothMibps?: number;
  bothChatMax?: number;
  rss?: number;
  fixedCosts?: Record<string, FixedCost>;
}

function verdicts(overrides: Overrides = {}) {
  const results = [
    run("raw", 1700, { recv: usage(0.4, 2000), send: usage(0.4, 1500) }),
    run("raw-sealed", 1000),
    run("socat", 1500),
    run("parley", 500, { transferFaults: { send: 2500, recv: 2900 } }),
    run("parley-cli", overrides.cliMibps ?? 820, {
      recv: usage(0.58, 6000, overrides.rss),
      send: usage(0.66, 7000),
      chat: lines(4.5, 6),
    }),
    run("parley-cli-both-ways", overrides.bothMibps ?? 300, { chat: lines(4.9, overrides.bothChatMax ?? 9) }),
  ];
  const cases = summarise(["raw", "raw-sealed", "socat", "parley", "parley-cli", "parley-cli-both-ways"], results);
  return judgeIssue13({
    cases,
    startupMedianMs: 35,
    ...(overrides.fixedCosts ? { fixedCosts: overrides.fixedCosts } : {}),
    longLink: { vsSocat: 0.93, chatOverEcho: { p50Ms: 1.7, p99AfterFirstSecondMs: 7.2, met: true } },
  });
}

const find = (vs: ReturnType<typeof verdicts>, words: string) => vs.find((v) => v.goal.includes(words));

test("each goal gets the figure this run measured for it and its verdict", () => {
  const vs = verdicts();
  expect(find(vs, "x socat")?.met).toBe(false); // 820 / 1500 = 0.55x
  expect(find(vs, "raw-sealed")).toMatchObject({ measured: "0.82x", met: true });
  expect(find(vs, "sender's page faults")).toMatchObject({ measured: "2500", met: true });
  expect(find(vs, "receiver's page faults")).toMatchObject({ measured: "1.45x", met: true }); // 2900 / 2000
  expect(find(vs, "kernel time")).toMatchObject({ measured: "1.65x", met: false }); // sender 0.66 / 0.4
  expect(find(vs, "chat one way")?.met).toBe(true);
  expect(find(vs, "chat both ways")?.met).toBe(true);
  expect(find(vs, "each direction")).toMatchObject({ measured: "0.37x", met: false }); // 300 / 820
  expect(find(vs, "Listening on")?.met).toBe(true);
  expect(find(vs, "long link >=")?.met).toBe(true);
  expect(find(vs, "long link chat")).toMatchObject({ measured: "+1.7 / +7.2 ms", met: true });
});

test("each bound is judged at its edge: the ceiling ratio, a chat line's max, both ways' ratio, RSS", () => {
  expect(find(verdicts({ cliMibps: 790 }), "raw-sealed")?.met).toBe(false);
  expect(find(verdicts({ bothChatMax: 21 }), "chat both ways")?.met).toBe(false);
  expect(find(verdicts({ bothChatMax: 20 }), "chat both ways")?.met).toBe(true);
  expect(find(verdicts({ bothMibps: 369, cliMibps: 820 }), "each direction")?.met).toBe(true); // 0.45x
  expect(find(verdicts({ rss: 129 }), "peak RSS")).toMatchObject({ measured: "129 MiB", met: false });
});

const fixed = (sysS: number): FixedCost => ({
  recv: { userS: 0.1, sysS, minorFaults: 1000 },
  send: { userS: 0.1, sysS, minorFaults: 1000 },
});

test("kernel time a GiB: each side's system time less its fixed cost, against the raw pump's the same way", () => {
  const restated = "kernel time a GiB";
  // Receiver (0.58 - 0.1) / (0.4 - 0.02) = 1.26x, sender (0.66 - 0.1) / (0.4 - 0.02) = 1.47x: the worse side.
  const vs = verdicts({ fixedCosts: { raw: fixed(0.02), "parley-cli": fixed(0.1) } });
  expect(find(vs, restated)).toMatchObject({ measured: "1.47x", met: true });
  expect(find(vs, "kernel time a side")).toMatchObject({ measured: "1.65x", met: false }); // the literal one stays
  // A smaller fixed cost leaves more to the GiB: (0.66 - 0.05) / 0.38 = 1.61x.
  expect(find(verdicts({ fixedCosts: { raw: fixed(0.02), "parley-cli": fixed(0.05) } }), restated)).toMatchObject({
    measured: "1.61x",
    met: false,
  });
  // Not measured: no fixed costs, one case's missing, or a raw run no longer than its fixed part.
  expect(find(verdicts(), restated)).toMatchObject({ measured: "-", met: undefined });
  expect(find(verdicts({ fixedCosts: { raw: fixed(0.02) } }), restated)?.met).toBeUndefined();
  expect(find(verdicts({ fixedCosts: { raw: fixed(0.4), "parley-cli": fixed(0.1) } }), restated)?.met).toBeUndefined();
});

test("goals whose cases did not run are not measured, and the count leaves them out", () => {
  const cases = summarise(["parley-cli"], [run("parley-cli", 700, { chat: lines(3, 4) })]);
  const vs = judgeIssue13({ cases });
  expect(find(vs, "raw-sealed")).toMatchObject({ measured: "-", met: undefined });
  expect(find(vs, "long link chat")?.met).toBeUndefined();
  const text = formatGoals(vs);
  expect(text.split("\n")[0]).toBe("issue 13's goals in this run: 2 of 2 met"); // peak RSS and the one-way chat
  expect(text).toContain("not measured");
});

test("the chat is judged as the harness saw it; the CLIs' own part (typed -> shown) is shown beside, not judged", () => {
  const split = {
    typedToShown: [...Array.from({ length: 199 }, () => 1), 4],
    cliToCli: [1],
    slowHeldBy: { typing: 0, between: 0, harness: 2 },
  };
  const chat = { ...lines(7, 8), split };
  const cases = summarise(["parley-cli"], [run("parley-cli", 700, { chat })]);
  const verdict = find(judgeIssue13({ cases }), "chat one way");
  expect(verdict?.met).toBe(false);
  expect(verdict?.measured).toContain("typed -> shown (the CLIs' part, no harness read) p99 ");
});

test("restated both ways: the CLI both ways against the ceiling both ways of the same run, the ceiling's own ratio beside", () => {
  const results = [run("raw-sealed", 900), run("raw-sealed-both-ways", 450), run("parley-cli-both-ways", 359)];
  const judge = (names: string[]) => find(judgeIssue13({ cases: summarise(names, results) }), "restated: both ways");
  // 359 / 450 = 0.798: just under the edge (shown so, not rounded up onto it); the ceiling's 450 / 900 beside it.
  expect(judge(["raw-sealed", "raw-sealed-both-ways", "parley-cli-both-ways"])).toMatchObject({
    measured: "0.798x (the ceiling both ways: 0.50x its one way)",
    met: false,
  });
  const at = [run("raw-sealed-both-ways", 450), run("parley-cli-both-ways", 360)];
  expect(
    find(
      judgeIssue13({ cases: summarise(["raw-sealed-both-ways", "parley-cli-both-ways"], at) }),
      "restated: both ways",
    ),
  ).toMatchObject({ measured: "0.80x", met: true });
  expect(judge(["parley-cli-both-ways"])).toMatchObject({ measured: "-", met: undefined });
});

test("a figure just past a bound is not rounded onto it: the figure read agrees with the verdict", () => {
  const vs = verdicts({ rss: 128.4 });
  expect(find(vs, "peak RSS")).toMatchObject({ measured: "128.4 MiB", met: false });
  expect(find(verdicts({ rss: 128 }), "peak RSS")).toMatchObject({ measured: "128 MiB", met: true });
});

test("restated both ways without chat lines: that case against the one way without them, the chat cases' verdicts apart", () => {
  const results = [
    run("parley-cli", 600),
    run("parley-cli-both-ways", 200),
    run("parley-cli-no-chat", 800),
    run("parley-cli-both-ways-no-chat", 370),
  ];
  const verdicts = judgeIssue13({
    cases: summarise(
      results.map((r) => r.case),
      results,
    ),
  });
  // 370 / 800 = 0.4625: met, while with chat lines 200 / 600 = 0.33 is not.
  expect(find(verdicts, "restated: both ways without chat lines")).toMatchObject({ measured: "0.46x", met: true });
  expect(find(verdicts, "both ways (the real CLI) each direction")?.met).toBe(false);
  // Without the no-chat cases in the run: not measured.
  const withChatOnly = judgeIssue13({ cases: summarise(["parley-cli", "parley-cli-both-ways"], results.slice(0, 2)) });
  expect(find(withChatOnly, "restated: both ways without chat lines")).toMatchObject({ measured: "-", met: undefined });
});

test("restated chat: the lines typed past the transfer's first 100 ms judged apart; not measured without them", () => {
  // A cold start: the first five lines of 200 slow (6-12 ms), the rest 1-3 ms.
  const ms = [12, 9, 8, 7, 6, ...Array.from({ length: 195 }, (_, i) => 1 + (i % 3))];
  const chat = { ...lines(0, 0), ms, settledMs: ms.slice(5) };
  const cases = summarise(
    ["parley-cli", "parley-cli-both-ways"],
    [
      run("parley-cli", 700, { chat }),
      run("parley-cli-both-ways", 300, { chat: { ...chat, settledMs: [...ms.slice(5, 198), 5.2, 21] } }),
    ],
  );
  const vs = judgeIssue13({ cases });
  expect(find(vs, "chat one way (the real CLI) p99")?.met).toBe(false); // every line: p99 9.0
  expect(find(vs, "restated: chat one way")).toMatchObject({
    measured: "p99 3.00 / max 3.00 ms (0 of 195 lines over 5)",
    met: true,
  });
  expect(find(vs, "restated: chat both ways")?.met).toBe(false); // a settled line of 21 ms: over the max
  const withoutSettled = summarise(["parley-cli"], [run("parley-cli", 700, { chat: lines(3, 4) })]);
  expect(find(judgeIssue13({ cases: withoutSettled }), "restated: chat one way")).toMatchObject({
    measured: "-",
    met: undefined,
  });
});
