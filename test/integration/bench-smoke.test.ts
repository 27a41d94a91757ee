/**
 * A tiny run of `bun run bench` (a few MiB), so the bench keeps working. It asserts the
 * report's shape and that every transfer completed, never a speed.
 */

import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LinesRun } from "../../bench/lib/cli-case.ts";
import { runBenchScript } from "./bench-script.ts";

test("bench runs end to end on a small file and reports every case", async () => {
  const linesDir = mkdtempSync(join(tmpdir(), "bench-lines-"));
  const linesFile = join(linesDir, "lines.jsonl");
  try {
    await smokeRun(linesFile);
  } finally {
    rmSync(linesDir, { recursive: true, force: true });
  }
}, 120_000);

async function smokeRun(linesFile: string): Promise<void> {
  const { out, err, code } = await runBenchScript([
    "bench/run.ts",
    "--size",
    "4M",
    "--runs",
    "1",
    "--files",
    "20",
    "--json",
    "--no-external",
    "--lines",
    linesFile,
  ]);
  expect(code, err).toBe(0);
  const doc = JSON.parse(out);
  const names = doc.cases.map((c: { case: string }) => c.case);
  expect(names).toEqual([
    "raw",
    "raw-sealed",
    "raw-sealed-both-ways",
    "parley-unsealed",
    "parley-unsealed-sha256",
    "parley",
    "parley-sha256",
    "parley-both-ways",
    "parley-cli",
    "parley-cli-both-ways",
    "parley-cli-no-chat",
    "parley-cli-both-ways-no-chat",
  ]);
  for (const c of doc.cases) {
    expect(c.runs).toBe(1);
    expect(c.mibps.median).toBeGreaterThan(0);
  }
  for (const name of ["parley", "parley-cli", "parley-cli-both-ways"]) {
    const c = doc.cases.find((x: { case: string }) => x.case === name);
    expect(c.chat.samples, name).toBeGreaterThan(0);
    expect(c.chat.lost, name).toBe(0);
    expect(c.chat.outOfOrder, name).toBe(0);
  }
  // Without chat lines the CLI cases type none (and report no chat), and each direction is set against its one way.
  for (const name of ["parley-cli-no-chat", "parley-cli-both-ways-no-chat"]) {
    expect(doc.cases.find((x: { case: string }) => x.case === name).chat, name).toBeUndefined();
  }
  expect(doc.cases.find((x: { case: string }) => x.case === "parley-cli-both-ways-no-chat").vsOneWay).toBeGreaterThan(
    0,
  );
  // The churn columns: GNU time's figures per side, and the peers' own count of faults in the transfer.
  const parley = doc.cases.find((c: { case: string }) => c.case === "parley");
  for (const side of ["recv", "send"]) {
    if (existsSync("/usr/bin/time")) {
      for (const field of ["userS", "sysS", "minorFaults", "majorFaults", "voluntarySwitches", "involuntarySwitches"]) {
        expect(Number.isFinite(parley.sides[side][field]), `${side} ${field}`).toBe(true);
      }
      expect(parley.sides[side].peakRssMiB).toBeGreaterThan(0);
    }
    expect(parley.sides[side].transferFaults).toBeGreaterThanOrEqual(0);
  }
  // Each side's fixed cost (a 0-byte transfer, once with --runs 1), for raw and the CLI.
  if (existsSync("/usr/bin/time")) {
    for (const name of ["raw", "parley-cli"]) {
      for (const side of ["recv", "send"]) {
        expect(doc.fixedCosts[name][side].minorFaults, `${name} ${side}`).toBeGreaterThan(0);
      }
    }
  }
  expect(doc.smallFiles.files).toBe(20);
  expect(doc.smallFiles.perSecond).toBeGreaterThan(0);
  expect(doc.startupToListeningMs.median).toBeGreaterThan(0);
  expect(doc.sourceStartupToListeningMs.median).toBeGreaterThan(0);
  expect(["built", "source"]).toContain(doc.launched);
  expect(doc.longLink.roundTripMs).toBe(40);
  expect(doc.longLink.runs).toBe(1); // as --runs: one transfer a path model
  expect(doc.longLink.mibps).toBeGreaterThan(0);
  // --lines: one document a CLI run (not the fixed cost's 0-byte runs), each line the harness read.
  const runs: LinesRun[] = readFileSync(linesFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(runs.map((r) => r.case)).toEqual([
    "parley-cli",
    "parley-cli-both-ways",
    "parley-cli-no-chat",
    "parley-cli-both-ways-no-chat",
  ]);
  for (const run of runs) {
    const c = doc.cases.find((x: { case: string }) => x.case === run.case);
    expect(run.lines.length, run.case).toBe(c.chat?.samples ?? 0);
    expect(new Set(run.lines.map((l) => l.tag)), run.case).toEqual(
      new Set(run.lines.length === 0 ? [] : run.case.includes("both-ways") ? ["c", "d"] : ["c"]),
    );
    for (const line of run.lines) {
      expect(line.tag).toMatch(/^[cd]$/);
      expect(line.typedAfterMs).toBeGreaterThanOrEqual(0);
      // The light trace's split of the line: before the typing CLI's line handler, and after it.
      expect(Number.isFinite(line.toHandlerMs), run.case).toBe(true);
      expect(Number.isFinite(line.handlerToShownMs), run.case).toBe(true);
    }
  }
}
