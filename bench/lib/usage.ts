/**
 * Per-process figures of a bench run: GNU time's accounting of a finished process (CPU user
 * and system, peak RSS, page faults, context switches) and, with --profile, `perf stat`'s
 * counters. Churn (faults, kernel time, wake-ups) is what costly kernels punish, so every run
 * reports it, not only MiB/s.
 */

import { existsSync, readFileSync } from "node:fs";

export interface SideUsage {
  readonly rssMiB: number;
  readonly userS: number;
  readonly sysS: number;
  /** Minor (no I/O) and major page faults. */
  readonly minorFaults: number;
  readonly majorFaults: number;
  /** Voluntary (waited) and involuntary (preempted) context switches. */
  readonly voluntarySwitches: number;
  readonly involuntarySwitches: number;
  /** `perf stat` counters by event name (--profile only). */
  readonly perf?: Record<string, number>;
}

export const HAS_GNU_TIME = existsSync("/usr/bin/time");

/** GNU time's format: one line of the fields SideUsage needs, in this order. */
export const TIME_FORMAT = "%M %U %S %R %F %w %c";

const NO_USAGE: SideUsage = {
  rssMiB: Number.NaN,
  userS: Number.NaN,
  sysS: Number.NaN,
  minorFaults: Number.NaN,
  majorFaults: Number.NaN,
  voluntarySwitches: Number.NaN,
  involuntarySwitches: Number.NaN,
};

/** Reads what GNU time (and perf stat, if it ran) wrote for one process. */
export function readUsage(timeFile: string, perfFile?: string): SideUsage {
  const perf = perfFile && existsSync(perfFile) ? parsePerfStat(readFileSync(perfFile, "utf8")) : undefined;
  if (!existsSync(timeFile)) return { ...NO_USAGE, ...(perf ? { perf } : {}) };
  // The last line: a process killed by a signal gets a "Command terminated" line before it.
  const last = readFileSync(timeFile, "utf8").trim().split("\n").at(-1) as string;
  const [kb, user, sys, minor, major, vol, invol] = last.split(" ").map(Number) as number[];
  return {
    rssMiB: Math.round((kb as number) / 1024),
    userS: user as number,
    sysS: sys as number,
    minorFaults: minor as number,
    majorFaults: major as number,
    voluntarySwitches: vol as number,
    involuntarySwitches: invol as number,
    ...(perf ? { perf } : {}),
  };
}

/** `perf stat -x,` output: value,unit,event,... per line. */
export function parsePerfStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [value, , event] = line.split(",");
    if (!event || value === undefined || value === "" || Number.isNaN(Number(value))) continue;
    out[event] = Number(value);
  }
  return out;
}

/** The events --profile counts per side. */
export const PERF_EVENTS = "task-clock,page-faults,minor-faults,major-faults,context-switches,cpu-migrations";
