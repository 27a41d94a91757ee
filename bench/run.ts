/**
 * `bun run bench`: loopback throughput, chat latency and churn (CPU, page faults, context
 * switches per side) of the real transfer path, against baselines measured in the same run
 * (this machine is shared and noisy: compare ratios, not absolute numbers between runs).
 *
 * The cases are data (bench/lib/cases.ts); they run interleaved run by run, and medians
 * decide. Then: time to the CLI's "Listening on" line, transfers/s of many small files, the
 * long round trip (a delaying relay on 127.0.0.1, Parley and socat through it), and with
 * --big one run on a large sparse file for peak RSS. Flags: bench/lib/flags.ts.
 */

import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";
import { type BenchContext, CASES, CLI_CHAT_MS, PEER_CHAT_MS, PINNED_CPUS, type RunResult } from "./lib/cases.ts";
import { formatLongLink, longLinkRate, smallFilesRate, timeToListening } from "./lib/extras.ts";
import { FIXED_COST_RUNS, type FixedCost, formatFixedCosts, measureFixedCosts } from "./lib/fixed-cost.ts";
import { type BenchFlags, FLAGS_HELP, parseBenchFlags } from "./lib/flags.ts";
import { formatGoals, type GoalVerdict, judgeIssue13 } from "./lib/goals.ts";
import { LAUNCHED, LAUNCHED_LINE, SOURCE_WORDS } from "./lib/parley-command.ts";
import { formatTables, summarise } from "./lib/report.ts";
import { type Sshd, startSshd } from "./lib/sshd.ts";
import { HAS_GNU_TIME } from "./lib/usage.ts";
import { formatWormholeBench, runWormholeBench } from "./wormhole.ts";
import { formatPlainWormholeBench, runPlainWormholeBench } from "./wormhole-plain.ts";

function flagsOrExit(argv: readonly string[]): BenchFlags {
  try {
    return parseBenchFlags(argv);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n${FLAGS_HELP}\n`);
    process.exit(1);
  }
}

/** The long link's transfers a path model (its figure the best of them): fewer with a smaller --runs. */
const LONG_LINK_RUNS = 2;
const flags = flagsOrExit(process.argv.slice(2));
const unknownCases = flags.cases?.filter((name) => !CASES.some((c) => c.name === name)) ?? [];
if (unknownCases.length > 0) {
  process.stderr.write(
    `bench: no case named ${unknownCases.join(", ")} (cases: ${CASES.map((c) => c.name).join(", ")})\n`,
  );
  process.exit(1);
}
/** What a flag needs and this machine lacks, as one line, or undefined. */
function missingForFlags(): string | undefined {
  if (flags.profile && !has("perf")) return "--profile needs perf (apt-get install linux-perf)";
  if (flags.pin && (cpus().length < 2 || !has("taskset")))
    return "--pin needs two CPUs and taskset (apt-get install util-linux)";
  return undefined;
}
const missing = missingForFlags();
if (missing) {
  process.stderr.write(`bench: ${missing}\n`);
  process.exit(1);
}
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const f = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(d));

function writeRandomFile(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  const block = new Uint8Array(1 << 20);
  for (let done = 0; done < bytes; ) {
    const n = Math.min(block.length, bytes - done);
    // getRandomValues is capped at 64 KiB a call: fill the block in 64 KiB steps.
    for (let at = 0; at < n; at += 65536) crypto.getRandomValues(block.subarray(at, Math.min(at + 65536, n)));
    writeSync(fd, block, 0, n);
    done += n;
  }
  closeSync(fd);
}

function has(command: string): boolean {
  return spawnSync(["sh", "-c", `command -v ${command}`]).exitCode === 0;
}

async function main(work: string, sshdBox: { sshd?: Sshd }): Promise<void> {
  if (process.argv.includes("--help")) {
    process.stdout.write(`usage: bun run bench [flags]\n${FLAGS_HELP}\n`);
    return;
  }
  const source = join(work, "source.bin");
  const hasSocat = flags.external && has("socat");
  log(`bench: ${(flags.size / 2 ** 20).toFixed(0)} MiB file, ${flags.runs} runs, in ${work}`);
  log(`bench: ${LAUNCHED_LINE}`);
  if (!hasSocat && flags.external) log("bench: socat is not installed (apt-get install socat): no socat baseline");
  if (!HAS_GNU_TIME) log("bench: /usr/bin/time is missing (apt-get install time): no CPU, fault, RSS figures");
  writeRandomFile(source, flags.size);
  const sshd = flags.external ? startSshd(work) : undefined;
  sshdBox.sshd = sshd;
  if (flags.external && !sshd)
    log("bench: no sshd/scp (apt-get install openssh-server openssh-client): no scp baseline");
  spawnSync(["cat", source], { stdout: "ignore" }); // into the page cache, untimed

  const ctx: BenchContext = {
    work,
    source,
    size: flags.size,
    sshd,
    hasSocat,
    profile: flags.profile,
    pin: flags.pin,
    cliPauseMs: flags.cliPauseMs,
    ...(flags.linesFile ? { linesFile: flags.linesFile } : {}),
  };
  const available = CASES.filter((c) => (c.needs === "socat" ? hasSocat : c.needs === "sshd" ? sshd : true));
  const cases = flags.cases ? available.filter((c) => flags.cases?.includes(c.name)) : available;
  const results: RunResult[] = [];
  for (let r = 0; r < flags.runs; r++) {
    for (const c of cases) {
      const result = await c.run(ctx, source, flags.size);
      results.push(result);
      log(`  run ${r + 1}/${flags.runs} ${c.name.padEnd(22)} ${result.mibps.toFixed(0)} MiB/s`);
    }
  }
  // Kernel time is bounded per GiB: the fixed part of the two cases it compares, measured apart
  // (FIXED_COST_RUNS times, or --runs if fewer: --runs 1 is a quick look, as the cases).
  const fixedCases = cases.filter((c) => c.name === "raw" || c.name === "parley-cli");
  const fixedRuns = Math.min(FIXED_COST_RUNS, flags.runs);
  const fixedCosts: Record<string, FixedCost> | undefined =
    HAS_GNU_TIME && fixedCases.length === 2 ? await measureFixedCosts(ctx, fixedCases, fixedRuns) : undefined;
  const startup = await timeToListening(work);
  const small = flags.smallFiles > 0 ? await smallFilesRate(work, flags.smallFiles, flags.smallFileSize) : undefined;
  // Best of LONG_LINK_RUNS transfers a model, or of --runs if fewer (--runs 1: a quick look, as the cases).
  const linkRuns = Math.min(LONG_LINK_RUNS, flags.runs);
  const longLink =
    flags.linkMs > 0
      ? await longLinkRate(work, source, flags.linkMs, Math.min(flags.size, 256 * 2 ** 20), linkRuns, hasSocat)
      : undefined;
  // The mailbox flow against the wormhole CLI through the same local relay: an external baseline
  // like socat and scp (Debian's mailbox server, transit relay and client; skipped, with a line, without them).
  const wormhole = flags.external ? await runWormholeBench(flags.size, flags.runs) : undefined;
  // Issue 15: Parley and the plain wormhole client each way, against wormhole -> wormhole on the same path.
  const plainWormhole = flags.external ? await runPlainWormholeBench(flags.size, flags.runs) : undefined;
  let big: RunResult | undefined;
  if (flags.big !== undefined) {
    const bigFile = join(work, "big-sparse.bin");
    const fd = openSync(bigFile, "w");
    ftruncateSync(fd, flags.big);
    closeSync(fd);
    big = await (CASES.find((c) => c.name === "parley") as (typeof CASES)[number]).run(ctx, bigFile, flags.big);
  }

  const doc = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Bun ${Bun.version}`,
    fileMiB: flags.size / 2 ** 20,
    pinned: flags.pin ? PINNED_CPUS : undefined,
    cliPauseMs: flags.cliPauseMs,
    chatIntervalMs: { peers: PEER_CHAT_MS, cli: CLI_CHAT_MS },
    cases: summarise(
      cases.map((c) => c.name),
      results,
    ),
    /** What the launcher ran (the CLI cases, the start-up figure): "built" or "source". */
    launched: LAUNCHED,
    /** As users run it (src/cli/launch.sh); the goal's figure. */
    startupToListeningMs: startup.launched,
    /** The source run by Bun directly (parley-command.ts SOURCE_WORDS) in the same rounds. */
    sourceStartupToListeningMs: startup.source,
    fixedCosts,
    smallFiles: small,
    longLink,
    wormhole,
    plainWormhole,
    goals: [] as GoalVerdict[],
    big: big && {
      case: `parley ${flags.bigLabel} sparse`,
      mibps: big.mibps,
      peakRssMiB: { recv: big.recv.rssMiB, send: big.send.rssMiB },
    },
  };
  doc.goals = judgeIssue13({
    cases: doc.cases,
    startupMedianMs: startup.launched.median,
    ...(fixedCosts ? { fixedCosts } : {}),
    ...(longLink ? { longLink } : {}),
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(formatTables(doc.cases));
  out(
    `${doc.date} · ${doc.machine} · ${doc.fileMiB} MiB file · chat every ${PEER_CHAT_MS} ms (peers), ${CLI_CHAT_MS} ms (CLI)`,
  );
  if (flags.pin) {
    out(
      `--pin: each case's sender on CPU ${PINNED_CPUS.send}, its receiver on CPU ${PINNED_CPUS.recv} (the goals below are judged on these runs)`,
    );
  }
  if (flags.cliPauseMs > 0) {
    out(
      `--cli-pause: in the CLI cases the code was typed ${flags.cliPauseMs} ms after the sender's "Listening on", \`transfer\` ${flags.cliPauseMs} ms after both said "Connected"`,
    );
  }
  if (fixedCosts) out(formatFixedCosts(fixedCosts, fixedRuns));
  out(LAUNCHED_LINE);
  const launchedAs =
    LAUNCHED === "built" ? "the build, through src/cli/launch.sh" : "the source, through src/cli/launch.sh";
  out(
    `time to "Listening on" (${launchedAs}): median ${f(startup.launched.median)} ms (${f(startup.launched.min)}-${f(startup.launched.max)})`,
  );
  out(
    `time to "Listening on" (the source, ${SOURCE_WORDS}, same rounds): median ${f(startup.source.median)} ms (${f(startup.source.min)}-${f(startup.source.max)})`,
  );
  if (small) {
    out(`small files: ${small.files} × ${flags.smallFileSize} B one after another: ${f(small.perSecond)} transfers/s`);
  }
  if (longLink) out(formatLongLink(longLink));
  if (wormhole) out(formatWormholeBench(wormhole));
  if (plainWormhole) out(formatPlainWormholeBench(plainWormhole));
  if (doc.big) {
    out(
      `${doc.big.case}: ${f(doc.big.mibps)} MiB/s, peak RSS recv/send ${doc.big.peakRssMiB.recv}/${doc.big.peakRssMiB.send} MiB`,
    );
  }
  out(formatGoals(doc.goals));
}

const work = mkdtempSync(join(tmpdir(), "parley-bench-"));
const sshdBox: { sshd?: Sshd } = {};
try {
  await main(work, sshdBox);
} finally {
  sshdBox.sshd?.stop();
  if (!flags.keep) rmSync(work, { recursive: true, force: true });
}
