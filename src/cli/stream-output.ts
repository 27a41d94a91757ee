/**
 * Where `receive --stdout` writes the file's bytes: standard output, reopened non-blocking
 * when it is a pipe (`| reader`, `> fifo`).
 *
 * A shell hands fd 1 over blocking: a reader that stops reading would block the process in
 * write(2), and with it Ctrl-C, PINGs and the 10 s stall check of StreamReceiver, which all
 * expect EAGAIN. Setting O_NONBLOCK on fd 1 itself would change it for every other process
 * sharing that pipe (the shell, `(parley receive --stdout; echo done) | x`), so the pipe is
 * opened again through /proc/self/fd/1: a file description of our own on the same pipe.
 * Anything else (a file, a terminal), or where that open fails, is fd 1 as it is.
 *
 * A closed stdout (`>&-`) is not an output: the runtime (Bun, and Node under the `parley` bin)
 * puts /dev/null there, opened read-write, before our code runs. stdoutIsClosed() tells it from
 * a chosen `> /dev/null` (a shell opens that write-only), so the file is not thrown away unsaid.
 * The same holds for `parley send -` with standard input closed (`<&-`): stdinProblem().
 */

import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from "node:fs";

export interface StreamOutput {
  /** The descriptor to write the file to. */
  readonly fd: number;
  /** Closes the descriptor this opened (fd 1 itself stays open). */
  close(): void;
}

export function openStreamOutput(): StreamOutput {
  let fd = 1;
  try {
    if (fstatSync(1).isFIFO()) fd = openSync("/proc/self/fd/1", constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    // No /proc, or no reader left (ENXIO): fd 1 as it is; its own write errors say the rest.
    fd = 1;
  }
  return {
    fd,
    close: () => {
      if (fd !== 1) closeSync(fd);
      fd = 1;
    },
  };
}

/**
 * How long the output may stay full before the transfer fails (StreamReceiver's stallMs):
 * PARLEY_OUTPUT_STALL_MS when that is a whole number of ms above 0, so a test reaches the stall
 * without waiting the 10 s out; else undefined: StreamReceiver's documented 10 s
 * (OUTPUT_STALL_MS; not imported here, so that start-up loads nothing of the transfer layer).
 */
export function outputStallMs(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const ms = Number(env.PARLEY_OUTPUT_STALL_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

/**
 * Why `receive --stdout` cannot write the file to standard output, or undefined: it was closed at
 * start (stdoutIsClosed: the file would go nowhere), or it is a terminal: the peer's bytes raw
 * there would run as escape sequences (clear the screen, set the title, write the clipboard),
 * where everything else the peer sends is shown made safe.
 */
export function stdoutProblem(closed: boolean, terminal: boolean): string | undefined {
  if (closed) return "standard output is closed (>&-): the file would go nowhere (to throw it away: > /dev/null)";
  if (terminal) {
    return "standard output is a terminal, where the peer's bytes would run as escape sequences; redirect it (> file, | program)";
  }
  return undefined;
}

/** The access-mode bits of open(2)'s flags (node:fs's constants lack it). */
const O_ACCMODE = 0o3;

/**
 * True when fd 1 was closed when the process started: it is /dev/null opened read-write (what
 * Bun and Node put in place of a closed descriptor; a shell's `> /dev/null` opens write-only).
 * A parent that hands over /dev/null read-write itself (Node's and Python's "ignore"/DEVNULL)
 * looks the same: the error says how to throw the file away. Linux only (it reads
 * /proc/self/fdinfo/1); elsewhere false.
 */
export function stdoutIsClosed(): boolean {
  return closedAtStart(1);
}

/** The runtime's stand-in for descriptor `fd` closed at start (see stdoutIsClosed). */
function closedAtStart(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice() || stat.rdev !== statSync("/dev/null").rdev) return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
    return flags !== null && (Number.parseInt(flags[1] as string, 8) & O_ACCMODE) === constants.O_RDWR;
  } catch {
    return false; // no /proc: as if open
  }
}

/**
 * Why standard input cannot be sent as `-` ("- (standard input) " goes in front), or undefined: closed at start (`<&-`: the runtime's
 * /dev/null would send an empty file nobody asked for; a shell's `< /dev/null` is read-only and
 * allowed), or a directory (`< dir`: reading it fails).
 */
export function stdinProblem(): string | undefined {
  if (closedAtStart(0)) return "is closed (<&-): there is nothing to send (for an empty file: < /dev/null)";
  try {
    if (fstatSync(0).isDirectory()) return "is a folder: send the folder by its path instead";
  } catch {
    // Not to be looked at here: reading it says what is wrong.
  }
  return undefined;
}
