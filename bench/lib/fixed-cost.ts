/**
 * A case's fixed cost: the same case run with an empty file (start-up, the meeting, a 0-byte
 * transfer, the exit: everything but the bytes), a few times, interleaved, each side's medians.
 * Issue 13 bounds kernel time "per GiB"; a 1 GiB run's total also holds each process's fixed
 * part, which is ~0.01-0.05 s of system time for the raw pump (a short script) and ~0.07-0.13 s a
 * side for the CLI (Bun's runtime and Parley's modules loaded, the PAKE, the chat's first warm-up
 * pass: ~5,000-6,800 page faults at ~10 us each on this machine kind; session 19). Subtracted,
 * what is left is what a GiB costs (goals.ts, the restated kernel time).
 */

import { closeSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BenchCase, BenchContext } from "./cases.ts";
import { median } from "./stats.ts";

/** Runs of each case with the empty file (fewer with a smaller --runs); their medians count. */
export const FIXED_COST_RUNS = 3;

export interface SideFixedCost {
  readonly userS: number;
  readonly sysS: number;
  readonly minorFaults: number;
}

export type FixedCost = Readonly<Record<"recv" | "send", SideFixedCost>>;

/** Each named case `runs` times with an empty file, in turns; the sides' medians by case name. */
export async function measureFixedCosts(
  ctx: BenchContext,
  cases: readonly BenchCase[],
  runs = FIXED_COST_RUNS,
): Promise<Record<string, FixedCost>> {
  const empty = join(ctx.work, "empty.bin");
  closeSync(openSync(empty, "w"));
  const { linesFile: _, ...quiet } = ctx; // --lines is for the measured runs, not these
  const seen = new Map<string, { recv: SideFixedCost[]; send: SideFixedCost[] }>();
  try {
    for (let r = 0; r < runs; r++) {
      for (const c of cases) {
        const result = await c.run(quiet, empty, 0);
        const sides = seen.get(c.name) ?? { recv: [], send: [] };
        sides.recv.push(result.recv);
        sides.send.push(result.send);
        seen.set(c.name, sides);
      }
    }
  } finally {
    rmSync(empty, { force: true });
  }
  const medians = (xs: readonly SideFixedCost[]): SideFixedCost => ({
    userS: median(xs.map((u) => u.userS)),
    sysS: median(xs.map((u) => u.sysS)),
    minorFaults: median(xs.map((u) => u.minorFaults)),
  });
  return Object.fromEntries(
    [...seen].map(([name, sides]) => [name, { recv: medians(sides.recv), send: medians(sides.send) }]),
  );
}

/** The report's line: each case's fixed cost a side (receiver / sender). */
export function formatFixedCosts(costs: Record<string, FixedCost>, runs = FIXED_COST_RUNS): string {
  const side = (c: FixedCost, f: (s: SideFixedCost) => number, digits: number) =>
    `${f(c.recv).toFixed(digits)}/${f(c.send).toFixed(digits)}`;
  const parts = Object.entries(costs).map(
    ([name, c]) =>
      `${name} user ${side(c, (s) => s.userS, 2)} s, sys ${side(c, (s) => s.sysS, 2)} s, ${side(c, (s) => s.minorFaults, 0)} faults`,
  );
  return `fixed cost (each case moving 0 bytes, median of ${runs}; r/s): ${parts.join("; ")}`;
}
