/**
 * Yes/no questions on a stream of answer lines (node:readline/promises), one at a time: a
 * question is shown only when the one before it has its answer, so each answer belongs to
 * the question just shown. Lines typed ahead (a script's piped answers) wait their turn.
 * The end of input answers "no" to whatever is left, and ends the question's line. An answer
 * read from a pipe or file (no terminal echoes it) is written after its question, as a
 * terminal would show it, so the question's line ends and a log says what was answered.
 */

import { createInterface, type Interface } from "node:readline/promises";
import { displayText } from "./sanitize.ts";

/** Longest piped answer echoed after its question; a longer line is cut (it is a no anyway). */
const MAX_ECHO_CHARS = 40;

export interface AskerOutput {
  write(text: string): unknown;
}

/** A question waiting for its turn. */
interface Waiting {
  readonly show: () => Promise<boolean>;
  readonly stillWanted: () => boolean;
  readonly settle: (answer: Promise<boolean>) => void;
}

export class Asker {
  private rl: Interface | undefined;
  private lines: AsyncIterator<string> | undefined;
  /** Questions waiting for the one being asked, in order. */
  private waiting: Waiting[] = [];
  /** A question is being asked (or its turn is starting): the next waits for it. */
  private turnTaken = false;
  /** True once the input has ended: every question since was answered no by it, not by a person. */
  inputEnded = false;
  /** A question is on the screen without its answer: the cursor is at the end of its line. */
  private open = false;
  /** That question's stillWanted: an offer gone meanwhile (the peer left) is not shown again. */
  private wanted: () => boolean = () => true;
  /**
   * Called each time a question's line has ended (its answer read and echoed, a signal's endLine,
   * the end of input, its offer gone): what was held back from that line can be written now.
   */
  lineEnded: (() => void) | undefined;

  /**
   * @param echoedThere - the answers are typed at the terminal the questions are shown on, which
   *   echoes them; else (a pipe, a file, another terminal: `2>/dev/pts/5`) they are echoed here.
   *   Default: the input is a terminal
   */
  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: AskerOutput,
    private readonly echoedThere = (input as { isTTY?: boolean }).isTTY === true,
  ) {}

  /**
   * Shows `question` once every earlier question has its answer, then waits for a line. Once a
   * question has met the end of the input (said after it once), later ones are not shown: each
   * is a no at once, and `unasked` is called (the caller sums them up, not a line each).
   * @param stillWanted - checked when its turn comes, and while it waits each time another
   *   question is asked: false skips the question (answer: no)
   * @param unasked - called instead of showing the question: the input had ended before its turn
   * @returns true for "y" or "yes" (any case), false for anything else or the end of input
   */
  ask(question: string, stillWanted: () => boolean = () => true, unasked?: () => void): Promise<boolean> {
    // A question whose offer went while it waited (cancelled) is answered no now, not at its turn:
    // a peer offering and cancelling in a loop while a question waits for a person held each
    // (2 KB an offer: 400 MB after 200,000, attack31). The rest wait as before, bounded by the
    // offers a peer may have live.
    this.waiting = this.waiting.filter((w) => {
      if (w.stillWanted()) return true;
      w.settle(Promise.resolve(false));
      return false;
    });
    const show = async (): Promise<boolean> => {
      // What the answer before this one set going (its "Receiving ..." line, printed once the
      // session has opened the file, a few promise turns on) is printed first: shown at once, this
      // question was followed on its own line by that line where both go to one file (`> log 2>&1`).
      await new Promise((resolve) => setImmediate(resolve));
      if (!stillWanted()) return false;
      if (this.inputEnded) {
        unasked?.();
        return false;
      }
      this.output.write(question);
      this.wanted = stillWanted;
      this.open = true;
      const line = await this.nextLine();
      const onScreen = this.open;
      this.open = false;
      if (line === undefined) {
        this.inputEnded = true;
        // No Enter was typed: the next line starts on its own (unless endLine ended
        // it); a pipe or file that ended is said, as its answers are (a bare "[y/N] " read as a hang).
        if (onScreen) this.output.write(this.echoedThere ? "\n" : "(input ended)\n");
      }
      // A terminal echoed the answer and its Enter; a pipe did not: the line would go on after "[y/N] ".
      else if (onScreen && !this.echoedThere) this.output.write(`${displayText(line.trim(), MAX_ECHO_CHARS)}\n`);
      if (onScreen) this.lineEnded?.();
      return line !== undefined && /^\s*y(es)?\s*$/i.test(line);
    };
    const answer = new Promise<boolean>((resolve) => this.waiting.push({ show, stillWanted, settle: resolve }));
    if (!this.turnTaken) void this.takeTurns();
    return answer;
  }

  /** Asks the waiting questions one at a time, each once the one before has its answer. */
  private async takeTurns(): Promise<void> {
    this.turnTaken = true;
    try {
      for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
        const answer = next.show();
        next.settle(answer);
        await answer.catch(() => false);
      }
    } finally {
      this.turnTaken = false;
    }
  }

  /**
   * Something else is about to be printed (a signal's "Interrupted (Ctrl-C)."): a question still
   * waiting for its answer gets its line ended first, so the message starts a line of its own
   * instead of following "[y/N] ^C".
   */
  endLine(): void {
    if (!this.open) return;
    this.open = false;
    this.output.write("\n");
    this.lineEnded?.();
  }

  /**
   * True while a question waits for its answer and its offer is still wanted: a line written now
   * to the question's terminal would land after "[y/N] ", so the caller holds it until
   * lineEnded. Holding (not the question shown again below each line, as the human lines did
   * until session 31) has no race with an answer the terminal has echoed but this process has not
   * read yet: nothing is written until it is read.
   * A question whose offer is gone (the peer left) gets its line ended here, and is not shown again.
   */
  holdsLines(): boolean {
    if (!this.open) return false;
    if (this.wanted()) return true;
    this.endLine();
    return false;
  }

  /** A question is waiting for its answer. */
  get asking(): boolean {
    return this.open;
  }

  close(): void {
    this.rl?.close();
  }

  private nextLine(): Promise<string | undefined> {
    if (!this.lines) {
      this.rl = createInterface({ input: this.input, terminal: false });
      this.lines = this.rl[Symbol.asyncIterator]();
    }
    return this.lines.next().then((r) => (r.done ? undefined : r.value));
  }
}
