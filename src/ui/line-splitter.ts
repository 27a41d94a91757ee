/**
 * Input text cut into lines with a bound on what one line may hold, pure. A line ends at "\n",
 * "\r\n" or "\r" (as node:readline ends them, also when "\r" and "\n" come in separate chunks).
 * An unfinished line is held up to `maxChars` characters; a line that grows past that is
 * dropped up to its end and reported once (`tooLong`), so input without line breaks (a binary
 * file piped in, /dev/zero) costs a bounded amount of memory instead of all of it.
 */

export interface LineSink {
  line(text: string): void;
  /** A line longer than the bound was dropped (called once per such line, when it ends or grows past it). */
  tooLong(): void;
}

export class LineSplitter {
  /** The unfinished line's pieces, joined when it ends (no quadratic concatenation). */
  private pieces: string[] = [];
  private held = 0;
  /** The current line grew past the bound: drop its text until it ends. */
  private dropping = false;
  /** The last chunk ended with "\r": a "\n" starting the next one belongs to that line end. */
  private afterReturn = false;

  constructor(
    private readonly maxChars: number,
    private readonly sink: LineSink,
  ) {}

  push(text: string): void {
    let start = 0;
    if (this.afterReturn && text.startsWith("\n")) start = 1;
    this.afterReturn = false;
    const ends = /\r\n|\r|\n/g;
    ends.lastIndex = start;
    for (let m = ends.exec(text); m; m = ends.exec(text)) {
      this.hold(text.slice(start, m.index));
      this.endLine();
      start = m.index + m[0].length;
      if (m[0] === "\r" && start === text.length) this.afterReturn = true;
    }
    this.hold(text.slice(start));
  }

  /** The input ended: an unfinished line counts as a line (readline's behaviour). */
  end(): void {
    if (this.held > 0 || this.dropping) this.endLine();
  }

  private hold(piece: string): void {
    if (this.dropping || piece === "") return;
    if (this.held + piece.length > this.maxChars) {
      this.pieces = [];
      this.held = 0;
      this.dropping = true;
      this.sink.tooLong();
      return;
    }
    this.pieces.push(piece);
    this.held += piece.length;
  }

  private endLine(): void {
    if (this.dropping) {
      this.dropping = false;
      return;
    }
    const text = this.pieces.join("");
    this.pieces = [];
    this.held = 0;
    this.sink.line(text);
  }
}
