/**
 * Spawn to the first line of Parley's commands, two trees side by side (A/B): each round starts
 * every case once in each tree, A then B or B then A by turns, times from spawn to the case's
 * first line on stdout (the code line; for a case given a code, the first line on either
 * stream), and kills the process. Prints per case the median (quartiles, minimum) of each
 * tree and in how many rounds B was faster.
 *
 *   npx bun bench/start-up-ab.ts --runs 30 --a /path/to/old/tree [--b .] [--cases send,receive]
 *
 * Run it under `flock` with nothing else timing on the machine. The processes get the launchers'
 * environment (A's src/cli/launch-env.cjs) and a TMPDIR of this script's own (the chat's warm-up
 * makes a folder there), removed at the end. A case given a code dials a listener of this
 * script's that never answers.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parleyArgvIn } from "./lib/parley-command.ts";

function flag(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? process.argv[at + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is needed`);
  return value;
}

const runs = Number(flag("runs", "30"));
const trees = { A: resolve(flag("a")), B: resolve(flag("b", ".")) };
const only = flag("cases", "").split(",").filter(Boolean);
const LAUNCH_ENV = require(join(trees.A, "src/cli/launch-env.cjs")) as Record<string, string>;

const work = mkdtempSync(join(tmpdir(), "parley-start-up-ab-"));
const file = join(work, "file.bin");
const inbox = join(work, "in");
const temp = join(work, "tmp");
writeFileSync(file, new Uint8Array(1000));
mkdirSync(inbox);
mkdirSync(temp);
const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
const code = `127.0.0.1:${silent.port}-arena-surface`;

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly first: RegExp;
  /** The first line may come on stderr (a --json note). */
  readonly eitherStream?: boolean;
}

const LISTENING = /^Listening on /m;
const LISTENING_EVENT = /"type":"listening"/;
const CASES: readonly Case[] = [
  { name: "chat", args: ["--no-progress", "--dir", inbox], first: LISTENING },
  { name: "send", args: ["send", file], first: LISTENING },
  { name: "send-json", args: ["send", file, "--json"], first: LISTENING_EVENT },
  { name: "receive", args: ["receive", "--dir", inbox], first: LISTENING },
  { name: "receive-json", args: ["receive", "--dir", inbox, "--json"], first: LISTENING_EVENT },
  { name: "send-to", args: ["send", file, "--to", code], first: /\n/, eitherStream: true },
  { name: "receive-code", args: ["receive", code, "--dir", inbox], first: /\n/, eitherStream: true },
  { name: "receive-code-json", args: ["receive", code, "--dir", inbox, "--json"], first: /\n/, eitherStream: true },
].filter((c) => only.length === 0 || only.includes(c.name));

async function seen(stream: ReadableStream<Uint8Array>, re: RegExp): Promise<void> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    if (re.test(text)) return;
  }
  throw new Error(`the stream ended before ${re}: ${text}`);
}

/** ms from spawn to the case's first line in `tree`. */
async function once(tree: string, c: Case): Promise<number> {
  const t0 = performance.now();
  const proc = Bun.spawn(parleyArgvIn(tree, c.args), {
    cwd: tree,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...LAUNCH_ENV, TMPDIR: temp },
  });
  const out = seen(proc.stdout, c.first);
  await (c.eitherStream ? Promise.any([out, seen(proc.stderr, c.first)]) : out);
  const ms = performance.now() - t0;
  proc.kill("SIGKILL");
  await proc.exited;
  return ms;
}

const at = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const f = (ms: number | undefined) => (ms ?? Number.NaN).toFixed(1);
function summary(ms: readonly number[]): string {
  const s = [...ms].sort((x, y) => x - y);
  return `${f(at(s, 0.5))} (${f(at(s, 0.25))}-${f(at(s, 0.75))}, min ${f(s[0])})`;
}

try {
  for (const c of CASES) for (const tree of Object.values(trees)) await once(tree, c); // Bun's transpiler cache
  const times = new Map(CASES.map((c) => [c.name, { A: [] as number[], B: [] as number[] }]));
  for (let round = 0; round < runs; round++) {
    for (const c of CASES) {
      for (const side of round % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
        times.get(c.name)?.[side].push(await once(trees[side], c));
      }
    }
  }
  console.log(`case\tA ${trees.A}\tB ${trees.B}\tB faster in (runs=${runs})`);
  for (const [name, { A, B }] of times) {
    const faster = A.filter((a, i) => (B[i] ?? Number.POSITIVE_INFINITY) < a).length;
    console.log(`${name}\t${summary(A)}\t${summary(B)}\t${faster}/${runs}`);
  }
} finally {
  silent.stop(true);
  rmSync(work, { recursive: true, force: true });
}
