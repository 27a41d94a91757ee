/**
 * Issue 15's bench: Parley with the plain wormhole client, one file of --size, through the
 * local transit relay (--no-listen on both ends) and on the direct path, against `wormhole
 * send` -> `wormhole receive` on the same path in the same run, interleaved run by run:
 *
 *   parley-to-wormhole   parley send FILE            -> wormhole receive --accept-file CODE
 *   wormhole-to-parley   wormhole send --code C FILE -> parley receive C
 *   wormhole-to-wormhole wormhole send --code C FILE -> wormhole receive --accept-file C
 *
 * Timed from starting the receiver, once the sender waits in the mailbox with its code, until
 * both processes have exited and the file is there, whole (start-up of the receiver included,
 * of the sender not, for all three alike).
 * CPU (user + sys of each process, from the kernel's rusage, start-up included) is reported
 * per GiB for both ends, and Parley's apart.
 *
 *   npx bun bench/wormhole-plain.ts [--size 1G] [--runs 3] [--json]
 */

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { WormholeServers, wormholeServersMissing } from "../test/wormhole-servers.ts";
import { spawnParley } from "./lib/parley-command.ts";
import { lineWatcher, makeFile, median, sizeArg } from "./wormhole.ts";

const GIB = 1024 ** 3;

type Direction = "parley-to-wormhole" | "wormhole-to-parley" | "wormhole-to-wormhole";
type Path = "direct" | "relay";

interface Sample {
  readonly mibps: number;
  /** Parley's user+sys seconds (undefined for wormhole-to-wormhole). */
  readonly parleyCpuSeconds?: number;
  /** The sending and the receiving process's user+sys seconds, whoever they are. */
  readonly sendCpuSeconds: number;
  readonly recvCpuSeconds: number;
}

export interface PlainCase {
  readonly direction: Direction;
  readonly path: Path;
  readonly samples: Sample[];
}

export interface PlainWormholeBench {
  readonly sizeBytes: number;
  readonly cases: PlainCase[];
}

let codes = 0;
const chosenCode = () => `${800 + (codes++ % 90)}-plain-${Math.random().toString(36).slice(2, 8).replace(/\d/g, "x")}`;

function cpuSeconds(proc: Subprocess): number | undefined {
  const usage = proc.resourceUsage();
  return usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : undefined; // µs, as bigint
}

async function oneRun(servers: WormholeServers, file: string, direction: Direction, path: Path): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "parley-pbench-"));
  const size = statSync(file).size;
  const noListen = path === "relay" ? ["--no-listen"] : [];
  const mailbox = ["--relay-url", servers.mailboxUrl, "--transit-helper", servers.transitHelper];
  const wormhole = ["wormhole", ...mailbox];
  const quiet = { stdout: "ignore", stderr: "ignore" } as const;
  const out = join(dir, "out.bin");
  try {
    let parley: Subprocess | undefined;
    let procs: Subprocess[];
    let start: number;
    if (direction === "parley-to-wormhole") {
      parley = spawnParley(["send", file, ...mailbox, ...noListen, "--json"], {
        stdout: "pipe",
        stderr: "ignore",
      });
      const codeLine = await lineWatcher(parley.stdout as ReadableStream<Uint8Array>).wait(/"type":"code"/);
      const code = (JSON.parse(codeLine) as { code: string }).code;
      start = performance.now();
      const recv = Bun.spawn(
        [...wormhole, "receive", ...noListen, "--hide-progress", "--accept-file", "-o", out, code],
        {
          ...quiet,
          stdin: "ignore",
        },
      );
      procs = [parley, recv];
    } else {
      // The joiner starts once the sender has claimed its code (Parley checks that a nameplate exists).
      const send = Bun.spawn([...wormhole, "send", ...noListen, "--hide-progress", "--code", chosenCode(), file], {
        stdout: "ignore",
        stderr: "pipe",
      });
      const codeLine = await lineWatcher(send.stderr as ReadableStream<Uint8Array>).wait(/Wormhole code is: \S+/);
      const code = (/Wormhole code is: (\S+)/.exec(codeLine) as RegExpExecArray)[1] as string;
      start = performance.now();
      const recv =
        direction === "wormhole-to-parley"
          ? spawnParley(["receive", code, ...mailbox, ...noListen, "--dir", dir, "--json"], quiet)
          : Bun.spawn([...wormhole, "receive", ...noListen, "--hide-progress", "--accept-file", "-o", out, code], {
              ...quiet,
              stdin: "ignore",
            });
      if (direction === "wormhole-to-parley") parley = recv;
      procs = [send, recv];
    }
    const exits = await Promise.all(procs.map((p) => p.exited));
    const ms = performance.now() - start;
    if (exits.some((e) => e !== 0)) throw new Error(`${direction} ${path}: exit codes ${exits.join("/")}`);
    const stored = direction === "wormhole-to-parley" ? join(dir, "payload.bin") : out;
    if (statSync(stored).size !== size) throw new Error(`${direction} ${path}: the file arrived cut`);
    const mibps = size / 2 ** 20 / (ms / 1000);
    const [sendCpu, recvCpu] = procs.map((p) => cpuSeconds(p) ?? Number.NaN) as [number, number];
    const sides = { mibps, sendCpuSeconds: sendCpu, recvCpuSeconds: recvCpu };
    return parley ? { ...sides, parleyCpuSeconds: parley === procs[0] ? sendCpu : recvCpu } : sides;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The six cases, interleaved; undefined (with a line on stderr) without the Debian packages. */
export async function runPlainWormholeBench(sizeBytes: number, runs: number): Promise<PlainWormholeBench | undefined> {
  const missing = wormholeServersMissing() ?? (Bun.which("wormhole") ? undefined : "the wormhole client is missing");
  if (missing) {
    console.error(`plain wormhole bench skipped: ${missing}`);
    return undefined;
  }
  const work = mkdtempSync(join(tmpdir(), "parley-pbench-src-"));
  const servers = await WormholeServers.start();
  try {
    const file = makeFile(work, sizeBytes);
    const cases: PlainCase[] = [];
    for (const path of ["relay", "direct"] as const) {
      for (const direction of ["wormhole-to-wormhole", "parley-to-wormhole", "wormhole-to-parley"] as const) {
        cases.push({ direction, path, samples: [] });
      }
    }
    for (let i = 0; i < runs; i++) {
      for (const c of cases) {
        const sample = await oneRun(servers, file, c.direction, c.path);
        c.samples.push(sample);
        console.error(`  run ${i + 1}/${runs} ${c.direction} ${c.path}: ${sample.mibps.toFixed(0)} MiB/s`);
      }
    }
    return { sizeBytes, cases };
  } finally {
    await servers.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatPlainWormholeBench(b: PlainWormholeBench): string {
  const lines = [
    `plain wormhole client, ${(b.sizeBytes / 2 ** 20).toFixed(0)} MiB, ${b.cases[0]?.samples.length} runs`,
  ];
  for (const c of b.cases) {
    const rates = c.samples.map((s) => s.mibps);
    const base = b.cases.find((o) => o.path === c.path && o.direction === "wormhole-to-wormhole");
    const baseRate = median(base?.samples.map((s) => s.mibps) ?? []);
    const cpus = c.samples.flatMap((s) => (s.parleyCpuSeconds === undefined ? [] : [s.parleyCpuSeconds]));
    const perGiB = (xs: number[]) => (median(xs) / (b.sizeBytes / GIB)).toFixed(2);
    const cpuPerGiB =
      `\tcpu send/recv=${perGiB(c.samples.map((x) => x.sendCpuSeconds))}/${perGiB(c.samples.map((x) => x.recvCpuSeconds))} s/GiB` +
      (cpus.length > 0 ? `\tparley cpu=${perGiB(cpus)} s/GiB` : "");
    lines.push(
      `RESULT\t${c.direction}-${c.path}\tmedian=${median(rates).toFixed(0)}\tmin=${Math.min(...rates).toFixed(0)}` +
        `\tmax=${Math.max(...rates).toFixed(0)}\tMiB/s\tx wormhole=${(median(rates) / baseRate).toFixed(2)}${cpuPerGiB}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const result = await runPlainWormholeBench(sizeArg(flag("--size") ?? "1G"), Number(flag("--runs") ?? "3"));
  if (result) console.log(argv.includes("--json") ? JSON.stringify(result) : formatPlainWormholeBench(result));
}
