/**
 * What a terminal is to the chat: the Terminal it prints to and reads from, the handlers its
 * input goes to, and the streams it is opened on. Both kinds (plain lines in terminal.ts, the
 * TTY's screen in tty-terminal.ts) keep it, and the two output rules here: an output error is
 * the reader gone (printing stops) or a failure (`outputFailed`), and closing waits for what was
 * written. The chat and the starting terminal import only these types, so the path to the
 * chat's first line loads neither kind (starting-terminal.ts).
 */

import type { GatedStream } from "./output-gate.ts";
import { readerGone } from "./reader-gone.ts";

export interface TerminalHandlers {
  line(text: string): void;
  /** End of input (Ctrl-D, or the end of piped stdin). */
  end(): void;
  /** Ctrl-C typed at the TTY (raw mode swallows SIGINT). */
  interrupt(): void;
  /**
   * The output cannot be written (`> /dev/full`: ENOSPC; EFBIG, EIO, EBADF), as against a reader
   * gone (EPIPE; at a terminal EIO, a hang-up: SIGHUP follows), where printing just stops. Called
   * once per failed write. Absent: the error is thrown.
   */
  outputFailed?(err: NodeJS.ErrnoException): void;
}

/** Where the terminal reads lines and prints: process.stdin/stdout, or a test's. */
export interface TerminalStreams {
  readonly input: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly output: GatedStream & {
    write(text: string, callback?: (err?: Error | null) => void): boolean;
    on?(event: "error", listener: (err: NodeJS.ErrnoException) => void): unknown;
    readonly isTTY?: boolean;
  };
}

export interface Terminal {
  readonly interactive: boolean;
  /** The user has typed part of a line and not pressed Enter yet (always false when plain). */
  readonly typing: boolean;
  print(line: string): void;
  /** A line whose text the peer chose (chat): skipped, and counted, while the output is backed up. */
  printFromPeer(line: string): void;
  setPrompt(prompt: string): void;
  startProgress(key: number, label: string, total: number | null): void;
  updateProgress(key: number, bytes: number): void;
  endProgress(key: number): void;
  /**
   * Reads no more input until resumeInput (the lines held elsewhere are at their bound); the
   * lines of a chunk already read still come.
   */
  pauseInput(): void;
  resumeInput(): void;
  /** Stops reading input and flushes output. */
  close(): Promise<void>;
}

/** Resolves once everything written to `out` before it has been handed on. */
export function flush(out: TerminalStreams["output"]): Promise<void> {
  return new Promise((resolve) => out.write("", () => resolve()));
}

/** An output error: the reader gone (reader-gone.ts) lets printing stop; any other goes to `outputFailed`. */
export function failedOutput(handlers: TerminalHandlers, err: NodeJS.ErrnoException, tty: boolean): void {
  if (readerGone(err, tty)) return;
  if (!handlers.outputFailed) throw err;
  handlers.outputFailed(err);
}
