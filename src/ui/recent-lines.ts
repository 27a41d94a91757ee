/**
 * The last lines printed above the prompt, kept so that a resized terminal can be repainted
 * from the top of the screen. Pure.
 *
 * Why: a terminal reflows its screen to the new width before the program learns that width
 * (tmux resizes the pane's grid at once and tells the pty at the end of its loop), so a
 * repaint sent in between is read at the new width while it was counted at the old one: it
 * moves up too few rows and leaves rows of the old bar behind. Which rows hold what is then
 * unknown, and only a repaint from a fixed place (the top of the screen) comes out right.
 */

import { rowsOf } from "./width.ts";

export class RecentLines {
  private readonly lines: string[] = [];

  /** @param limit - lines kept: at least as many as the tallest screen has rows */
  constructor(private readonly limit = 500) {}

  /** `text`: what was printed, without its last newline (lines inside it are kept one by one). */
  push(text: string): void {
    this.lines.push(...text.split("\n"));
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
  }

  /** The newest whole lines that fit in `rows` rows at `columns` wide, oldest first. */
  tail(rows: number, columns: number): string[] {
    let used = 0;
    let first = this.lines.length;
    while (first > 0) {
      const need = rowsOf(this.lines[first - 1] as string, columns);
      if (used + need > rows) break;
      used += need;
      first--;
    }
    return this.lines.slice(first);
  }
}
