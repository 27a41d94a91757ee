/**
 * `bun bench/chat-floor.ts FILE [--both] [--seconds N]`: the floor under the chat latency of the
 * CLI cases (bench/lib/cli-case.ts) on this machine, as it is loaded right now. socat streams
 * FILE over 127.0.0.1 at full speed, again and again for N seconds (with --both a second stream
 * the other way), while a line every 20 ms goes harness -> a socat's stdin -> its own TCP
 * connection -> another socat's stdout -> harness, timed as cli-case times Parley's lines. The
 * two line-carrying processes do nothing else (they sleep between lines), so what their lines
 * wait is the host giving an idle process a CPU beside busy ones, not any program's work: a
 * goal below it is out of reach at that load.
 *
 * Prints one line: `chat-floor<TAB>one way|both ways<TAB>lines=<n><TAB>p50=<ms><TAB>p99=<ms>
 * <TAB>max=<ms><TAB>over5ms=<n><TAB>streamed=<times FILE went through in full><TAB>load=<1-minute
 * load average>`.
 */

import { readFileSync } from "node:fs";
import { type FileSink, type Subprocess, spawn } from "bun";
import { freePort } from "./lib/procs.ts";
import { percentile } from "./lib/stats.ts";

const CHAT_MS = 20;
/** How long the bulk streams get to start before the first line. */
const WARM_MS = 200;
/** How long lines still in flight at the end may take. */
const GRACE_MS = 300;

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const both = args.includes("--both");
const secondsAt = args.indexOf("--seconds");
const seconds = secondsAt >= 0 ? Number(args[secondsAt + 1]) : 6;
if (!file || !(seconds > 0)) {
  process.stderr.write("usage: bun bench/chat-floor.ts FILE [--both] [--seconds N]\n");
  process.exit(1);
}

const procs: Subprocess[] = [];
function run(cmd: string[], stdin: "pipe" | "ignore" = "ignore") {
  const proc = spawn(cmd, { stdin, stdout: "pipe", stderr: "ignore" });
  procs.push(proc);
  return proc;
}

let stopped = false;
let streamed = 0;

/** socat sends FILE to another socat that drops it, again and again until stopped. */
async function bulkStream(): Promise<void> {
  const port = freePort();
  while (!stopped) {
    const sink = run(["socat", "-u", "-b131072", `TCP-LISTEN:${port},reuseaddr,bind=127.0.0.1`, "OPEN:/dev/null"]);
    await Bun.sleep(30);
    const source = run(["socat", "-u", "-b131072", `OPEN:${file}`, `TCP:127.0.0.1:${port}`]);
    await Promise.all([source.exited, sink.exited]);
    if (!stopped) streamed++;
  }
}

/** Hands each line `out` prints to `arrived`, with the time it was read. */
function readLines(out: Subprocess, arrived: (line: string, at: number) => void): void {
  (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of out.stdout as ReadableStream<Uint8Array>) {
      const at = performance.now();
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) arrived(line, at);
    }
  })();
}

/** A socat line path: the returned process's stdin comes out of another's stdout. */
async function socatLinePath(arrived: (line: string, at: number) => void): Promise<Subprocess> {
  const port = freePort();
  const out = run(["socat", "-u", `TCP-LISTEN:${port},reuseaddr,bind=127.0.0.1,nodelay`, "STDOUT"]);
  await Bun.sleep(50);
  const into = run(["socat", "-u", "STDIN", `TCP:127.0.0.1:${port},nodelay`], "pipe");
  readLines(out, arrived);
  return into;
}

const sentAt = new Map<string, number>();
const ms: number[] = [];
const arrived = (line: string, at: number) => {
  const sent = sentAt.get(line);
  if (sent !== undefined) ms.push(at - sent);
};
const paths = [await socatLinePath(arrived), ...(both ? [await socatLinePath(arrived)] : [])];
const streams = [bulkStream(), ...(both ? [bulkStream()] : [])];
await Bun.sleep(WARM_MS);
let seq = 0;
const timer = setInterval(() => {
  paths.forEach((path, i) => {
    const line = `${"cd"[i]} ${seq}`;
    sentAt.set(line, performance.now());
    const stdin = path.stdin as FileSink;
    stdin.write(`${line}\n`);
    stdin.flush();
  });
  seq++;
}, CHAT_MS);
await Bun.sleep(seconds * 1000);
clearInterval(timer);
await Bun.sleep(GRACE_MS);
stopped = true;
const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
for (const proc of procs) proc.kill();
await Promise.all(streams);
const fmt = (x: number) => x.toFixed(2);
process.stdout.write(
  `chat-floor\t${both ? "both ways" : "one way"}\tlines=${ms.length}\tp50=${fmt(percentile(ms, 50))}\tp99=${fmt(percentile(ms, 99))}\tmax=${fmt(Math.max(...ms))}\tover5ms=${ms.filter((x) => x > 5).length}\tstreamed=${streamed}\tload=${load}\n`,
);
