/**
 * The terminal as the chat starts: the first lines ("Listening on ... · code ...") are written
 * straight to file descriptor 1, and the real terminal (terminal.ts: node:readline, the stdio
 * streams, the TTY check) is opened on the next turn of the event loop, once those lines are
 * out. Setting up Node's stdio streams and readline takes longer than everything else before
 * the code is shown (tens of ms); the user cannot type in that time, and what they type is
 * kept by the OS until it is read.
 *
 * Lines printed before the open are written synchronously, so they come before anything the
 * real terminal writes. A prompt set before the open is handed over at the open.
 */

import { writeSync } from "node:fs";
import type { Terminal, TerminalHandlers } from "./terminal.ts";

type TerminalModule = typeof import("./terminal.ts");

export interface TerminalOptions {
  progress: boolean;
  skippedLine: (n: number) => string;
}

/** A Terminal that writes its first lines at once and opens the real one on the next turn. */
export function openTerminalSoon(handlers: TerminalHandlers, options: TerminalOptions): Terminal {
  return new StartingTerminal(handlers, options);
}

class StartingTerminal implements Terminal {
  private real: Terminal | undefined;
  private prompt: string | undefined;
  private closed = false;
  private readonly timer: ReturnType<typeof setImmediate>;

  constructor(
    private readonly handlers: TerminalHandlers,
    private readonly options: TerminalOptions,
  ) {
    this.timer = setImmediate(() => this.open());
  }

  get interactive(): boolean {
    return this.opened().interactive;
  }

  get typing(): boolean {
    return this.real?.typing ?? false;
  }

  print(line: string): void {
    if (this.real) this.real.print(line);
    else writeNow(`${line}\n`);
  }

  printFromPeer(line: string): void {
    this.opened().printFromPeer(line);
  }

  setPrompt(prompt: string): void {
    if (this.real) this.real.setPrompt(prompt);
    else this.prompt = prompt;
  }

  startProgress(key: number, label: string, total: number | null): void {
    this.opened().startProgress(key, label, total);
  }

  updateProgress(key: number, bytes: number): void {
    this.opened().updateProgress(key, bytes);
  }

  endProgress(key: number): void {
    this.opened().endProgress(key);
  }

  close(): Promise<void> {
    clearImmediate(this.timer);
    if (this.real) return this.real.close();
    this.closed = true; // nothing read yet; every line went out synchronously
    return Promise.resolve();
  }

  private open(): void {
    if (!this.real && !this.closed) this.opened();
  }

  /** The real terminal, opened now if it was not yet. */
  private opened(): Terminal {
    if (!this.real) {
      clearImmediate(this.timer);
      const { openTerminal } = require("./terminal.ts") as TerminalModule;
      this.real = openTerminal(this.handlers, this.options);
      if (this.prompt !== undefined) this.real.setPrompt(this.prompt);
    }
    return this.real;
  }
}

/** Writes `text` to fd 1 at once (what a full non-blocking stdout did not take goes through process.stdout). */
function writeNow(text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done);
  } catch (err) {
    if ((err as { code?: string }).code !== "EAGAIN") throw err;
    process.stdout.write(bytes.subarray(done));
  }
}
