/**
 * The user's terminal: reads input lines and prints events without disturbing them.
 *
 * TTY mode: node:readline owns the input line. Output is printed above it: the prompt and any
 * progress lines are cleared, the message written, then progress lines and the prompt redrawn
 * with whatever the user had half typed. Progress lines repaint at most 10 times a second.
 * Rows are counted in display width (a CJK character takes two columns). A terminal whose
 * width changed is repainted from the top of the screen with the last lines printed (see
 * recent-lines.ts): rows counted at the old width may have been read at the new one.
 * Plain mode (stdin or stdout not a TTY): no prompt, no bars, no escape codes; one line per event.
 */

import { clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from "node:readline";
import { OutputGate } from "./output-gate.ts";
import { TransferProgress } from "./progress.ts";
import { RecentLines } from "./recent-lines.ts";
import { rowsOf } from "./width.ts";

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
  /** A line whose text the peer chose (chat): skipped, and counted, while the output is backed up. */
  printFromPeer(line: string): void;
  setPrompt(prompt: string): void;
  startProgress(key: number, label: string, total: number | null): void;
  updateProgress(key: number, bytes: number): void;
  endProgress(key: number): void;
  /** Stops reading input and flushes output. */
  close(): Promise<void>;
}

const REPAINT_MS = 100;

/** @param options.skippedLine - the line that says `n` lines from the peer were not shown */
export function openTerminal(
  handlers: TerminalHandlers,
  options: { progress: boolean; skippedLine: (n: number) => string },
): Terminal {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return interactive
    ? new TtyTerminal(handlers, options.progress)
    : new PlainTerminal(handlers, (n) => `${options.skippedLine(n)}\n`);
}

class PlainTerminal implements Terminal {
  readonly interactive = false;
  readonly typing = false;
  private readonly rl: Interface;
  private readonly gate: OutputGate;

  constructor(handlers: TerminalHandlers, skippedLine: (n: number) => string) {
    this.rl = createInterface({ input: process.stdin, terminal: false });
    this.rl.on("line", (line) => handlers.line(line));
    this.rl.on("close", () => handlers.end());
    this.gate = new OutputGate(process.stdout, skippedLine);
  }

  print(line: string): void {
    this.gate.write(`${line}\n`);
  }

  printFromPeer(line: string): void {
    this.gate.writeFromPeer(`${line}\n`);
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
  /** The progress lines currently drawn above the prompt (to count their rows when clearing). */
  private drawnBars: string[] = [];
  private repaintTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** The input ended (Ctrl-D): readline is closed, output goes on. */
  private inputEnded = false;
  /** The lines printed above the bars and prompt, to repaint the screen after a resize. */
  private readonly shown = new RecentLines();
  /** The width the bottom was last drawn at. */
  private drawnWidth = columns();
  private readonly onResize = () => this.repaint();

  constructor(
    handlers: TerminalHandlers,
    private readonly progressEnabled: boolean,
  ) {
    this.rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: "> " });
    this.rl.on("line", (line) => {
      // readline has already moved below the typed line: redraw it as history above the
      // progress rows, or the rows drawn above it would be left behind.
      this.clearBottom(rowsOf(`${this.rl.getPrompt()}${line}`, columns()));
      this.write(`${this.rl.getPrompt()}${line}`);
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
    process.stdout.on("resize", this.onResize);
    this.rl.prompt();
  }

  print(line: string): void {
    if (this.closed) {
      process.stdout.write(`${line}\n`);
      return;
    }
    this.clearBottom();
    this.write(line);
    this.drawBottom();
  }

  /** Prints `line` above the bottom (cleared by the caller) and keeps it for a repaint. */
  private write(line: string): void {
    this.shown.push(line);
    process.stdout.write(`${line}\n`);
  }

  get typing(): boolean {
    return !this.closed && this.rl.line.length > 0;
  }

  /**
   * At a terminal peer lines print as any other: Bun writes to a TTY synchronously, so a
   * terminal that stops reading stops this process in write() (the peer's bytes wait in the
   * kernel, memory stays flat) rather than piling lines up; test/e2e/tmux.test.ts (11.13).
   */
  printFromPeer(line: string): void {
    this.print(line);
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
      process.stdout.off("resize", this.onResize);
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

  /**
   * Moves to the first progress row and clears everything from there down (bars and prompt).
   * @param rowsBelow - rows the cursor has moved below the prompt's first row (after Enter);
   *   by default, the row readline's cursor is on within a prompt line that wraps
   */
  private clearBottom(rowsBelow = this.inputEnded ? 0 : this.rl.getCursorPos().rows): void {
    const width = columns();
    if (width !== this.drawnWidth) {
      this.clearFromTop(width);
      return;
    }
    const barRows = this.drawnBars.reduce((rows, bar) => rows + rowsOf(bar, width), 0);
    cursorTo(process.stdout, 0);
    moveCursor(process.stdout, 0, -(barRows + rowsBelow));
    clearScreenDown(process.stdout);
    this.drawnBars = [];
  }

  /**
   * The width changed since the bottom was drawn: the terminal has rewrapped its rows, maybe
   * before a clear counted at the old width reached it (which then left old bar rows above the
   * bars). Which rows hold what is no longer known, so the screen is cleared from its top and
   * the last lines printed that fit are written again, leaving room for the bottom.
   */
  private clearFromTop(width: number): void {
    const promptRows = this.inputEnded ? 0 : rowsOf(`${this.rl.getPrompt()}${this.rl.line}`, width);
    const room = (process.stdout.rows || 24) - this.bars.size - promptRows;
    const lines = this.shown.tail(Math.max(room, 0), width);
    // Clear below the first row, then the first row: clearing from the top-left corner would
    // push the whole screen into some terminals' history.
    process.stdout.write(`\x1b[2;1H\x1b[J\x1b[H\x1b[2K${lines.map((l) => `${l}\n`).join("")}`);
    this.drawnBars = [];
  }

  /** Draws the progress rows, then the prompt with the user's partial input and cursor. */
  private drawBottom(): void {
    const width = columns();
    this.drawnWidth = width;
    this.drawnBars = [...this.bars.values()].map((bar) => bar.render(width));
    if (this.drawnBars.length > 0) process.stdout.write(`${this.drawnBars.join("\n")}\n`);
    if (!this.inputEnded) this.rl.prompt(true);
  }
}

/** The terminal's width in columns. */
function columns(): number {
  return process.stdout.columns || 80;
}

function flush(): Promise<void> {
  return new Promise((resolve) => process.stdout.write("", () => resolve()));
}
