/** The bench's summary: each case's median MiB/s as a ratio to the baselines run beside it, the encrypted ceiling among them. */

import { expect, test } from "bun:test";
import type { RunResult } from "../../bench/lib/cases.ts";
import { formatTables, summarise } from "../../bench/lib/report.ts";

const usage = {
  userS: 0.1,
  sysS: 0.2,
  minorFaults: 100,
  majorFaults: 0,
  voluntarySwitches: 1,
  involuntarySwitches: 1,
  rssMiB: 10,
};
const run = (name: string, mibps: number): RunResult => ({ case: name, mibps, recv: usage, send: usage });

test("each case is set against raw, raw-sealed (the encrypted ceiling) and socat by median", () => {
  const results = [
    run("raw", 1200),
    run("raw-sealed", 1000),
    run("raw-sealed", 900),
    run("raw-sealed", 800),
    run("socat", 1100),
    run("parley-cli", 450),
  ];
  const [raw, sealed, socat, cli] = summarise(["raw", "raw-sealed", "socat", "parley-cli"], results);
  expect(sealed?.vsSealed).toBe(1);
  expect(cli?.vsSealed).toBeCloseTo(450 / 900, 10);
  expect(cli?.vsSocat).toBeCloseTo(450 / 1100, 10);
  expect(raw?.vsSealed).toBeCloseTo(1200 / 900, 10);
  expect(socat?.vsRaw).toBeCloseTo(1100 / 1200, 10);
  const header = formatTables([raw, sealed, socat, cli].filter((c) => c !== undefined)).split("\n")[0] ?? "";
  expect(header).toContain("x raw-sealed");
});

test("without the ceiling in the run its column is empty, not a ratio", () => {
  const [cli] = summarise(["parley-cli"], [run("parley-cli", 450)]);
  expect(cli?.vsSealed).toBeUndefined();
  const [header, row] = formatTables(cli ? [cli] : [])
    .split("\n")
    .map((line) => line.split(/ {2,}/));
  expect(row?.[header?.indexOf("x raw-sealed") ?? -1]).toBe("-");
});

test("a both-ways case is set against its one-way case of the same run, by median (issue 13: each direction >= 0.45x)", () => {
  const results = [
    run("parley-cli", 800),
    run("parley-cli", 700),
    run("parley-cli", 900),
    run("parley-cli-both-ways", 300),
    run("parley-cli-both-ways", 360),
    run("parley-cli-both-ways", 344),
    run("parley", 1000),
    run("parley-both-ways", 450),
  ];
  const [cli, cliBoth, peer, peerBoth] = summarise(
    ["parley-cli", "parley-cli-both-ways", "parley", "parley-both-ways"],
    results,
  );
  expect(cliBoth?.vsOneWay).toBeCloseTo(344 / 800, 10);
  expect(peerBoth?.vsOneWay).toBeCloseTo(450 / 1000, 10);
  expect(cli?.vsOneWay).toBeUndefined(); // a one-way case has none
  const [header, , row] = formatTables([cli, cliBoth, peer, peerBoth].filter((c) => c !== undefined))
    .split("\n")
    .map((line) => line.split(/ {2,}/));
  expect(row?.[header?.indexOf("x one way") ?? -1]).toBe("0.43");
  // Without its one-way case in the run: no ratio.
  const [alone] = summarise(["parley-cli-both-ways"], [run("parley-cli-both-ways", 300)]);
  expect(alone?.vsOneWay).toBeUndefined();
});

test("the ceiling both ways is set against the ceiling one way (raw-sealed) of the same run", () => {
  const results = [run("raw-sealed", 900), run("raw-sealed-both-ways", 450), run("parley-cli", 600)];
  const [sealed, both, cli] = summarise(["raw-sealed", "raw-sealed-both-ways", "parley-cli"], results);
  expect(both?.vsOneWay).toBeCloseTo(0.5, 10);
  expect(both?.vsSealed).toBeCloseTo(0.5, 10);
  expect(sealed?.vsOneWay).toBeUndefined();
  expect(cli?.vsOneWay).toBeUndefined();
});

test("the CLI cases' slow lines are added up over the runs by where their time went", () => {
  const chatRun = (typing: number, between: number, harness: number): RunResult => ({
    ...run("parley-cli", 700),
    chat: {
      kind: "one way",
      ms: [1, 6, 7],
      lost: 0,
      outOfOrder: 0,
      split: { typedToShown: [1, 6, 6], cliToCli: [0.5, 1, 5], slowHeldBy: { typing, between, harness } },
    },
  });
  const [cli] = summarise(["parley-cli"], [chatRun(1, 1, 0), chatRun(0, 1, 1)]);
  expect(cli?.chat?.slowHeldBy).toEqual({ typing: 1, between: 2, harness: 1 });
  const table = formatTables(cli ? [cli] : []).split("\n");
  const at = table.findIndex((line) => line.startsWith("chat of the CLI cases"));
  expect(table[at]).toContain("over 5 ms held by typing/between/harness");
  expect(table[at + 1]).toMatch(/ {2}1\/2\/1 {2}/);
});

test("a run with no line typed past the transfer's first 100 ms shows '-' in that column, not NaN", () => {
  const quick: RunResult = {
    ...run("parley-cli", 700),
    chat: { kind: "one way", ms: [1, 2], settledMs: [], lost: 0, outOfOrder: 0 },
  };
  const [cli] = summarise(["parley-cli"], [quick]);
  expect(cli?.chat?.settled?.samples).toBe(0);
  const table = formatTables(cli ? [cli] : []).split("\n");
  const row = table[table.findIndex((line) => line.startsWith("chat of the CLI cases")) + 1] as string;
  expect(row).not.toMatch(/NaN|Infinity/);
  expect(row).toMatch(/ {2}0 of 2 {2}- {2}/);
});
