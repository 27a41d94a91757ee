/**
 * Output the peer can produce at will (chat lines) must not pile up in memory when our own
 * output is slower than the peer (a paused terminal, a pipe nobody reads): Bun keeps what a
 * non-blocking stdout could not take yet, without bound. While the stream is backed up (its
 * write returned false, until "drain"), such text is counted instead of written; once it
 * drains, one line says how much was not shown. Our own lines are written, up to
 * MAX_BACKED_UP_CHARS while the stream is backed up: past that they are counted too, since a
 * peer makes them at will as well (each offer it sends declined is a line of ours).
 */

/**
 * Characters of our own lines written while the stream is backed up, at most (Bun holds them,
 * about 8 times their size in memory for short lines). A peer's flood of offers declined at once
 * (100k a few seconds, 85 characters a line) grew a receiver whose output nobody read by
 * 650 bytes an offer, without bound (300k: 56 -> 240 MB).
 */
export const MAX_BACKED_UP_CHARS = 2 * 1024 * 1024;

/** The human line for `n` of our own lines not written (the JSON reporter says it as an event). */
export function lostLinesLine(n: number): string {
  return `${n} line${n === 1 ? "" : "s"} not shown: the output could not keep up.\n`;
}

/** The part of a writable stream the gate needs (process.stdout, or a test's). */
export interface GatedStream {
  write(text: string): boolean;
  once?(event: "drain", listener: () => void): unknown;
}

export class OutputGate {
  private congested = false;
  private skipped = 0;
  /** Our own characters written since the stream backed up, and our lines not written past MAX_BACKED_UP_CHARS. */
  private backedUp = 0;
  private lost = 0;

  constructor(
    private readonly stream: GatedStream,
    /** The line that reports `n` skipped pieces of peer text (with its newline). */
    private readonly skippedLine: (n: number) => string,
    /** The line that reports `n` of our own lines not written (with its newline). */
    private readonly lostLine: (n: number) => string,
  ) {}

  /** Our own output: written, unless MAX_BACKED_UP_CHARS of it already wait (then counted). */
  write(text: string): void {
    if (this.congested) {
      if (this.backedUp + text.length > MAX_BACKED_UP_CHARS) {
        this.lost++;
        return;
      }
      this.backedUp += text.length;
    }
    this.track(this.stream.write(text));
  }

  /** Text the peer chose: skipped (and counted) while the stream is backed up. */
  writeFromPeer(text: string): void {
    if (this.congested) {
      this.skipped++;
      return;
    }
    this.track(this.stream.write(text));
  }

  private track(accepted: boolean): void {
    if (accepted || this.congested || !this.stream.once) return;
    this.congested = true;
    this.stream.once("drain", () => {
      this.congested = false;
      this.backedUp = 0;
      const { skipped, lost } = this;
      this.skipped = 0;
      this.lost = 0;
      if (skipped > 0) this.write(this.skippedLine(skipped));
      if (lost > 0) this.write(this.lostLine(lost));
    });
  }
}
