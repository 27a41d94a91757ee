/**
 * The mailbox flow's bench: Parley through a local transit relay (--no-listen on both sides)
 * vs Parley on the direct path found through the same mailbox vs the wormhole CLI
 * (`wormhole send --no-listen` -> `wormhole receive --no-listen`) through the same relay, one
 * file of --size, --runs interleaved runs (relay first, then direct; the other way round every
 * other round); and the time from starting the joining side to its `connected` event. Timed
 * from the sender's start until both processes have exited. Also CPU
 * (user+sys, start-up included) per GiB of each end and of the relay process, which shares the
 * two cores with them: on the relay path the ends' CPU is what bounds the rate. One line
 * gives each run's relay/direct and relay/wormhole ratios, beside what the CPU alone predicts
 * for relay/direct, (S_d + R_d) / (S_r + R_r + L): medians of two runs hide how they paired up.
 * Parley is started with the environment its launchers give Bun (src/cli/launch-env.cjs), as
 * the `parley` command and the bench's CLI cases start it.
 * Each round also runs bench/raw-pump.ts through the same relay and direct: plain bytes, no
 * records, crypto or window, so the same line shows what the relay's hop costs any byte stream
 * on these two cores beside Parley's relay/direct.
 *
 *   npx bun bench/wormhole.ts [--size 1G] [--runs 3] [--json]
 *
 * `runWormholeBench` is exported for bench/run.ts. Needs the Debian packages of the mailbox
 * server, the transit relay and the wormhole client; says so and returns nothing without them.
 */

import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { WormholeServers, wormholeServersMissing } from "../test/wormhole-servers.ts";
import { spawnParley } from "./lib/parley-command.ts";

const ROOT = resolve(import.meta.dir, "..");

export interface WormholeBenchResult {
  readonly name: string;
  readonly mibPerSecond: number[];
  /** CPU seconds per GiB of each run: sender, receiver, and the transit relay (0 when unused). */
  readonly cpuPerGiB?: Array<{ send: number; receive: number; relay: number }>;
}

export interface WormholeBench {
  readonly sizeBytes: number;
  readonly cases: WormholeBenchResult[];
  /** Milliseconds from starting `parley send --to CODE` to its connected event. */
  readonly connectMs: number[];
}

export function makeFile(dir: string, bytes: number): string {
  const path = join(dir, "payload.bin");
  const fd = openSync(path, "w");
  const block = randomBytes(4 * 1024 * 1024);
  for (let left = bytes; left > 0; left -= block.length) writeSync(fd, block, 0, Math.min(left, block.length));
  closeSync(fd);
  return path;
}

/** Reads lines of a stream, resolving `wait(re)` with the first line matching. */
export function lineWatcher(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  void (async () => {
    let partial = "";
    for await (const chunk of stream) {
      partial += new TextDecoder().decode(chunk);
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
  })();
  return {
    wait(re: RegExp): Promise<string> {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}

/** User+sys CPU seconds of a process so far, from /proc (0 where there is none). */
function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** User+sys CPU seconds of an exited child. */
function childCpuSeconds(proc: Subprocess): number {
  const usage = proc.resourceUsage();
  if (!usage) return 0;
  return Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6;
}

interface RunFigures {
  ms: number;
  cpu: { send: number; receive: number; relay: number };
}

async function parleyRun(
  servers: WormholeServers,
  file: string,
  noListen: boolean,
): Promise<RunFigures & { connectMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "parley-wbench-"));
  try {
    const flags = ["--relay-url", servers.mailboxUrl, "--transit-helper", servers.transitHelper, "--json"];
    if (noListen) flags.push("--no-listen");
    const recv = spawnParley(["receive", ...flags, "--dir", dir], { stdout: "pipe", stderr: "ignore" });
    const code = (JSON.parse(await lineWatcher(recv.stdout).wait(/"type":"code"/)) as { code: string }).code;
    const relayCpu = procCpuSeconds(servers.relay.proc.pid);
    const start = performance.now();
    const send = spawnParley(["send", file, "--to", code, ...flags], { stdout: "pipe", stderr: "ignore" });
    const connected = lineWatcher(send.stdout)
      .wait(/"type":"connected"/)
      .then(() => performance.now() - start);
    const [a, b] = await Promise.all([send.exited, recv.exited]);
    const ms = performance.now() - start;
    if (a !== 0 || b !== 0) throw new Error(`parley exited ${a}/${b}`);
    if (statSync(join(dir, "payload.bin")).size !== statSync(file).size) throw new Error("size differs");
    const cpu = {
      send: childCpuSeconds(send),
      receive: childCpuSeconds(recv),
      relay: procCpuSeconds(servers.relay.proc.pid) - relayCpu,
    };
    return { ms, cpu, connectMs: await connected };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A random token of the relay's handshake: 64 hex digits. */
function relayToken(): string {
  return randomBytes(32).toString("hex");
}

/**
 * bench/raw-pump.ts through the relay (both ends dial it) or direct: no records, no crypto, no
 * window, so what the relay's hop costs any byte stream on these cores, beside Parley's ratio.
 */
async function pumpRun(servers: WormholeServers, file: string, throughRelay: boolean): Promise<RunFigures> {
  const dir = mkdtempSync(join(tmpdir(), "parley-wbench-"));
  const pump = join(ROOT, "bench/raw-pump.ts");
  try {
    const out = join(dir, "out.bin");
    const relay = servers.transitHelper.replace(/^tcp:/, "");
    const token = relayToken();
    const recv = Bun.spawn([process.execPath, pump, "receive", out, ...(throughRelay ? [relay, token] : [])], {
      stdout: "pipe",
      stderr: "ignore",
    });
    const first = await lineWatcher(recv.stdout).wait(/^(PORT \d+|READY)$/);
    const relayCpu = procCpuSeconds(servers.relay.proc.pid);
    const start = performance.now();
    const to = throughRelay ? [relay, file, token] : [first.split(" ")[1] as string, file];
    const send = Bun.spawn([process.execPath, pump, "send", ...to], { stdout: "ignore", stderr: "ignore" });
    const [a, b] = await Promise.all([send.exited, recv.exited]);
    const ms = performance.now() - start;
    if (a !== 0 || b !== 0) throw new Error(`raw pump exited ${a}/${b}`);
    if (statSync(out).size !== statSync(file).size) throw new Error("size differs");
    const cpu = {
      send: childCpuSeconds(send),
      receive: childCpuSeconds(recv),
      relay: throughRelay ? procCpuSeconds(servers.relay.proc.pid) - relayCpu : 0,
    };
    return { ms, cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let wormholeCodes = 0;
async function wormholeRun(servers: WormholeServers, file: string): Promise<RunFigures> {
  const dir = mkdtempSync(join(tmpdir(), "parley-wbench-"));
  try {
    const code = `${900 + (wormholeCodes++ % 90)}-bench-${Math.random().toString(36).slice(2, 8).replace(/\d/g, "x")}`;
    const common = ["wormhole", "--relay-url", servers.mailboxUrl, "--transit-helper", servers.transitHelper];
    const relayCpu = procCpuSeconds(servers.relay.proc.pid);
    const start = performance.now();
    const send = Bun.spawn([...common, "send", "--no-listen", "--hide-progress", "--code", code, file], {
      stdout: "ignore",
      stderr: "ignore",
    });
    const recv = Bun.spawn(
      [...common, "receive", "--no-listen", "--hide-progress", "--accept-file", "-o", join(dir, "out.bin"), code],
      { stdout: "ignore", stderr: "ignore" },
    );
    const [a, b] = await Promise.all([send.exited, recv.exited]);
    const ms = performance.now() - start;
    if (a !== 0 || b !== 0) throw new Error(`wormhole exited ${a}/${b}`);
    if (statSync(join(dir, "out.bin")).size !== statSync(file).size) throw new Error("size differs");
    const cpu = {
      send: childCpuSeconds(send),
      receive: childCpuSeconds(recv),
      relay: procCpuSeconds(servers.relay.proc.pid) - relayCpu,
    };
    return { ms, cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Runs the cases interleaved; undefined (with a note on stderr) when the servers or client are missing. */
export async function runWormholeBench(sizeBytes: number, runs: number): Promise<WormholeBench | undefined> {
  const missing = wormholeServersMissing() ?? (Bun.which("wormhole") ? undefined : "the wormhole client is missing");
  if (missing) {
    console.error(`wormhole bench skipped: ${missing}`);
    return undefined;
  }
  const work = mkdtempSync(join(tmpdir(), "parley-wbench-src-"));
  const servers = await WormholeServers.start();
  try {
    const file = makeFile(work, sizeBytes);
    const mib = sizeBytes / 1024 / 1024;
    const gib = sizeBytes / 1024 ** 3;
    const perGiB = (f: RunFigures) => ({
      send: f.cpu.send / gib,
      receive: f.cpu.receive / gib,
      relay: f.cpu.relay / gib,
    });
    const relay = { name: "parley-relay", mibPerSecond: [] as number[], cpuPerGiB: [] as RunFigures["cpu"][] };
    const direct = {
      name: "parley-mailbox-direct",
      mibPerSecond: [] as number[],
      cpuPerGiB: [] as RunFigures["cpu"][],
    };
    const wormhole = { name: "wormhole-relay", mibPerSecond: [] as number[], cpuPerGiB: [] as RunFigures["cpu"][] };
    const pumpRelay = { name: "pump-relay", mibPerSecond: [] as number[], cpuPerGiB: [] as RunFigures["cpu"][] };
    const pumpDirect = { name: "pump-direct", mibPerSecond: [] as number[], cpuPerGiB: [] as RunFigures["cpu"][] };
    const connectMs: number[] = [];
    const record = (into: typeof relay, f: RunFigures) => {
      into.mibPerSecond.push(mib / (f.ms / 1000));
      into.cpuPerGiB.push(perGiB(f));
    };
    for (let i = 0; i < runs; i++) {
      // Every other round the direct runs go first, so neither path always follows the same case.
      const paths = i % 2 === 0 ? [true, false] : [false, true];
      for (const throughRelay of paths) {
        const p = await parleyRun(servers, file, throughRelay);
        record(throughRelay ? relay : direct, p);
        connectMs.push(p.connectMs);
      }
      record(wormhole, await wormholeRun(servers, file));
      for (const throughRelay of paths)
        record(throughRelay ? pumpRelay : pumpDirect, await pumpRun(servers, file, throughRelay));
      const cpu = (c: typeof relay) => {
        const last = c.cpuPerGiB.at(-1);
        return last ? ` (cpu/GiB ${last.send.toFixed(2)}+${last.receive.toFixed(2)}+${last.relay.toFixed(2)})` : "";
      };
      console.error(
        `run ${i + 1}/${runs}: relay ${relay.mibPerSecond.at(-1)?.toFixed(0)}${cpu(relay)} direct ${direct.mibPerSecond.at(-1)?.toFixed(0)}${cpu(direct)} wormhole ${wormhole.mibPerSecond.at(-1)?.toFixed(0)}${cpu(wormhole)} pump relay ${pumpRelay.mibPerSecond.at(-1)?.toFixed(0)}${cpu(pumpRelay)} direct ${pumpDirect.mibPerSecond.at(-1)?.toFixed(0)}${cpu(pumpDirect)} MiB/s`,
      );
    }
    return { sizeBytes, cases: [direct, relay, wormhole, pumpDirect, pumpRelay], connectMs };
  } finally {
    await servers.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Per interleaved run: the relayed transfer's throughput over the direct one's and over the
 * wormhole pair's, and what CPU alone predicts for the first on two cores when every process
 * is CPU-bound: (S_d + R_d) / (S_r + R_r + L), each side's CPU seconds per GiB in that run;
 * beside them the raw pump's relay/direct in the same round: what the hop costs a byte stream
 * that does nothing else (NaN where a run has no pump).
 */
export function relayRatiosPerRun(
  b: WormholeBench,
): Array<{ direct: number; wormhole: number; cpuModel: number; pump: number }> {
  const byName = (name: string) => b.cases.find((c) => c.name === name);
  const relay = byName("parley-relay");
  const direct = byName("parley-mailbox-direct");
  const wormhole = byName("wormhole-relay");
  const pumpRelay = byName("pump-relay");
  const pumpDirect = byName("pump-direct");
  if (!relay || !direct || !wormhole) return [];
  return relay.mibPerSecond.map((r, i) => {
    const rc = relay.cpuPerGiB?.[i];
    const dc = direct.cpuPerGiB?.[i];
    const cpuModel = rc && dc ? (dc.send + dc.receive) / (rc.send + rc.receive + rc.relay) : Number.NaN;
    return {
      direct: r / (direct.mibPerSecond[i] ?? Number.NaN),
      wormhole: r / (wormhole.mibPerSecond[i] ?? Number.NaN),
      cpuModel,
      pump: (pumpRelay?.mibPerSecond[i] ?? Number.NaN) / (pumpDirect?.mibPerSecond[i] ?? Number.NaN),
    };
  });
}

export function formatWormholeBench(b: WormholeBench): string {
  const get = (name: string) => median(b.cases.find((c) => c.name === name)?.mibPerSecond ?? []);
  const direct = get("parley-mailbox-direct");
  const wormhole = get("wormhole-relay");
  const pumpDirect = get("pump-direct");
  const lines = [
    `mailbox flow, ${(b.sizeBytes / 1024 / 1024).toFixed(0)} MiB, ${b.cases[0]?.mibPerSecond.length} runs`,
  ];
  for (const c of b.cases) {
    const m = median(c.mibPerSecond);
    const min = Math.min(...c.mibPerSecond);
    const max = Math.max(...c.mibPerSecond);
    const cpu = c.cpuPerGiB ?? [];
    const side = (pick: (x: { send: number; receive: number; relay: number }) => number) =>
      median(cpu.map(pick)).toFixed(2);
    const cpuText =
      cpu.length > 0
        ? `\tcpu s/GiB send=${side((x) => x.send)} receive=${side((x) => x.receive)} relay=${side((x) => x.relay)}`
        : "";
    // The raw pump is its own baseline: its relay case against its direct one.
    const ratios = c.name.startsWith("pump-")
      ? `x pump direct=${(m / pumpDirect).toFixed(2)}`
      : `x direct=${(m / direct).toFixed(2)}\tx wormhole=${(m / wormhole).toFixed(2)}`;
    lines.push(
      `RESULT\t${c.name}\tmedian=${m.toFixed(0)}\tmin=${min.toFixed(0)}\tmax=${max.toFixed(0)}\tMiB/s\t${ratios}${cpuText}`,
    );
  }
  const perRun = relayRatiosPerRun(b);
  if (perRun.length > 0) {
    const list = (pick: (x: (typeof perRun)[number]) => number) => perRun.map((x) => pick(x).toFixed(2)).join(",");
    lines.push(
      `RESULT\tparley-relay-per-run\tx direct=${list((x) => x.direct)}\tx wormhole=${list((x) => x.wormhole)}\tcpu model x direct=${list((x) => x.cpuModel)}\tpump relay x direct=${list((x) => x.pump)}`,
    );
  }
  const sorted = [...b.connectMs].sort((x, y) => x - y);
  lines.push(
    `RESULT\ttime-to-connected\tmedian=${median(sorted).toFixed(0)}\tmin=${sorted[0]?.toFixed(0)}\tmax=${sorted.at(-1)?.toFixed(0)}\tms`,
  );
  return lines.join("\n");
}

export function sizeArg(text: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(text);
  if (!m) throw new Error(`--size: ${text}`);
  return (
    Number(m[1]) * { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? "").toUpperCase() as "" | "K" | "M" | "G"]
  );
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const result = await runWormholeBench(sizeArg(flag("--size") ?? "1G"), Number(flag("--runs") ?? "3"));
  if (result) console.log(argv.includes("--json") ? JSON.stringify(result) : formatWormholeBench(result));
}
