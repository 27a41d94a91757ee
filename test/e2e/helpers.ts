/**
 * E2E helpers: spawn the real CLI (`bun src/cli/main.ts`) with piped stdio, wait for output
 * lines by event (no fixed sleeps), and clean up every process and temp dir a test made.
 *
 * Call `cleanup()` in `afterEach`: it SIGKILLs whatever a failed test left running and
 * removes the temp dirs, so a failure never leaves processes behind.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { type RawParley, rawParley } from "../raw-parley.ts";

/** The repository root (the CLI is started from here). */
export const ROOT = resolve(import.meta.dir, "../..");
/** The bun binary running this test: the pinned one from node_modules. */
export const BUN = process.execPath;
export const MAIN = join(ROOT, "src/cli/main.ts");
/**
 * Node itself, as `npx parley` runs bin.cjs, or undefined: under `bun run test` the PATH's first
 * `node` is Bun's stand-in (a bun-node-* folder whose `node` is Bun), passed over here.
 */
export const NODE: string | undefined =
  Bun.which("node", {
    PATH: (process.env.PATH ?? "")
      .split(":")
      .filter((dir) => !/(^|\/)bun-node-[^/]*$/.test(dir))
      .join(":"),
  }) ?? undefined;

/**
 * How the tests start the CLI: as package.json's scripts do (src/cli/launch.sh, asked once a test
 * file), the built CLI (build/parley, made at `npm ci`) while nothing it was built from has changed
 * since, else `bun src/cli/main.ts`: an edited source is what the tests run.
 */
export const PARLEY: readonly string[] = launchedCommand();
/** PARLEY quoted for bash. */
export const PARLEY_SHELL = shellWords(PARLEY);

function launchedCommand(): string[] {
  const which = Bun.spawnSync(["sh", join(ROOT, "src/cli/launch.sh")], {
    env: { ...process.env, PARLEY_LAUNCH_WHICH: "1" },
    stderr: "inherit",
  });
  const words = which.stdout.toString().split("\n").filter(Boolean);
  if (which.exitCode !== 0 || words.length === 0) throw new Error("src/cli/launch.sh named no command");
  return words[0] === "bun" ? [BUN, MAIN] : words;
}

/**
 * The environment the CLI runs with in tests: this one's, over the launchers' (src/cli/launch-env.cjs,
 * a variable set here wins, as through bin.cjs), so what a test bounds (memory above all: the
 * launchers' 32 MiB heap before the young generation's budget grows raises peak RSS) is Parley
 * as it is started, not Bun's defaults.
 */
export function launchedEnv(): Record<string, string | undefined> {
  return { ...(require("../../src/cli/launch-env.cjs") as Record<string, string>), ...process.env };
}
/** Default bound for one wait; far above what a healthy run needs on a 2-core machine. */
export const WAIT_MS = 10_000;

type Waiter = {
  readonly re: RegExp;
  readonly from: number;
  readonly failOn: RegExp | undefined;
  readonly resolve: (m: LineMatch) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
};

export interface LineMatch {
  readonly match: RegExpMatchArray;
  /** Index of the matching line in `lines`; pass `index + 1` as `from` to wait for a later one. */
  readonly index: number;
  readonly line: string;
}

const live = new Set<Cli>();
const tempDirs: string[] = [];

// Last resort if the test runner itself goes down before afterEach: no orphans.
process.on("exit", () => {
  for (const cli of live) cli.proc.kill("SIGKILL");
});

/** One running CLI process. */
export class Cli {
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  /** Complete stdout lines so far. */
  readonly lines: string[] = [];
  /** Everything written to stderr so far. */
  stderr = "";
  /** Resolves with the exit code (Bun reports 128 + n after a signal the process did not handle). */
  readonly exited: Promise<number>;
  private partial = "";
  private waiters: Waiter[] = [];
  private done = false;
  private stdinOpen = true;

  /**
   * `args` are the CLI's; `command` (when given) is the whole command line instead, run in `cwd`,
   * as the user `as` names (NormalUser's ids and env(); this process's own when empty).
   */
  constructor(
    readonly label: string,
    args: readonly string[],
    command?: readonly string[],
    cwd = ROOT,
    as: {
      readonly uid?: number;
      readonly gid?: number;
      /** Added to the environment (NormalUser's env(): a TMPDIR that user may enter). */
      readonly env?: Readonly<Record<string, string>>;
    } = {},
  ) {
    const { env, ...ids } = as;
    this.proc = Bun.spawn(command ? [...command] : [...PARLEY, ...args], {
      ...ids,
      cwd,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...launchedEnv(), NO_COLOR: "1", PARLEY_DEBUG: "", ...env },
    });
    const out = this.pump(this.proc.stdout, (text) => this.onStdout(text));
    const err = this.pump(this.proc.stderr, (text) => {
      this.stderr += text;
    });
    // Exit code only after both pipes are drained, so every line is in `lines` when it resolves.
    this.exited = Promise.all([this.proc.exited, out, err]).then(([code]) => {
      this.done = true;
      live.delete(this);
      this.failWaiters();
      return code;
    });
    live.add(this);
  }

  /** Stdout so far as one string. */
  get stdout(): string {
    return [...this.lines, this.partial].join("\n");
  }

  /**
   * Resolves with the first line at index >= `from` matching `re`, looking at lines already
   * printed first. Rejects after `timeoutMs`, at once when the process exits without it, or
   * as soon as a line (at index >= `from`) matches `failOn`, so a known failure fails fast.
   */
  waitForLine(re: RegExp, timeoutMs = WAIT_MS, from = 0, failOn?: RegExp): Promise<LineMatch> {
    const failed = failOn && this.find(failOn, from);
    if (failed) return Promise.reject(this.missing(re, `got "${failed.line}" instead`));
    const found = this.find(re, from);
    if (found) return Promise.resolve(found);
    if (this.done) return Promise.reject(this.missing(re, "the process exited"));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        re,
        from,
        failOn,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(this.missing(re, `${timeoutMs} ms passed`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once stderr matches `re`; rejects after `timeoutMs` or when the process exits. */
  async waitForStderr(re: RegExp, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.stderr)) {
      if (this.done || Date.now() > deadline) {
        throw new Error(`${this.label}: stderr never matched ${re}\n${this.describe()}`);
      }
      await Bun.sleep(20);
    }
  }

  /** Lines (so far) matching `re`. */
  linesMatching(re: RegExp): string[] {
    return this.lines.filter((l) => re.test(l));
  }

  /** Types one line into stdin. */
  send(line: string): void {
    if (!this.stdinOpen) throw new Error(`${this.label}: stdin already closed`);
    this.proc.stdin.write(`${line}\n`);
    this.proc.stdin.flush();
  }

  /** Closes stdin (EOF). */
  endInput(): void {
    if (!this.stdinOpen) return;
    this.stdinOpen = false;
    this.proc.stdin.end();
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  /** Waits for exit, bounded; on timeout the process is killed and the promise rejects. */
  async exitCode(timeoutMs = WAIT_MS): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.proc.kill("SIGKILL");
        reject(new Error(`${this.label} did not exit within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  describe(): string {
    return `--- ${this.label} stdout ---\n${this.stdout}\n--- ${this.label} stderr ---\n${this.stderr}`;
  }

  private find(re: RegExp, from: number): LineMatch | undefined {
    for (let i = from; i < this.lines.length; i++) {
      const line = this.lines[i] as string;
      const match = line.match(re);
      if (match) return { match, index: i, line };
    }
    return undefined;
  }

  private missing(re: RegExp, why: string): Error {
    return new Error(`${this.label}: no line matching ${re} (${why})\n${this.describe()}`);
  }

  private onStdout(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    if (parts.length === 0) return;
    this.lines.push(...parts.map((l) => l.replace(/\r$/, "")));
    for (const w of [...this.waiters]) {
      const failed = w.failOn && this.find(w.failOn, w.from);
      const found = failed ? undefined : this.find(w.re, w.from);
      if (!failed && !found) continue;
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      if (found) w.resolve(found);
      else if (failed) w.reject(this.missing(w.re, `got "${failed.line}" instead`));
    }
  }

  private failWaiters(): void {
    if (this.partial !== "") {
      this.onStdout("\n");
    }
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(this.missing(w.re, "the process exited"));
    }
    this.waiters = [];
  }

  private async pump(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
    const rest = decoder.decode();
    if (rest) onText(rest);
  }
}

/** Starts the CLI with `args`. */
export function startCli(label: string, args: readonly string[]): Cli {
  return new Cli(label, args);
}

/**
 * Starts the CLI under bash with a file-size limit of `maxFileBytes` (`ulimit -f`), SIGXFSZ
 * ignored so that writes past it fail with EFBIG as on a full disk instead of killing it.
 */
export function startCliWithFileLimit(label: string, args: readonly string[], maxFileBytes: number): Cli {
  const cli = shellWords([...PARLEY, ...args]);
  const blocks = Math.floor(maxFileBytes / 1024);
  return new Cli(label, args, ["bash", "-c", `trap '' XFSZ; ulimit -f ${blocks}; exec ${cli}`]);
}

/**
 * Starts a CLI listening on 127.0.0.1 with its own download dir, and waits for its port.
 * `env` is added to its environment.
 */
export async function startPeer(
  name: string,
  extra: readonly string[] = [],
  env?: Readonly<Record<string, string>>,
): Promise<Peer> {
  const dir = makeTempDir();
  const args = ["--host", "127.0.0.1", "--dir", dir, "--name", name, "--no-progress", ...extra];
  const cli = env ? new Cli(name, args, undefined, undefined, { env }) : startCli(name, args);
  const { match } = await cli.waitForLine(/^Listening on 127\.0\.0\.1:(\d+) · code (\d+-[a-z]+-[a-z]+)$/);
  return { cli, dir, port: Number(match[1]), code: match[2] as string };
}

export interface Peer {
  readonly cli: Cli;
  /** Its download directory. */
  readonly dir: string;
  /** The port it listens on. */
  readonly port: number;
  /** Its connection code (port-word-word). */
  readonly code: string;
}

/** A raw Parley (test/raw-parley.ts) that dials `peer` with its code as the leader, once `peer` says the code was verified. */
export async function rawLeaderInto(peer: Peer): Promise<RawParley> {
  const raw = await rawParley(peer.port, { leader: true, words: peer.code.replace(/^\d+-/, "") });
  await peer.cli.waitForLine(/^Encrypted and verified with the code/);
  return raw;
}

/** Starts alice and bob, has alice dial bob with bob's code, and waits until both say "Connected to". */
export async function connectedPair(): Promise<{ a: Peer; b: Peer }> {
  const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
  a.cli.send(b.code);
  await Promise.all([
    a.cli.waitForLine(/^Connected to bob at 127\.0\.0\.1:\d+\. /),
    b.cli.waitForLine(/^Connected to alice at 127\.0\.0\.1\. /), // dialed: the host alone
  ]);
  return { a, b };
}

/**
 * The port and code words a listening CLI shows (its --json `listening` event, or its human line):
 * what a raw peer (test/raw-parley.ts) dials it with.
 */
export async function listeningCode(cli: Cli, json: boolean): Promise<{ port: number; words: string }> {
  if (json) {
    const { line } = await cli.waitForLine(/"type":"listening"/);
    const { port, code } = JSON.parse(line) as { port: number; code: string };
    return { port, words: code.replace(/^\d+-/, "") };
  }
  const { match } = await cli.waitForLine(/· code (\d+)-([a-z]+-[a-z]+)$/);
  return { port: Number(match[1]), words: match[2] as string };
}

/**
 * `parley receive --dir DIR --json`, once it is listening; with the port it listens on and its
 * code. `umask` (octal text): run under that umask (through bash).
 */
export async function jsonReceiver(dir: string, umask?: string): Promise<{ cli: Cli; port: number; code: string }> {
  const args = ["receive", "--dir", dir, "--json"];
  const cli =
    umask === undefined
      ? startCli("receiver", args)
      : new Cli("receiver", args, ["bash", "-c", `umask ${umask}; exec ${shellWords([...PARLEY, ...args])}`]);
  const { line } = await cli.waitForLine(/"type":"listening"/);
  const { port, code } = JSON.parse(line) as { port: number; code: string };
  return { cli, port, code };
}

/** `words` quoted for bash. */
export function shellWords(words: readonly string[]): string {
  return words.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
}

/**
 * `size` pseudo-random bytes from `seed` (xorshift32): the same every run, so a failure can be
 * replayed, and incompressible enough for transfer tests.
 */
export function seededBytes(size: number, seed = 1): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  // Copied in through a view, not Buffer.from(words.buffer, 0, size): with each test file in a
  // global object of its own (`bun test --parallel`, which implies --isolate), Bun 1.4.5's
  // Buffer.from at times did not take this file's ArrayBuffer for one and fell through to
  // TypedArray.from(buffer, 0, size): "TypedArray.from requires that the second argument, when
  // provided, be a function" (24 tests of --parallel=2, every one through here).
  const bytes = Buffer.alloc(size);
  bytes.set(new Uint8Array(words.buffer, 0, size));
  return bytes;
}

/** A file of `size` seeded pseudo-random bytes in a fresh temp dir (removed by `cleanup()`). */
export function randomFile(name: string, size: number, seed = size): { path: string; bytes: Buffer } {
  const path = join(makeTempDir(), name);
  const bytes = seededBytes(size, seed);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** Reads `reader` until the text read so far matches `re`; that text. Fails if the stream ends first. */
export async function readUntil(
  reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> },
  re: RegExp,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  while (!re.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before ${re}: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

/** A fresh directory under the OS temp dir, removed by `cleanup()`. */
export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-e2e-"));
  tempDirs.push(dir);
  return dir;
}

/** Kills every CLI still running (SIGKILL), waits for them, removes temp dirs. */
export async function cleanup(): Promise<void> {
  const running = [...live];
  for (const cli of running) cli.proc.kill("SIGKILL");
  await Promise.all(running.map((cli) => cli.exited.catch(() => {})));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A port on 127.0.0.1 that nothing listens on. It is taken below the kernel's range for
 * ports it hands out itself (ip_local_port_range), so a test file running beside this one
 * that listens on port 0, or dials out, is never given it between our check and our dial;
 * the check binds it once and releases it. The tests bind no port by number.
 */
export function closedPort(): number {
  const lowest = firstKernelPort();
  for (let tries = 0; tries < 100; tries++) {
    const port = 1024 + Math.floor(Math.random() * (lowest - 1024));
    try {
      const server = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
      server.stop(true);
      return port;
    } catch {
      // Taken by a program of this machine: try another.
    }
  }
  throw new Error("closedPort: no free port below the kernel's range");
}

/** The first port the kernel hands out for port 0 and outgoing connections. */
function firstKernelPort(): number {
  try {
    const range = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const first = Number(range.trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 2048) return first;
  } catch {
    // Not Linux: 32768 is below both Linux's default range and IANA's (49152 up).
  }
  return 32768;
}
