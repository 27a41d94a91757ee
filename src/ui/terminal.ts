/**
 * The user's terminal: reads input lines and prints events without disturbing them.
 *
 * TTY mode: node:readline owns the input line. Output is printed above it: the prompt and any
 * progress lines are cleared, the message written, then progress lines and the prompt redrawn
 * with whatever the user had half typed. Progress lines repaint at most 10 times a second.
 * Plain mode (stdin or stdout not a TTY): no prompt, no bars, no escape codes; one line per event.
 */

import { createInterface, type Interface } from "node:readline";
import { TransferProgress } from "./progress.ts";

export interface TerminalHandlers {
  line(text: string): void;
  /** End of input (Ctrl-D, or the end of piped stdin). */
  end(): void;
  /** Ctrl-C typed at the TTY (raw mode swallows SIGINT). */
  interrupt(): void;
}

export interface Terminal {
  readonly interactive: boolean;
  /** The user has typed part of a line and not pressed Enter yet (always false when plain). */
  readonly typing: boolean;
  print(line: string): void;
  setPrompt(prompt: string): void;
  startProgress(key: number, label: string, total: number | null): void;
  updateProgress(key: number, bytes: number): void;
  endProgress(key: number): void;
  /** Stops reading input and flushes output. */
  close(): Promise<void>;
}

const REPAINT_MS = 100;

export function openTerminal(handlers: TerminalHandlers, options: { progress: boolean }): Terminal {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return interactive ? new TtyTerminal(handlers, options.progress) : new PlainTerminal(handlers);
}

class PlainTerminal implements Terminal {
  readonly interactive = false;
  readonly typing = false;
  private readonly rl: Interface;

  constructor(handlers: TerminalHandlers) {
    this.rl = createInterface({ input: process.stdin, terminal: false });
    this.rl.on("line", (line) => handlers.line(line));
    this.rl.on("close", () => handlers.end());
  }

  print(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  setPrompt(): void {}
  startProgress(): void {}
  updateProgress(): void {}
  endProgress(): void {}

  close(): Promise<void> {
    this.rl.removeAllListeners("close");
    this.rl.close();
    process.stdin.pause();
    return flush();
  }
}

class TtyTerminal implements Terminal {
  readonly interactive = true;
  private readonly rl: Interface;
  private readonly bars = new Map<number, TransferProgress>();
  /** Rows of progress lines currently drawn above the prompt. */
  private drawnBars = 0;
  private repaintTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** The input ended (Ctrl-D): readline is closed, output goes on. */
  private inputEnded = false;

  constructor(
    handlers: TerminalHandlers,
    private readonly progressEnabled: boolean,
  ) {
    this.rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: "> " });
    this.rl.on("line", (line) => {
      // readline has already moved below the typed line: redraw it as history above the
      // progress rows, or the rows drawn above it would be left behind.
      this.clearBottom(this.rowsOf(`${this.rl.getPrompt()}${line}`));
      process.stdout.write(`${this.rl.getPrompt()}${line}\n`);
      handlers.line(line);
      // The handler may have printed (and so drawn the bottom already): clear and draw once more.
      this.repaint();
    });
    this.rl.on("close", () => {
      if (this.closed) return;
      this.inputEnded = true; // Ctrl-D: no prompt to draw any more, but lines still print
      handlers.end();
    });
    this.rl.on("SIGINT", () => handlers.interrupt());
    this.rl.prompt();
  }

  print(line: string): void {
    if (this.closed) {
      process.stdout.write(`${line}\n`);
      return;
    }
    this.clearBottom();
    process.stdout.write(`${line}\n`);
    this.drawBottom();
  }

  get typing(): boolean {
    return !this.closed && this.rl.line.length > 0;
  }

  setPrompt(prompt: string): void {
    this.rl.setPrompt(prompt);
    if (!this.closed) {
      this.clearBottom();
      this.drawBottom();
    }
  }

  startProgress(key: number, label: string, total: number | null): void {
    if (!this.progressEnabled) return;
    this.bars.set(key, new TransferProgress(label, total));
    this.repaintTimer ??= setInterval(() => this.repaint(), REPAINT_MS);
    this.repaint();
  }

  updateProgress(key: number, bytes: number): void {
    this.bars.get(key)?.update(bytes);
  }

  endProgress(key: number): void {
    if (!this.bars.delete(key)) return;
    if (this.bars.size === 0) {
      clearInterval(this.repaintTimer);
      this.repaintTimer = undefined;
    }
    this.repaint();
  }

  close(): Promise<void> {
    if (!this.closed) {
      clearInterval(this.repaintTimer);
      this.clearBottom();
      this.closed = true;
      this.rl.close();
    }
    return flush();
  }

  private repaint(): void {
    if (this.closed) return;
    this.clearBottom();
    this.drawBottom();
  }

  /** Terminal rows that `text` takes. */
  private rowsOf(text: string): number {
    return Math.max(1, Math.ceil(text.length / (process.stdout.columns || 80)));
  }

  /**
   * Moves to the first progress row and clears everything from there down (bars and prompt).
   * @param extraRows - rows the cursor has moved below the prompt (after Enter)
   */
  private clearBottom(extraRows = 0): void {
    let out = "\r";
    const up = this.drawnBars + extraRows;
    if (up > 0) out += `\x1b[${up}A`;
    out += "\x1b[J";
    process.stdout.write(out);
    this.drawnBars = 0;
  }

  /** Draws the progress rows, then the prompt with the user's partial input and cursor. */
  private drawBottom(): void {
    const width = process.stdout.columns || 80;
    let out = "";
    for (const bar of this.bars.values()) out += `${bar.render(width)}\n`;
    if (out) process.stdout.write(out);
    this.drawnBars = this.bars.size;
    if (!this.inputEnded) this.rl.prompt(true);
  }
}

function flush(): Promise<void> {
  return new Promise((resolve) => process.stdout.write("", () => resolve()));
}
