/**
 * The chat's terminal at a TTY that can move its cursor: node:readline owns the input line and
 * this class owns the rows below the history. Output is printed above them: the prompt and any
 * progress lines are cleared, the message written, then progress lines and the prompt redrawn
 * with whatever the user had half typed. Progress lines repaint at most 10 times a second.
 * Rows are counted in display width (a CJK character takes two columns). A terminal whose
 * width changed is repainted from the top of the screen with the last lines printed (see
 * recent-lines.ts): rows counted at the old width may have been read at the new one. Ctrl-Z is
 * refused in words, and a terminal that hung up is let go quietly (survivesHangUp).
 */

import { clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from "node:readline";
import { TransferProgress } from "./progress.ts";
import { RecentLines } from "./recent-lines.ts";
import { failedOutput, flush, type Terminal, type TerminalHandlers } from "./terminal-interface.ts";
import { rowsOf } from "./width.ts";

const REPAINT_MS = 100;

/**
 * A turn of the event loop may spend this long writing the peer's lines to the terminal once
 * PEER_BURST_MIN_LINES have been written; the rest wait in a backlog, written PEER_BURST_MS a
 * turn. Writes to a TTY are synchronous, and Bun reads a socket that always has more several
 * times in a row before it looks at the input: a peer's chat flood into a terminal slower than
 * the peer (tmux here took ~20,000 lines a second) held what the user typed, Ctrl-C too, for 6
 * to 10 s (attack33).
 */
export const PEER_BURST_MS = 50;
/** Lines of a turn always written, however long they take (a GC pause is not the terminal). */
export const PEER_BURST_MIN_LINES = 64;
/**
 * Characters of the peer's lines the backlog holds at most; past it they are counted, not
 * shown, and said in one line once the backlog is written. A paste of a few thousand lines is
 * shown whole (review33: counting every line past a turn's PEER_BURST_MS left out half of a
 * 2,000-line paste at tmux's speed, all but ~100 at a slow terminal's); a flood is bounded.
 */
export const MAX_PEER_BACKLOG_CHARS = 512 * 1024;
/**
 * The peer's lines the backlog holds at most, whatever their length: lines of a few characters
 * (`<p> x`) kept some 130,000 under MAX_PEER_BACKLOG_CHARS alone, each written with the bottom
 * redrawn, all at once when the chat closes (review33b). Past it they are counted as above.
 */
export const MAX_PEER_BACKLOG_LINES = 8_192;
/** Our own lines the backlog holds at most (a peer makes them at will too: each offer declined). */
export const MAX_OWN_BACKLOG_LINES = 4_096;
/** Said on Ctrl-Z at the chat's input line (TtyTerminal): the chat goes on. */
export const SUSPEND_REFUSED =
  "Ctrl-Z: Parley does not suspend (the peer would wait on a stopped chat); type exit or press Ctrl-C to leave.";

export class TtyTerminal implements Terminal {
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
  /** This turn of the event loop's writing of the peer's lines: how many, how long it took. */
  private turn: { printed: number; ms: number } | undefined;
  /**
   * Lines waiting for a later turn, in order (from `backlogHead` on): the peer's past the turn's
   * PEER_BURST_MS, and while any wait, every line printed after them (our own keep their place).
   */
  private backlog: { readonly line: string; readonly fromPeer: boolean }[] = [];
  private backlogHead = 0;
  private backlogChars = 0;
  private backlogOwn = 0;
  /** The peer's lines past MAX_PEER_BACKLOG_CHARS, and our own past MAX_OWN_BACKLOG_LINES: counted. */
  private skipped = 0;
  private lost = 0;

  /**
   * @param skippedLine - the line that says `n` lines from the peer were not shown
   * @param lostLine - the line that says `n` of our own lines were not shown
   */
  constructor(
    handlers: TerminalHandlers,
    private readonly progressEnabled: boolean,
    input: NodeJS.ReadStream,
    private readonly out: NodeJS.WriteStream,
    private readonly skippedLine: (n: number) => string,
    private readonly lostLine: (n: number) => string,
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
    if (this.waiting > 0 && !this.closed) {
      if (this.backlogOwn >= MAX_OWN_BACKLOG_LINES) {
        this.lost++;
        return;
      }
      this.backlogOwn++;
      this.backlog.push({ line, fromPeer: false });
      return;
    }
    this.printNow(line);
  }

  /** Writes `line` above the bottom now (after close: as it is). */
  private printNow(line: string): void {
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
   * kernel, memory stays flat) rather than piling lines up; test/e2e/tmux.test.ts (11.13). But
   * once a turn of the event loop has spent PEER_BURST_MS writing them, the rest wait in the
   * backlog for the next turns, PEER_BURST_MS each: what the user types is read in between.
   */
  printFromPeer(line: string): void {
    if (this.closed) {
      this.printNow(line);
      return;
    }
    if (this.waiting === 0 && !this.turnSpent()) {
      this.printTimed(line);
      return;
    }
    if (
      this.backlogChars + line.length > MAX_PEER_BACKLOG_CHARS ||
      this.waiting - this.backlogOwn >= MAX_PEER_BACKLOG_LINES
    ) {
      this.skipped++;
      return;
    }
    this.backlogChars += line.length;
    this.backlog.push({ line, fromPeer: true });
  }

  /** Lines in the backlog. */
  private get waiting(): number {
    return this.backlog.length - this.backlogHead;
  }

  /** True once this turn has written the peer's lines for PEER_BURST_MS (and PEER_BURST_MIN_LINES). */
  private turnSpent(): boolean {
    const turn = this.currentTurn();
    return turn.printed >= PEER_BURST_MIN_LINES && turn.ms > PEER_BURST_MS;
  }

  /** This turn's account; the first line of a turn asks for the next turn's writing of the backlog. */
  private currentTurn(): { printed: number; ms: number } {
    if (!this.turn) {
      this.turn = { printed: 0, ms: 0 };
      setImmediate(() => this.nextTurn());
    }
    return this.turn;
  }

  private printTimed(line: string): void {
    const turn = this.currentTurn();
    const start = performance.now();
    this.printNow(line);
    turn.ms += performance.now() - start;
    turn.printed++;
  }

  /** The loop has turned: the backlog is written for up to PEER_BURST_MS, and once it is empty, what was counted. */
  private nextTurn(): void {
    this.turn = undefined;
    if (this.closed) return;
    while (this.waiting > 0 && !this.turnSpent()) this.printTimed(this.takeWaiting());
    if (this.waiting === 0) this.sayCounted();
  }

  /** The oldest line of the backlog, taken out of it. */
  private takeWaiting(): string {
    const next = this.backlog[this.backlogHead++] as { line: string; fromPeer: boolean };
    if (next.fromPeer) this.backlogChars -= next.line.length;
    else this.backlogOwn--;
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    }
    return next.line;
  }

  /** Says how many lines were counted instead of shown (the backlog is empty). */
  private sayCounted(): void {
    const { skipped, lost } = this;
    this.skipped = 0;
    this.lost = 0;
    if (skipped > 0) this.printNow(this.skippedLine(skipped));
    if (lost > 0) this.printNow(this.lostLine(lost));
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
      // What waits is written now, in order, and what was counted said: the last lines count most.
      // In one write below the cleared bottom: each line written with the bottom redrawn took
      // ~8 writes, 57 s for 8,192 lines at a terminal taking ~0.9 ms a write (review33b).
      const waiting: string[] = [];
      while (this.waiting > 0) waiting.push(this.takeWaiting());
      if (waiting.length > 0) this.out.write(`${waiting.join("\n")}\n`);
      this.sayCounted();
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
