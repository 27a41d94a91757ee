/**
 * The user's terminal: reads input lines and prints events without disturbing them.
 *
 * TTY mode: node:readline owns the input line. Output is printed above it: the prompt and any
 * progress lines are cleared, the message written, then progress lines and the prompt redrawn
 * with whatever the user had half typed. Progress lines repaint at most 10 times a second.
 * Rows are counted in display width (a CJK character takes two columns). A terminal whose
 * width changed is repainted from the top of the screen with the last lines printed (see
 * recent-lines.ts): rows counted at the old width may have been read at the new one.
 * Plain mode (stdin or stdout not a TTY, or a terminal that cannot move its cursor, TERM=dumb: an
 * editor's shell buffer): no prompt, no bars, no escape codes; one line per event. At a dumb
 * terminal the OS's line discipline echoes and edits what is typed (readline's dumb mode took
 * Backspace and the arrow keys into the line as characters, and redrew the prompt without it).
 * The streams are injected (the process's, or a test's); TTY mode needs real TTY streams.
 */

import { clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from "node:readline";
import { LineSplitter } from "./line-splitter.ts";
import { type GatedStream, lostLinesLine, OutputGate } from "./output-gate.ts";
import { TransferProgress } from "./progress.ts";
import { readerGone } from "./reader-gone.ts";
import { RecentLines } from "./recent-lines.ts";
import { rowsOf } from "./width.ts";

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

const REPAINT_MS = 100;
/** Said on Ctrl-Z at the chat's input line (TtyTerminal): the chat goes on. */
export const SUSPEND_REFUSED =
  "Ctrl-Z: Parley does not suspend (the peer would wait on a stopped chat); type exit or press Ctrl-C to leave.";

/**
 * @param options.skippedLine - the line that says `n` lines from the peer were not shown
 * @param options.tooLongLine - the line that says an input line over MAX_INPUT_LINE_CHARS was dropped
 * @param options.dumb - the terminal cannot move its cursor (TERM=dumb): plain mode at a TTY too
 */
export function openTerminal(
  handlers: TerminalHandlers,
  options: { progress: boolean; skippedLine: (n: number) => string; tooLongLine: string; dumb?: boolean },
  streams: TerminalStreams,
): Terminal {
  const { input, output } = streams;
  return input.isTTY && output.isTTY && !options.dumb
    ? new TtyTerminal(handlers, options.progress, input as NodeJS.ReadStream, output as unknown as NodeJS.WriteStream)
    : new PlainTerminal(handlers, options, streams);
}

/**
 * The most characters of one input line held in plain mode: four times what a chat line may
 * be (every character is at least one byte), so no line that could be sent is cut, and a
 * stream without line breaks costs at most this.
 */
export const MAX_INPUT_LINE_CHARS = 256 * 1024;

class PlainTerminal implements Terminal {
  readonly interactive = false;
  readonly typing = false;
  private readonly gate: OutputGate;
  private readonly stopReading: () => void;

  constructor(
    handlers: TerminalHandlers,
    options: { skippedLine: (n: number) => string; tooLongLine: string },
    private readonly streams: TerminalStreams,
  ) {
    this.gate = new OutputGate(streams.output, (n) => `${options.skippedLine(n)}\n`, lostLinesLine);
    // A reader that went away (`parley | head -1`): stop printing, go on, as send and receive
    // do; the chat ends as it would have (input's end, exit, the peer), with its goodbye. Any
    // other error (a full disk) ends it: outputFailed.
    streams.output.on?.("error", (err) => failedOutput(handlers, err, streams.output.isTTY === true));
    const lines = new LineSplitter(MAX_INPUT_LINE_CHARS, {
      line: (text) => handlers.line(text),
      tooLong: () => this.print(options.tooLongLine),
    });
    const input = streams.input;
    const decoder = new TextDecoder();
    const onData = (chunk: Uint8Array | string) =>
      lines.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      lines.push(decoder.decode());
      lines.end();
      handlers.end();
    };
    input.on("data", onData);
    input.on("end", onEnd);
    // A read error (EIO when the terminal went away) ends the input like Ctrl-D.
    input.on("error", onEnd);
    this.stopReading = () => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onEnd);
    };
  }

  print(line: string): void {
    this.gate.write(`${line}\n`);
  }

  printFromPeer(line: string): void {
    this.gate.writeFromPeer(`${line}\n`);
  }

  pauseInput(): void {
    this.streams.input.pause();
  }

  resumeInput(): void {
    this.streams.input.resume();
  }

  setPrompt(): void {}
  startProgress(): void {}
  updateProgress(): void {}
  endProgress(): void {}

  close(): Promise<void> {
    this.stopReading();
    this.streams.input.pause();
    return flush(this.streams.output);
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
  private drawnWidth: number;
  private readonly onResize = () => this.repaint();

  constructor(
    handlers: TerminalHandlers,
    private readonly progressEnabled: boolean,
    input: NodeJS.ReadStream,
    private readonly out: NodeJS.WriteStream,
  ) {
    this.drawnWidth = columns(out);
    survivesHangUp(input, out, handlers);
    this.rl = createInterface({ input, output: out, terminal: true, prompt: "> " });
    this.rl.on("line", (line) => {
      // readline has already moved below the typed line: redraw it as history above the
      // progress rows, or the rows drawn above it would be left behind. With no rows drawn
      // above it, it is where history goes already: written again, a line taller than the
      // screen (a long paste) stayed twice, its top rows out of the cursor's reach.
      const typed = `${this.rl.getPrompt()}${line}`;
      if (this.drawnBars.length > 0 || columns(this.out) !== this.drawnWidth) {
        this.clearBottom(rowsOf(typed, columns(this.out)));
        this.write(typed);
      } else {
        this.shown.push(typed);
      }
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
    // Without a listener readline stops this process alone on Ctrl-Z: under a launcher (npx, the
    // parley command) the parent goes on waiting and the terminal hangs with no shell to resume it.
    this.rl.on("SIGTSTP", () => this.print(SUSPEND_REFUSED));
    this.out.on("resize", this.onResize);
    this.rl.prompt();
  }

  print(line: string): void {
    if (this.closed) {
      this.out.write(`${line}\n`);
      return;
    }
    this.clearBottom();
    this.write(line);
    this.drawBottom();
  }

  /** Prints `line` above the bottom (cleared by the caller) and keeps it for a repaint. */
  private write(line: string): void {
    this.shown.push(line);
    this.out.write(`${line}\n`);
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

  pauseInput(): void {
    this.rl.pause();
  }

  resumeInput(): void {
    this.rl.resume();
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
      this.out.off("resize", this.onResize);
      this.clearBottom();
      this.closed = true;
      this.rl.close();
    }
    return flush(this.out);
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
    const width = columns(this.out);
    if (width !== this.drawnWidth) {
      this.clearFromTop(width);
      return;
    }
    const barRows = this.drawnBars.reduce((rows, bar) => rows + rowsOf(bar, width), 0);
    cursorTo(this.out, 0);
    moveCursor(this.out, 0, -(barRows + rowsBelow));
    clearScreenDown(this.out);
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
    const room = (this.out.rows || 24) - this.bars.size - promptRows;
    const lines = this.shown.tail(Math.max(room, 0), width);
    // Clear below the first row, then the first row: clearing from the top-left corner would
    // push the whole screen into some terminals' history.
    this.out.write(`\x1b[2;1H\x1b[J\x1b[H\x1b[2K${lines.map((l) => `${l}\n`).join("")}`);
    this.drawnBars = [];
  }

  /** Draws the progress rows, then the prompt with the user's partial input and cursor. */
  private drawBottom(): void {
    const width = columns(this.out);
    this.drawnWidth = width;
    this.drawnBars = [...this.bars.values()].map((bar) => bar.render(width));
    if (this.drawnBars.length > 0) this.out.write(`${this.drawnBars.join("\n")}\n`);
    if (this.inputEnded) return;
    // The cursor is at the start of the prompt's first row. readline's redraw first moves up by
    // the row it last left the cursor on (its prevRows, Node's and Bun's alike): after a half-typed
    // line that wraps was drawn once, that climbed into the row above and wiped it.
    (this.rl as unknown as { prevRows: number }).prevRows = 0;
    this.rl.prompt(true);
  }
}

/** The terminal's width in columns. */
function columns(out: { readonly columns?: number }): number {
  return out.columns || 80;
}

function flush(out: TerminalStreams["output"]): Promise<void> {
  return new Promise((resolve) => out.write("", () => resolve()));
}

/**
 * A terminal that hung up (its window closed, the ssh connection dropped): writes fail with EIO
 * (an error event; later writes are dropped), and setRawMode throws it when readline lets go of
 * the input. Nobody is there to read: both are let pass, so the chat still tells the peer
 * (SIGHUP follows) and exits with its own code instead of an internal error.
 */
function survivesHangUp(input: NodeJS.ReadStream, out: NodeJS.WriteStream, handlers: TerminalHandlers): void {
  const setRawMode = input.setRawMode?.bind(input);
  if (setRawMode) {
    input.setRawMode = (mode: boolean) => {
      try {
        return setRawMode(mode);
      } catch {
        return input;
      }
    };
  }
  out.on("error", (err: NodeJS.ErrnoException) => failedOutput(handlers, err, true));
}

/** An output error: the reader gone (reader-gone.ts) lets printing stop; any other goes to `outputFailed`. */
function failedOutput(handlers: TerminalHandlers, err: NodeJS.ErrnoException, tty: boolean): void {
  if (readerGone(err, tty)) return;
  if (!handlers.outputFailed) throw err;
  handlers.outputFailed(err);
}
