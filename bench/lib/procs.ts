/**
 * Starting and reading the bench's processes: every measured process is wrapped in GNU time
 * (and `perf stat` with --profile, `taskset` with --pin), its lines can be awaited, and a free
 * port picked.
 */

import { type Subprocess, spawn } from "bun";
import { LAUNCH_ENV, LAUNCHER_ENV, parleyArgv, sourceArgv } from "./parley-command.ts";
import { HAS_GNU_TIME, PERF_EVENTS, TIME_FORMAT } from "./usage.ts";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const BUN = process.execPath;

export type Proc = Subprocess<"pipe", "pipe", "pipe">;

export interface StartOptions {
  readonly env?: Record<string, string>;
  /** GNU time writes the process's usage here (when /usr/bin/time exists). */
  readonly timeFile?: string;
  /** `perf stat` writes its counters here (--profile). */
  readonly perfFile?: string;
  /** The one CPU the process and every thread and child it starts may run on (--pin). */
  readonly cpu?: number;
}

/** Parley with `args` as users run it (src/cli/launch.sh), started as start() starts anything, with the launchers' environment (parley-command.ts). */
export function startParley(args: readonly string[], options: StartOptions = {}): Proc {
  return start(parleyArgv(args), { ...options, env: { ...LAUNCHER_ENV, ...options.env } });
}

/** The source with `args`, run by Bun directly (parley-command.ts sourceArgv), whatever the launcher would run: the start-up figure's second. */
export function startSource(args: readonly string[], options: StartOptions = {}): Proc {
  return start(sourceArgv(args), { ...options, env: { ...LAUNCH_ENV, ...options.env } });
}

/** Spawns `cmd` in the repository root, wrapped for measuring as asked. */
export function start(cmd: string[], options: StartOptions = {}): Proc {
  let argv = cmd;
  if (options.cpu !== undefined) argv = ["taskset", "--cpu-list", String(options.cpu), ...argv];
  if (options.perfFile) argv = ["perf", "stat", "-x,", "-e", PERF_EVENTS, "-o", options.perfFile, "--", ...argv];
  if (options.timeFile && HAS_GNU_TIME) argv = ["/usr/bin/time", "-f", TIME_FORMAT, "-o", options.timeFile, ...argv];
  return spawn(argv, {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "pipe",
    env: { ...process.env, ...options.env },
  });
}

/** Lines of a stream, one at a time, each with the time it was read. */
export class LineReader {
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  private readonly decoder = new TextDecoder();
  private buffered = "";
  private readonly ready: string[] = [];
  /** Every line read so far (for error messages). */
  readonly seen: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** The next line, or undefined at the end of the stream. */
  async next(): Promise<string | undefined> {
    while (this.ready.length === 0) {
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      this.buffered += this.decoder.decode(value, { stream: true });
      const lines = this.buffered.split("\n");
      this.buffered = lines.pop() ?? "";
      this.ready.push(...lines);
    }
    const line = this.ready.shift() as string;
    this.seen.push(line);
    return line;
  }

  /** Reads until a line matches `pattern`. @throws when the stream ends first */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const line = await this.next();
      if (line === undefined)
        throw new Error(`stream ended before ${pattern}; got: ${this.seen.slice(-5).join(" | ")}`);
      const m = pattern.exec(line);
      if (m) return m;
    }
  }

  /** The rest of the stream as text. */
  async rest(): Promise<string> {
    const parts = [...this.ready, this.buffered];
    for (;;) {
      const { done, value } = await this.reader.read();
      if (done) break;
      parts.push(this.decoder.decode(value, { stream: true }));
    }
    return parts.join("\n");
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Stops every process of `procs` still running (by its pid) and waits for them. */
export async function stopAll(procs: Proc[]): Promise<void> {
  for (const proc of procs) if (proc.exitCode === null) proc.kill();
  await Promise.all(procs.map((proc) => proc.exited));
}
