/**
 * The terminal as the chat starts: the first lines ("Listening on ... · code ...") are written
 * at once by a plain line writer (the process's: fd 1, before it returns), and the real terminal
 * (terminal.ts: the TTY check, then tty-terminal.ts's readline or the plain kind) is opened on
 * the next turn of the event loop, once those lines are out. Setting up Node's stdio streams and readline takes
 * longer than everything else before the code is shown (tens of ms); the user cannot type in
 * that time, and what they type is kept by the OS until it is read.
 *
 * Lines printed before the open are written synchronously, so they come before anything the
 * real terminal writes. A prompt set before the open is handed over at the open. Without a
 * writer (a test's streams) the real terminal opens at once.
 */

import type { Terminal, TerminalHandlers, TerminalStreams } from "./terminal-interface.ts";

type TerminalModule = typeof import("./terminal.ts");

export interface TerminalOptions {
  progress: boolean;
  skippedLine: (n: number) => string;
  /** Printed when a piped input line longer than terminal.ts's MAX_INPUT_LINE_CHARS was dropped. */
  tooLongLine: string;
  /** The terminal cannot move its cursor (TERM=dumb): plain lines, as for a pipe. */
  dumb?: boolean;
}

/**
 * A Terminal that writes its first lines with `writeLineNow` and opens the real one (on
 * `streams()`) on the next turn, or at once when there is no `writeLineNow`.
 */
export function openTerminalSoon(
  handlers: TerminalHandlers,
  options: TerminalOptions,
  streams: () => TerminalStreams,
  writeLineNow?: (line: string) => void,
): Terminal {
  const terminal = new StartingTerminal(handlers, options, streams, writeLineNow);
  if (!writeLineNow) terminal.open();
  return terminal;
}

class StartingTerminal implements Terminal {
  private real: Terminal | undefined;
  private prompt: string | undefined;
  private closed = false;
  private readonly timer: ReturnType<typeof setImmediate> | undefined;

  constructor(
    private readonly handlers: TerminalHandlers,
    private readonly options: TerminalOptions,
    private readonly streams: () => TerminalStreams,
    private readonly writeLineNow: ((line: string) => void) | undefined,
  ) {
    if (writeLineNow) this.timer = setImmediate(() => this.open());
  }

  get interactive(): boolean {
    return !this.gone && this.opened().interactive;
  }

  get typing(): boolean {
    return this.real?.typing ?? false;
  }

  print(line: string): void {
    if (this.real || !this.writeLineNow) this.opened().print(line);
    else this.writeLineNow(line);
  }

  printFromPeer(line: string): void {
    if (this.gone)
      this.writeLineNow?.(line); // said all the same: nothing received is dropped
    else this.opened().printFromPeer(line);
  }

  pauseInput(): void {
    if (!this.gone) this.opened().pauseInput();
  }

  resumeInput(): void {
    if (!this.gone) this.opened().resumeInput();
  }

  setPrompt(prompt: string): void {
    if (this.real) this.real.setPrompt(prompt);
    else this.prompt = prompt;
  }

  startProgress(key: number, label: string, total: number | null): void {
    if (!this.gone) this.opened().startProgress(key, label, total);
  }

  updateProgress(key: number, bytes: number): void {
    if (!this.gone) this.opened().updateProgress(key, bytes);
  }

  endProgress(key: number): void {
    if (!this.gone) this.opened().endProgress(key);
  }

  close(): Promise<void> {
    clearImmediate(this.timer);
    if (this.real) return this.real.close();
    this.closed = true; // nothing read yet; every line went out synchronously
    return Promise.resolve();
  }

  /**
   * Closed before the real terminal opened: nothing opens it after that (review30: a peer's line,
   * a pause or a bar after close() opened readline on stdin again, at the chat's end).
   */
  private get gone(): boolean {
    return this.closed && !this.real;
  }

  /** Opens the real terminal unless it is open or this one was closed first. */
  open(): void {
    if (!this.real && !this.closed) this.opened();
  }

  /** The real terminal, opened now if it was not yet. */
  private opened(): Terminal {
    if (!this.real) {
      clearImmediate(this.timer);
      const { openTerminal } = require("./terminal.ts") as TerminalModule;
      this.real = openTerminal(this.handlers, this.options, this.streams());
      if (this.prompt !== undefined) this.real.setPrompt(this.prompt);
    }
    return this.real;
  }
}
