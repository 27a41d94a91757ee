/**
 * Lines held back while an --ask question waits for its answer, where they would land on the
 * question's line (the human reporter's lines, the JSON reporter's events): written once the
 * question's line has ended, in order. A peer makes lines at will (each offer, each cancel, each
 * chat line), so at most MAX_HELD_CHARS of text is held; those past it are counted, by kind, and
 * said after the rest. A line with `replaces` takes the place of the one held with the same
 * number (a transfer's progress event: only its latest matters).
 */

/** Characters held back while a question waits, at most; past it, lines are counted. */
export const MAX_HELD_CHARS = 1024 * 1024;

/** A held line: its text, and (optionally) which earlier line it replaces. */
export interface HeldLine {
  readonly text: string;
  /** It replaces the line held with the same number (a transfer's id), in that line's place. */
  readonly replaces?: number | undefined;
}

export class HeldLines<T extends HeldLine> {
  private lines: T[] = [];
  private chars = 0;
  private lost = new Map<string, number>();

  /** @param kindOf - what a line that did not fit is counted as ("chat", "events"); one kind by default */
  constructor(private readonly kindOf: (line: T) => string = () => "") {}

  /** Holds `line`, or counts it when it would pass MAX_HELD_CHARS. */
  hold(line: T): void {
    const lines = this.lines;
    const earlier = line.replaces === undefined ? -1 : lines.findIndex((h) => h.replaces === line.replaces);
    const grows = line.text.length - (earlier < 0 ? 0 : (lines[earlier]?.text.length ?? 0));
    if (this.chars + grows > MAX_HELD_CHARS) {
      const kind = this.kindOf(line);
      this.lost.set(kind, (this.lost.get(kind) ?? 0) + 1);
      return;
    }
    this.chars += grows;
    if (earlier < 0) lines.push(line);
    else lines[earlier] = line;
  }

  /**
   * The question's line has ended: what was held, in order, and how many of each kind did not
   * fit (0 for a kind none of which was lost). Nothing is held after.
   */
  release(): { readonly lines: readonly T[]; lostOf(kind?: string): number } {
    const lines = this.lines;
    const lost = this.lost;
    this.lines = [];
    this.chars = 0;
    this.lost = new Map();
    return { lines, lostOf: (kind = "") => lost.get(kind) ?? 0 };
  }
}
