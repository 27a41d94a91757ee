/**
 * The bench's summary: per case, MiB/s (median, min-max), ratios to the baselines, chat
 * latency, and per side the churn figures (CPU user/sys, page faults, context switches, peak
 * RSS); as one JSON document or a text table.
 */

import type { ChatFigures, RunResult } from "./cases.ts";
import { SETTLED_AFTER_MS, SLOW_LINE_MS, type SlowLineHolder } from "./cli-case.ts";
import { median, percentile, type Spread, spread } from "./stats.ts";
import type { SideUsage } from "./usage.ts";

type Side = "recv" | "send";

export interface CaseSummary {
  readonly case: string;
  readonly runs: number;
  readonly mibps: Spread;
  readonly chat?: {
    readonly kind: ChatFigures["kind"];
    readonly samples: number;
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly lost: number;
    readonly outOfOrder: number;
    /** Lines over 5 ms (issue 13's bound for the p99). */
    readonly over5: number;
    /** CLI cases: the lines typed past the transfer's first SETTLED_AFTER_MS (cli-case.ts), pooled. */
    readonly settled?: Figures;
    /** CLI cases: whether the harness ran above the CLIs in every run (bench/lib/harness-priority.ts). */
    readonly harnessRaised?: boolean;
    /** CLI cases with the light trace: the same lines timed to the receiving CLI's terminal write. */
    readonly typedToShown?: Figures;
    readonly cliToCli?: Figures;
    /** ...and the lines over 5 ms counted by where most of their time went (cli-case.ts slowLineHolder). */
    readonly slowHeldBy?: Record<SlowLineHolder, number>;
  };
  /** Medians per side; peak RSS is the largest of any run. */
  readonly sides: Record<Side, SideSummary>;
  vsRaw?: number;
  /** Against the encrypted ceiling (raw-sealed: the raw pump plus Parley's per-byte work). */
  vsSealed?: number;
  vsSocat?: number;
  vsUnsealed?: number;
  vsScp?: number;
  /** A both-ways case against its one-way case in the same bench run (issue 13: >= 0.45 a direction). */
  vsOneWay?: number;
}

export interface SideSummary {
  readonly peakRssMiB: number;
  readonly userS: number;
  readonly sysS: number;
  readonly minorFaults: number;
  readonly majorFaults: number;
  readonly voluntarySwitches: number;
  readonly involuntarySwitches: number;
  /** Faults while the transfer ran (bench peers only). */
  readonly transferFaults?: number;
  readonly perf?: Record<string, number>;
}

/** A set of line times, pooled. */
export interface Figures {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly over5: number;
}

/** The runs' slow-line counts, added up. */
function pooledHolders(runs: readonly Record<SlowLineHolder, number>[]): Record<SlowLineHolder, number> {
  const sum = (k: SlowLineHolder) => runs.reduce((n, r) => n + r[k], 0);
  return { typing: sum("typing"), between: sum("between"), harness: sum("harness") };
}

function figures(ms: readonly number[]): Figures {
  return {
    samples: ms.length,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: Math.max(...ms),
    over5: ms.filter((x) => x > SLOW_LINE_MS).length,
  };
}

function sideSummary(rs: readonly RunResult[], side: Side): SideSummary {
  const of = (f: (u: SideUsage) => number) => median(rs.map((r) => f(r[side])));
  const transfer = rs.map((r) => r.transferFaults?.[side]).filter((v): v is number => v !== undefined);
  const perfRuns = rs.map((r) => r[side].perf).filter((p): p is Record<string, number> => p !== undefined);
  const perf: Record<string, number> = {};
  for (const event of Object.keys(perfRuns[0] ?? {})) perf[event] = median(perfRuns.map((p) => p[event] ?? Number.NaN));
  return {
    peakRssMiB: Math.max(...rs.map((r) => r[side].rssMiB)),
    userS: of((u) => u.userS),
    sysS: of((u) => u.sysS),
    minorFaults: of((u) => u.minorFaults),
    majorFaults: of((u) => u.majorFaults),
    voluntarySwitches: of((u) => u.voluntarySwitches),
    involuntarySwitches: of((u) => u.involuntarySwitches),
    ...(transfer.length > 0 ? { transferFaults: median(transfer) } : {}),
    ...(perfRuns.length > 0 ? { perf } : {}),
  };
}

export function summarise(names: readonly string[], results: readonly RunResult[]): CaseSummary[] {
  const summary = names.map((name): CaseSummary => {
    const rs = results.filter((x) => x.case === name);
    const chats = rs.map((r) => r.chat).filter((c): c is ChatFigures => c !== undefined);
    const ms = chats.flatMap((c) => c.ms); // every line of every run, pooled
    const splits = chats.map((c) => c.split).filter((x) => x !== undefined);
    const settled = chats.map((c) => c.settledMs).filter((x) => x !== undefined);
    const raised = chats.map((c) => c.harnessRaised).filter((x) => x !== undefined);
    return {
      case: name,
      runs: rs.length,
      mibps: spread(rs.map((x) => x.mibps)),
      ...(chats.length > 0
        ? {
            chat: {
              kind: (chats[0] as ChatFigures).kind,
              samples: ms.length,
              p50: percentile(ms, 50),
              p99: percentile(ms, 99),
              max: Math.max(...ms),
              lost: chats.reduce((n, c) => n + c.lost, 0),
              outOfOrder: chats.reduce((n, c) => n + c.outOfOrder, 0),
              over5: ms.filter((x) => x > SLOW_LINE_MS).length,
              ...(settled.length > 0 ? { settled: figures(settled.flat()) } : {}),
              ...(raised.length > 0 ? { harnessRaised: raised.every(Boolean) } : {}),
              ...(splits.length > 0
                ? {
                    typedToShown: figures(splits.flatMap((x) => x.typedToShown)),
                    cliToCli: figures(splits.flatMap((x) => x.cliToCli)),
                    slowHeldBy: pooledHolders(splits.map((x) => x.slowHeldBy)),
                  }
                : {}),
            },
          }
        : {}),
      sides: { recv: sideSummary(rs, "recv"), send: sideSummary(rs, "send") },
    };
  });
  const base = (name: string) => summary.find((s) => s.case === name)?.mibps.median;
  const [raw, sealed, socat, unsealed, scp] = ["raw", "raw-sealed", "socat", "parley-unsealed", "scp"].map(base);
  for (const s of summary) {
    s.vsRaw = raw && s.mibps.median / raw;
    s.vsSealed = sealed && s.mibps.median / sealed;
    s.vsSocat = socat && s.mibps.median / socat;
    s.vsUnsealed = unsealed && s.mibps.median / unsealed;
    s.vsScp = scp && s.mibps.median / scp;
    const oneWay = ONE_WAY_OF[s.case];
    const alone = oneWay === undefined ? undefined : base(oneWay);
    s.vsOneWay = alone && s.mibps.median / alone;
  }
  return summary;
}

/** Each both-ways case's one-way case: its MiB/s a direction is set against that one's (x one way). */
const ONE_WAY_OF: Readonly<Record<string, string>> = {
  "raw-sealed-both-ways": "raw-sealed",
  "parley-both-ways": "parley",
  "parley-cli-both-ways": "parley-cli",
  "parley-cli-both-ways-no-chat": "parley-cli-no-chat",
};

const f = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(d));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** A set's p50/p99/max and lines over 5 ms; "-" for none (a transfer over before its first 100 ms: no settled line). */
const figs = (x: Figures | undefined) =>
  x && x.samples > 0 ? `${f(x.p50, 2)}/${f(x.p99, 2)}/${f(x.max, 2)}  ${x.over5} of ${x.samples}` : "-";

/**
 * The CLI cases' chat, each line timed three ways (p50/p99/max ms, lines over 5 ms): as the
 * harness saw it (typed -> read from the other CLI's output, the figure above; then only the
 * lines typed past the transfer's first SETTLED_AFTER_MS, its settled state); typed -> the
 * receiving CLI's terminal write (all the CLIs' part, the typing CLI's input pipe included); the
 * typing CLI's line handler -> that write. And whether the harness ran above the CLIs.
 */
function chatSplitTable(cases: readonly CaseSummary[]): string {
  const rows = [
    [
      "chat of the CLI cases",
      "harness-seen",
      `past the first ${SETTLED_AFTER_MS} ms`,
      "typed -> shown",
      "CLI -> CLI",
      "over 5 ms held by typing/between/harness",
      "harness above the CLIs",
    ],
  ];
  for (const s of cases) {
    const chat = s.chat as NonNullable<CaseSummary["chat"]>;
    rows.push([
      s.case,
      `${f(chat.p50, 2)}/${f(chat.p99, 2)}/${f(chat.max, 2)}  ${chat.over5} of ${chat.samples}`,
      figs(chat.settled),
      figs(chat.typedToShown),
      figs(chat.cliToCli),
      chat.slowHeldBy ? `${chat.slowHeldBy.typing}/${chat.slowHeldBy.between}/${chat.slowHeldBy.harness}` : "-",
      chat.harnessRaised === undefined ? "-" : chat.harnessRaised ? "yes (nice -19)" : "no (not allowed)",
    ]);
  }
  return table(rows);
}

/** Two tables: speed and chat; then churn per side ("r/s": receiver/sender). */
export function formatTables(cases: readonly CaseSummary[]): string {
  const speed = [
    [
      "case",
      "MiB/s median (min-max)",
      "x raw",
      "x raw-sealed",
      "x socat",
      "x unsealed",
      "x scp",
      "x one way",
      "chat p50/p99/max ms",
      "lost",
    ],
  ];
  for (const s of cases) {
    speed.push([
      s.case,
      `${f(s.mibps.median)} (${f(s.mibps.min)}-${f(s.mibps.max)})`,
      f(s.vsRaw, 2),
      f(s.vsSealed, 2),
      f(s.vsSocat, 2),
      f(s.vsUnsealed, 2),
      f(s.vsScp, 2),
      f(s.vsOneWay, 2),
      s.chat
        ? `${f(s.chat.p50, 2)}/${f(s.chat.p99, 2)}/${f(s.chat.max, 2)}${s.chat.kind === "one way" ? " (1-way)" : ""}`
        : "-",
      s.chat ? `${s.chat.lost + s.chat.outOfOrder}` : "-",
    ]);
  }
  const rs = (s: CaseSummary, g: (x: SideSummary) => number | undefined, d = 0) =>
    `${f(g(s.sides.recv), d)}/${f(g(s.sides.send), d)}`;
  const churn = [
    ["case (r/s)", "user s", "sys s", "minor faults", "in transfer", "major", "vol cs", "invol cs", "peak RSS MiB"],
  ];
  for (const s of cases) {
    churn.push([
      s.case,
      rs(s, (x) => x.userS, 2),
      rs(s, (x) => x.sysS, 2),
      rs(s, (x) => x.minorFaults),
      rs(s, (x) => x.transferFaults),
      rs(s, (x) => x.majorFaults),
      rs(s, (x) => x.voluntarySwitches),
      rs(s, (x) => x.involuntarySwitches),
      rs(s, (x) => x.peakRssMiB),
    ]);
  }
  let out = `${table(speed)}\n\n${table(churn)}\n`;
  const split = cases.filter((c) => c.chat?.typedToShown || c.chat?.settled || c.chat?.harnessRaised !== undefined);
  if (split.length > 0) out += `\n${chatSplitTable(split)}\n`;
  if (cases.some((s) => s.sides.send.perf)) {
    const events = Object.keys(cases.find((s) => s.sides.send.perf)?.sides.send.perf ?? {});
    const perf = [["perf stat (r/s)", ...events]];
    for (const s of cases)
      perf.push([s.case, ...events.map((e) => rs(s, (x) => x.perf?.[e], e === "task-clock" ? 0 : 0))]);
    out += `\n${table(perf)}\n`;
  }
  return out;
}
