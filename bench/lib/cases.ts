/**
 * The bench's cases as data: each names what it runs and how to start its two sides; one
 * runner times every case the same way (from the sender's start until both sides exit, or
 * until the last verification for the CLI cases), wrapped in GNU time (and perf stat with
 * --profile), and checks the output.
 *
 *   raw        bench/raw-pump.ts: readSync 1 MiB, socket.write, writeSync per chunk (Bun's ceiling)
 *   raw-sealed bench/raw-sealed.ts: the raw pump plus Parley's per-byte work (256 KiB reads, XXH3,
 *              AES-GCM records through Parley's own modules) and nothing else: the encrypted ceiling
 *   raw-sealed-both-ways bench/raw-sealed-both-ways.ts: that work both ways at once on one
 *              connection, a process a side (no ACKs, no window): the ceiling of both ways
 *   socat      socat -u -b131072 file to file (the tuned classic)
 *   scp        scp -c aes128-gcm@openssh.com to the bench's own sshd (the encrypted classic)
 *   parley*    bench/peer.ts: the CLI's stack with the terminal replaced by a measuring driver
 *   parley-cli* the real CLI (chat mode, two processes), fed through pipes like a user typing
 */

import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import { type ChatSplit, runCliTransfer } from "./cli-case.ts";
import { LAUNCH_ENV } from "./parley-command.ts";
import { BUN, freePort, LineReader, type Proc, start, startParley, stopAll } from "./procs.ts";
import { type Sshd, scpCommand } from "./sshd.ts";
import { readUsage, type SideUsage } from "./usage.ts";

/** Chat line interval of the bench-peer cases (round trips, echoed by the receiver). */
export const PEER_CHAT_MS = 15;
/** Chat line interval of the CLI cases (one way, each direction that sends). */
export const CLI_CHAT_MS = 20;

export interface BenchContext {
  readonly work: string;
  readonly source: string;
  readonly size: number;
  readonly sshd: Sshd | undefined;
  readonly hasSocat: boolean;
  readonly profile: boolean;
  /** --pin: each side started on a CPU of its own (PINNED_CPUS). */
  readonly pin: boolean;
  /** --cli-pause: the CLI cases' wait between "Connected" and `transfer`, ms. */
  readonly cliPauseMs: number;
  /** --lines: the CLI cases append each run's chat lines here. */
  readonly linesFile?: string;
}

/**
 * With --pin, the CPU each side runs on. On one host the kernel places the two ends by its own
 * rules: a receiver woken by its sender's bytes is often moved to the sender's CPU, and the two
 * then share one while the other serves whatever else runs. Two users' machines never do that;
 * pinned, each end has a CPU to itself and what it costs is its own (bench/README.md, "Pinned").
 */
export const PINNED_CPUS = { send: 0, recv: 1 } as const;

export interface ChatFigures {
  /** "round trip" (bench peers: echoed) or "one way" (CLI: harness to the other side's screen). */
  readonly kind: "round trip" | "one way";
  readonly ms: number[];
  /** CLI cases: the lines typed SETTLED_AFTER_MS or more after `transfer` (cli-case.ts), ms. */
  readonly settledMs?: number[];
  readonly lost: number;
  readonly outOfOrder: number;
  /** CLI cases: whether the harness ran above the CLIs (harness-priority.ts). */
  readonly harnessRaised?: boolean;
  /** CLI cases: each line's time up to the receiving CLI's terminal write (cli-case.ts). */
  readonly split?: ChatSplit;
}

export interface RunResult {
  readonly case: string;
  /** MiB/s of the measured direction (both ways: the slower of the two). */
  mibps: number;
  readonly recv: SideUsage;
  readonly send: SideUsage;
  readonly chat?: ChatFigures;
  /** Page faults while the transfer ran (bench peers count them inside the process). */
  readonly transferFaults?: { readonly send: number; readonly recv: number };
}

export interface BenchCase {
  readonly name: string;
  readonly needs?: "socat" | "sshd";
  run(ctx: BenchContext, file: string, fileSize: number): Promise<RunResult>;
}

interface PeerOptions {
  readonly checksum: "xxh3" | "sha256";
  readonly unsealed?: boolean;
  readonly bothWays?: boolean;
}

export const CASES: readonly BenchCase[] = [
  { name: "raw", run: (ctx, file, size) => runRaw(ctx, file, size) },
  { name: "raw-sealed", run: (ctx, file, size) => runRawSealed(ctx, file, size) },
  { name: "raw-sealed-both-ways", run: (ctx, file, size) => runRawSealedBothWays(ctx, file, size) },
  { name: "socat", needs: "socat", run: (ctx, file, size) => runSocat(ctx, file, size) },
  { name: "scp", needs: "sshd", run: (ctx, file, size) => runScp(ctx, file, size) },
  peerCase("parley-unsealed", { checksum: "xxh3", unsealed: true }),
  peerCase("parley-unsealed-sha256", { checksum: "sha256", unsealed: true }),
  peerCase("parley", { checksum: "xxh3" }),
  peerCase("parley-sha256", { checksum: "sha256" }),
  peerCase("parley-both-ways", { checksum: "xxh3", bothWays: true }),
  { name: "parley-cli", run: (ctx, file, size) => runCli(ctx, "parley-cli", file, size, false) },
  { name: "parley-cli-both-ways", run: (ctx, file, size) => runCli(ctx, "parley-cli-both-ways", file, size, true) },
  // The same without a chat line (the chat's own limits off): what the transfer alone reaches, one way and both.
  { name: "parley-cli-no-chat", run: (ctx, file, size) => runCli(ctx, "parley-cli-no-chat", file, size, false, 0) },
  {
    name: "parley-cli-both-ways-no-chat",
    run: (ctx, file, size) => runCli(ctx, "parley-cli-both-ways-no-chat", file, size, true, 0),
  },
];

function peerCase(name: string, options: PeerOptions): BenchCase {
  return { name, run: (ctx, file, size) => runPeers(ctx, name, options, file, size) };
}

/** Where one side's GNU time / perf stat output goes. */
function usageFiles(ctx: BenchContext, side: "recv" | "send") {
  const timeFile = join(ctx.work, `${side}.usage`);
  const perfFile = ctx.profile ? join(ctx.work, `${side}.perf`) : undefined;
  rmSync(timeFile, { force: true });
  if (perfFile) rmSync(perfFile, { force: true });
  return { timeFile, ...(perfFile ? { perfFile } : {}), ...(ctx.pin ? { cpu: PINNED_CPUS[side] } : {}) };
}

function sideUsage(files: { timeFile: string; perfFile?: string }): SideUsage {
  return readUsage(files.timeFile, files.perfFile);
}

/** Starts the sender, waits for both sides, fails on a non-zero exit. @returns seconds */
async function timedPair(name: string, receiver: Proc, sender: () => Proc): Promise<{ seconds: number; sender: Proc }> {
  const t0 = performance.now();
  const proc = sender();
  const [sendCode, recvCode] = await Promise.all([proc.exited, receiver.exited]);
  const seconds = (performance.now() - t0) / 1000;
  if (sendCode !== 0 || recvCode !== 0) {
    const err = `${await new Response(proc.stderr).text()} ${await new Response(receiver.stderr).text()}`;
    throw new Error(`${name}: sender exit ${sendCode}, receiver exit ${recvCode}: ${err.trim()}`);
  }
  return { seconds, sender: proc };
}

function checkOutput(path: string, label: string, size: number, compareWith?: string): void {
  const got = statSync(path).size;
  if (got !== size) throw new Error(`${label}: output has ${got} bytes, expected ${size}`);
  if (compareWith && spawnSync(["cmp", "-s", compareWith, path]).exitCode !== 0) {
    throw new Error(`${label}: output differs`);
  }
}

async function runRaw(ctx: BenchContext, file: string, size: number): Promise<RunResult> {
  const out = join(ctx.work, "out-raw");
  rmSync(out, { force: true });
  const r = usageFiles(ctx, "recv");
  const s = usageFiles(ctx, "send");
  const receiver = start([BUN, "bench/raw-pump.ts", "receive", out], r);
  const [, port] = await new LineReader(receiver.stdout).waitFor(/^PORT (\d+)/);
  const { seconds } = await timedPair("raw", receiver, () =>
    start([BUN, "bench/raw-pump.ts", "send", port as string, file], s),
  );
  checkOutput(out, "raw", size, file);
  rmSync(out, { force: true });
  return { case: "raw", mibps: size / 2 ** 20 / seconds, recv: sideUsage(r), send: sideUsage(s) };
}

/**
 * raw-sealed.ts: the raw pump with Parley's reads, digest and records, started with Parley's
 * launch environment; both sides' digests must agree.
 */
async function runRawSealed(ctx: BenchContext, file: string, size: number): Promise<RunResult> {
  const out = join(ctx.work, "out-raw-sealed");
  rmSync(out, { force: true });
  const r = usageFiles(ctx, "recv");
  const s = usageFiles(ctx, "send");
  // Parley's launch environment (src/cli/launch-env.cjs: the JIT tiers and the collector's sizing).
  const receiver = start([BUN, "bench/raw-sealed.ts", "receive", out], { ...r, env: LAUNCH_ENV });
  const recvLines = new LineReader(receiver.stdout);
  const [, port] = await recvLines.waitFor(/^PORT (\d+)/);
  const { seconds, sender } = await timedPair("raw-sealed", receiver, () =>
    start([BUN, "bench/raw-sealed.ts", "send", port as string, file], { ...s, env: LAUNCH_ENV }),
  );
  const sent = (await new Response(sender.stdout).text()).trim().split(" ");
  const [, got] = await recvLines.waitFor(/^DONE (\d+ \w+)/);
  if (sent[0] !== "SENT" || `${sent[1]} ${sent[2]}` !== got || Number(sent[1]) !== size) {
    throw new Error(`raw-sealed: sent ${sent.join(" ")}, received ${got}`);
  }
  checkOutput(out, "raw-sealed", size);
  rmSync(out, { force: true });
  return { case: "raw-sealed", mibps: size / 2 ** 20 / seconds, recv: sideUsage(r), send: sideUsage(s) };
}

/**
 * raw-sealed-both-ways.ts: each side sends `file` and stores the other's, on one connection, with
 * Parley's launch environment; each side's sent digest must be what the other received. MiB/s a
 * direction: the file over the time until both sides are done.
 */
async function runRawSealedBothWays(ctx: BenchContext, file: string, size: number): Promise<RunResult> {
  const name = "raw-sealed-both-ways";
  const outs = { recv: join(ctx.work, `out-${name}-r`), send: join(ctx.work, `out-${name}-s`) };
  for (const out of Object.values(outs)) rmSync(out, { force: true });
  const r = usageFiles(ctx, "recv");
  const s = usageFiles(ctx, "send");
  const script = "bench/raw-sealed-both-ways.ts";
  const listener = start([BUN, script, "listen", file, outs.recv], { ...r, env: LAUNCH_ENV });
  const listenLines = new LineReader(listener.stdout);
  const [, port] = await listenLines.waitFor(/^PORT (\d+)/);
  const { seconds, sender } = await timedPair(name, listener, () =>
    start([BUN, script, "connect", port as string, file, outs.send], { ...s, env: LAUNCH_ENV }),
  );
  const done = /^DONE SENT (\d+ \w+) GOT (\d+ \w+)$/;
  const [, listenSent, listenGot] = await listenLines.waitFor(done);
  const [, connectSent, connectGot] = done.exec((await new Response(sender.stdout).text()).trim()) ?? [];
  if (listenSent !== connectGot || connectSent !== listenGot || Number(listenSent?.split(" ")[0]) !== size) {
    throw new Error(`${name}: sent ${listenSent} and ${connectSent}, received ${connectGot} and ${listenGot}`);
  }
  for (const out of Object.values(outs)) {
    checkOutput(out, name, size);
    rmSync(out, { force: true });
  }
  return { case: name, mibps: size / 2 ** 20 / seconds, recv: sideUsage(r), send: sideUsage(s) };
}

async function runSocat(ctx: BenchContext, file: string, size: number): Promise<RunResult> {
  const out = join(ctx.work, "out-socat");
  rmSync(out, { force: true });
  const r = usageFiles(ctx, "recv");
  const s = usageFiles(ctx, "send");
  const port = freePort();
  const receiver = start(
    ["socat", "-d", "-d", "-u", "-b131072", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${out},creat,excl`],
    r,
  );
  await new LineReader(receiver.stderr).waitFor(/listening on/);
  const { seconds } = await timedPair("socat", receiver, () =>
    start(["socat", "-u", "-b131072", `OPEN:${file},rdonly`, `TCP:127.0.0.1:${port}`], s),
  );
  checkOutput(out, "socat", size, file);
  rmSync(out, { force: true });
  return { case: "socat", mibps: size / 2 ** 20 / seconds, recv: sideUsage(r), send: sideUsage(s) };
}

async function runScp(ctx: BenchContext, file: string, size: number): Promise<RunResult> {
  const sshd = ctx.sshd as Sshd;
  const out = join(ctx.work, "out-scp");
  rmSync(out, { force: true });
  const r = usageFiles(ctx, "recv");
  const s = usageFiles(ctx, "send");
  // sshd is the receiver here (started once); a stand-in process keeps the shape of a run.
  const receiver = start(["true"], r);
  const { seconds } = await timedPair("scp", receiver, () => start(scpCommand(sshd, file, out), s));
  checkOutput(out, "scp", size, file);
  rmSync(out, { force: true });
  return { case: "scp", mibps: size / 2 ** 20 / seconds, recv: sideUsage(r), send: sideUsage(s) };
}

/** The bench peers' environment for a case (see bench/peer.ts). */
function peerEnv(ctx: BenchContext, options: PeerOptions): Record<string, string> {
  return {
    ...(options.unsealed ? { PARLEY_BENCH_UNSEALED: "1" } : {}),
    ...(options.bothWays ? { PARLEY_BENCH_SEND_BACK: ctx.source } : {}),
  };
}

async function runPeers(
  ctx: BenchContext,
  name: string,
  options: PeerOptions,
  file: string,
  size: number,
): Promise<RunResult> {
  const out = join(ctx.work, `out-${name}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const env = peerEnv(ctx, options);
  const r = usageFiles(ctx, "recv");
  const s = usageFiles(ctx, "send");
  const receiver = start([BUN, "bench/peer.ts", "receive", out], { ...r, env });
  const recvLines = new LineReader(receiver.stdout);
  const [, port] = await recvLines.waitFor(/^PORT (\d+)/);
  const { seconds, sender } = await timedPair(name, receiver, () =>
    start([BUN, "bench/peer.ts", "send", port as string, options.checksum, String(PEER_CHAT_MS), file], {
      ...s,
      env,
    }),
  );
  const sent = JSON.parse((await new Response(sender.stdout).text()).trim().split("\n").at(-1) as string);
  const received = JSON.parse((await recvLines.rest()).trim().split("\n").at(-1) as string);
  if (file === ctx.source) checkOutput(join(out, "source.bin"), name, size); // verified by its own digest
  rmSync(out, { recursive: true, force: true });
  return {
    case: name,
    mibps: size / 2 ** 20 / seconds,
    recv: sideUsage(r),
    send: sideUsage(s),
    chat: { kind: "round trip", ms: sent.rtts, lost: sent.chatsSent - sent.chatsEchoed, outOfOrder: sent.outOfOrder },
    transferFaults: { send: sent.transferFaults, recv: received.transferFaults },
  };
}

/** CLI runs so far (each writes its trace under a prefix of its own). */
let cliRuns = 0;

async function runCli(
  ctx: BenchContext,
  name: string,
  file: string,
  size: number,
  bothWays: boolean,
  chatMs = CLI_CHAT_MS,
): Promise<RunResult> {
  const dirs = { recv: join(ctx.work, `out-${name}-r`), send: join(ctx.work, `out-${name}-s`) };
  for (const dir of Object.values(dirs)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  }
  const r = usageFiles(ctx, "recv");
  const s = usageFiles(ctx, "send");
  const procs: Proc[] = [];
  // The CLIs' light trace for each line's split, unless a full trace was asked for (PARLEY_CHAT_TRACE set).
  const tracePrefix = process.env.PARLEY_CHAT_TRACE ? undefined : join(ctx.work, `chat-${name}-${++cliRuns}`);
  try {
    const result = await runCliTransfer({
      file,
      size,
      bothWays,
      chatMs,
      pauseMs: ctx.cliPauseMs,
      ...(tracePrefix ? { tracePrefix } : {}),
      ...(ctx.linesFile ? { lines: { file: ctx.linesFile, label: name } } : {}),
      startSide: (side, args, env) => {
        // Started as `bun run chat` and the `parley` command start it (src/cli/launch-env.cjs).
        const proc = startParley(["--no-progress", "--dir", dirs[side], ...args], {
          ...(side === "recv" ? r : s),
          env,
        });
        procs.push(proc);
        return proc;
      },
    });
    for (const dir of bothWays ? [dirs.recv, dirs.send] : [dirs.recv]) {
      const [stored] = readdirSync(dir);
      checkOutput(join(dir, stored as string), name, size); // verified by its own digest
    }
    const chat = result.chat ? { chat: result.chat } : {};
    return { case: name, mibps: result.mibps, recv: sideUsage(r), send: sideUsage(s), ...chat };
  } finally {
    await stopAll(procs);
    for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  }
}
