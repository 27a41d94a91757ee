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
