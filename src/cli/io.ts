/**
 * What a command may touch of the outside world, injected: its streams, working directory,
 * environment and signals. `processIo()` is the real process; tests pass their own, so a
 * command runs in-process with no subprocess.
 */

import { watchHeldOutput } from "./held-output.ts";
import { isOutputFailure } from "./output-failure.ts";

/** SIGHUP: the terminal went away (its window closed, the ssh connection dropped). */
export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** How each signal is named to the user ("Interrupted (Ctrl-C): telling the peer ..."). */
export const SIGNAL_WORDS: Readonly<Record<Signal, string>> = {
  SIGINT: "Interrupted (Ctrl-C)",
  SIGTERM: "Terminated (SIGTERM)",
  SIGHUP: "Hung up (SIGHUP)",
};

/** A stream the command prints to (process.stdout/stderr or a test's capture). */
export interface OutStream {
  write(text: string | Uint8Array, callback?: (err?: Error | null) => void): boolean;
  on?(event: "error", listener: (err: NodeJS.ErrnoException) => void): unknown;
  /** "drain": what a write could not hand to the OS at once has been handed over. */
  once?(event: "drain", listener: () => void): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Standard input as a byte stream (`send -`). */
  stdinBytes(): ReadableStream<Uint8Array>;
  /**
   * Writes one line (the newline is added) to standard output (`fd` 2: standard error) at once,
   * without setting up that stream (Node's stdio streams cost tens of ms at start-up): the
   * chat's, send's and receive's first lines. Absent: use `stdout` and `stderr`.
   */
  readonly writeLineNow?: (line: string, fd?: 1 | 2) => void;
  /** True when standard output was closed at start (`>&-`; stream-output.ts). Absent: open. */
  readonly stdoutClosed?: () => boolean;
  /** The stat of standard output (`err`: of standard error), where the code is printed; absent or undefined: unknown. */
  readonly outputStat?: (err: boolean) => OutputStat | undefined;
  /** The stat of standard input (`receive --ask`: whether its terminal is the questions'); absent or undefined: unknown. */
  readonly inputStat?: () => OutputStat | undefined;
  /** Why standard input cannot be sent as `-` (closed at start, a folder; stream-output.ts). Absent: none. */
  readonly stdinProblem?: () => string | undefined;
  /** Calls `handler` on SIGINT, SIGTERM and SIGHUP until the returned function is called. */
  onSignal(handler: (signal: Signal) => void): () => void;
}

/** What outputStat tells of standard output or error (fstat's). */
export interface OutputStat {
  readonly mode: number;
  readonly uid: number;
  readonly dev: number;
  readonly ino: number;
  /** A device's number (a terminal's: /dev/pts/3 is 136,3); 0 or absent for a file or pipe. */
  readonly rdev?: number;
}

/** Two outputStat()s of one open file, pipe or terminal: standard output and error go to one place (`> log 2>&1`). */
export function sameFile(
  a: { readonly dev: number; readonly ino: number } | undefined,
  b: { readonly dev: number; readonly ino: number } | undefined,
): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** /dev/tty's device number (5,0): the process's controlling terminal, whichever that is. */
const DEV_TTY = (5 << 8) | 0;
const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;

/**
 * sameFile, or one terminal reached by two paths: both character devices of one device number,
 * /dev/tty's taken as the controlling terminal's (`2>/dev/tty` beside /dev/pts/3 is that one
 * terminal when it is the controlling one). Two terminals (`2>/dev/pts/5`) are two places, which
 * isTTY alone cannot tell. @param controllingTty - the controlling terminal's device number
 * (/proc/self/stat's tty_nr, read only when /dev/tty is one of them)
 */
export function samePlace(
  a: OutputStat,
  b: OutputStat,
  controllingTty: () => number | undefined = controllingTerminal,
): boolean {
  if (sameFile(a, b)) return true;
  const device = (s: OutputStat) =>
    (s.mode & S_IFMT) !== S_IFCHR || !s.rdev ? undefined : s.rdev === DEV_TTY ? controllingTty() : s.rdev;
  const da = device(a);
  return da !== undefined && da === device(b);
}

/** fstat of one of this process's standard descriptors; undefined where it cannot be had (closed). */
function fdStat(fd: 0 | 1 | 2): OutputStat | undefined {
  try {
    return (require("node:fs") as typeof import("node:fs")).fstatSync(fd);
  } catch {
    return undefined;
  }
}

/** The controlling terminal's device number (/proc/self/stat's tty_nr); undefined off Linux or with none. */
function controllingTerminal(): number | undefined {
  try {
    const stat = (require("node:fs") as typeof import("node:fs")).readFileSync("/proc/self/stat", "utf8");
    // "pid (comm) state ppid pgrp session tty_nr ...": comm may hold spaces and brackets.
    const tty = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[4]);
    return tty > 0 ? tty : undefined;
  } catch {
    return undefined;
  }
}

export function processIo(): CliIo {
  return {
    // Getters: touching process.stdout switches fd 1 to non-blocking in Bun, which
    // `receive --stdout` must not have unless it prints there.
    get stdin() {
      return process.stdin;
    },
    // Watched (held-output.ts): the exit waits for what a slow reader has not taken yet.
    get stdout() {
      return watchHeldOutput(checkLostLines(process.stdout));
    },
    get stderr() {
      return watchHeldOutput(process.stderr);
    },
    cwd: process.cwd(),
    env: process.env,
    stdinBytes: () => Bun.stdin.stream(),
    writeLineNow,
    // Loaded when asked (receive --stdout): node:fs is not for the chat's start-up.
    stdoutClosed: () => (require("./stream-output.ts") as typeof import("./stream-output.ts")).stdoutIsClosed(),
    outputStat: (err) => fdStat(err ? 2 : 1),
    inputStat: () => fdStat(0),
    stdinProblem: () => (require("./stream-output.ts") as typeof import("./stream-output.ts")).stdinProblem(),
    onSignal: (handler) => {
      const onInt = (): void => handler("SIGINT");
      const onTerm = (): void => handler("SIGTERM");
      const onHup = (): void => handler("SIGHUP");
      let subscribed = true;
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
      // Not under nohup (SIGHUP ignored when we started): a listener would undo that. Known by
      // now (read when this module loaded), so SIGHUP is caught from here on, like the others.
      if (hupIgnoredAtStart === false) process.on("SIGHUP", onHup);
      else if (hupIgnoredAtStart === undefined) {
        void hupIgnoredKnown.then((ignored) => {
          if (!ignored && subscribed) process.on("SIGHUP", onHup);
        });
      }
      return () => {
        subscribed = false;
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        process.off("SIGHUP", onHup);
      };
    },
  };
}

/**
 * Whether this process started with SIGHUP ignored (`nohup parley ...`), from /proc/self/status
 * (read off the start-up path: Bun reads it on its own thread). Unknown (no /proc): treated as
 * ignored, so the default is never undone. Read when this module loads, long before the run
 * subscribes to signals: a listener installed first would change what /proc says (caught, not
 * ignored), and the subscription waiting for the read left SIGHUP deadly for its first
 * milliseconds. (node:fs's synchronous read would cost about 4 ms of start-up.)
 */
let hupIgnoredAtStart: boolean | undefined;
const hupIgnoredKnown: Promise<boolean> = sigHupIgnored().then((ignored) => {
  hupIgnoredAtStart = ignored;
  return ignored;
});

/** See hupIgnoredAtStart. */
function sigHupIgnored(): Promise<boolean> {
  return Bun.file("/proc/self/status")
    .text()
    .then(
      (status) => {
        const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status)?.[1];
        return mask === undefined || (BigInt(`0x${mask}`) & 1n) === 1n;
      },
      () => true,
    );
}

/**
 * Writes `line` and a newline to fd 1 (`fd` 2: fd 2) before returning, through Bun's console: a
 * string alone is written as it is (no format directives), a full non-blocking pipe is waited
 * for, and the descriptor is left as it was. Not node:fs's writeSync: loading node:fs cost the
 * start-up 5-10 ms. A reader that went away loses the lines, as with the later output.
 */
function writeLineNow(line: string, fd: 1 | 2 = 1): void {
  if (fd === 2) console.error(line);
  else {
    console.log(line);
    linesNotChecked = true;
    if (firstLines !== undefined) firstLines += `${line}\n`;
  }
}

/** writeLineNow wrote to fd 1 and checkLostLines has not looked yet. */
let linesNotChecked = false;
/** What writeLineNow wrote to fd 1 before checkLostLines first looked (nothing else had written there). */
let firstLines: string | undefined = "";

/**
 * Bun's console drops a write that fails (ENOSPC of `> /dev/full`, EBADF, EIO) without a word, so
 * writeLineNow's lines can be lost unsaid: a listener whose code line went nowhere waited for ever,
 * printing nothing (session 21: `parley receive > /dev/full`, `parley send F`, the chat). When the
 * stream that prints after them is first handed out, a write of nothing to fd 1 asks the OS (it
 * fails as theirs did on /dev/full, a descriptor closed or read-only, a terminal gone), and its
 * error is the stream's "error" on the next turn, once its printers listen (output-failure.ts: one
 * line on stderr, the run ends, exit 1). A file on a full file system takes an empty write (only
 * a real one fails): there, the first lines that fd 1's offset shows did not arrive are written
 * again, and that write fails as theirs did (newuser21: a listener on a full ext4 or tmpfs).
 */
function checkLostLines(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (!linesNotChecked) return stream;
  linesNotChecked = false;
  const fs = require("node:fs") as typeof import("node:fs");
  try {
    fs.writeSync(1, firstLines === undefined ? new Uint8Array(0) : linesNotArrived(fs, firstLines));
  } catch (err) {
    if (isOutputFailure(err, stream)) setImmediate(() => stream.emit("error", err));
  }
  firstLines = undefined;
  return stream;
}

/**
 * Of `lines`, the first written to fd 1, the bytes past fd 1's offset in its file (Linux's
 * /proc/self/fdinfo/1 `pos`, which a failed write leaves where it was; also under O_APPEND):
 * those never arrived. Empty when fd 1 is no regular file, or its offset is past them all (a
 * file appended to that held more: a loss there is not seen), or the offset cannot be read.
 */
function linesNotArrived(fs: typeof import("node:fs"), lines: string): Uint8Array {
  try {
    if (!fs.fstatSync(1).isFile()) return new Uint8Array(0);
    const pos = /^pos:\s*(\d+)$/m.exec(fs.readFileSync("/proc/self/fdinfo/1", "utf8"))?.[1];
    const bytes = Buffer.from(lines);
    return pos === undefined ? new Uint8Array(0) : bytes.subarray(Math.min(Number(pos), bytes.length));
  } catch {
    return new Uint8Array(0);
  }
}
