/**
 * The chat's input lines held until they can be handled: while a dial runs or the mailbox joins
 * the peer's code, what a script writes (`transfer x` right after --connect, a piped code) and
 * the end of its input wait here, in order. At MAX_HELD_LINES the input is paused (a pipe then
 * holds the rest), so `yes | parley --connect CODE` waiting for an absent peer does not grow
 * without bound. chat.ts decides when a line is held and when the held ones are handled.
 */

import type { Terminal } from "../ui/terminal.ts";

/** Lines held while a dial runs or the mailbox joins a code, before input is paused. */
export const MAX_HELD_LINES = 1_000;

export class HeldInput {
  private readonly lines: string[] = [];
  /** Input is paused: MAX_HELD_LINES lines are held. */
  private paused = false;
  /** The input ended while lines were held: handled after them. */
  inputEnded = false;

  constructor(private readonly input: Pick<Terminal, "pauseInput" | "resumeInput">) {}

  /** Lines are held: a line that must keep its place after them (an `exit`) is held too. */
  get holding(): boolean {
    return this.lines.length > 0;
  }

  /** How many lines are held. */
  get count(): number {
    return this.lines.length;
  }

  /** Said when the held lines are dropped (exit or Ctrl-D typed at the terminal, a signal). */
  notSentLine(): string {
    const n = this.lines.length;
    return n === 1 ? "Not sent: the line typed while connecting." : `Not sent: the ${n} lines typed while connecting.`;
  }

  /** A line kept until the dial ends or the mailbox has joined; at MAX_HELD_LINES the input is paused. */
  hold(text: string): void {
    this.lines.push(text);
    if (this.lines.length >= MAX_HELD_LINES && !this.paused) {
      this.paused = true;
      this.input.pauseInput();
    }
  }

  /**
   * The held lines, each handed to `handle` in order (which may hold it again: a code that
   * starts another dial); input goes on if it was paused and there is room again.
   */
  release(handle: (line: string) => void): void {
    for (const line of this.lines.splice(0)) handle(line);
    if (this.paused && this.lines.length < MAX_HELD_LINES) {
      this.paused = false;
      this.input.resumeInput();
    }
  }
}
