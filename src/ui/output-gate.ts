/**
 * Output the peer can produce at will (chat lines) must not pile up in memory when our own
 * output is slower than the peer (a paused terminal, a pipe nobody reads): Bun keeps what a
 * non-blocking stdout could not take yet, without bound. While the stream is backed up (its
 * write returned false, until "drain"), such text is counted instead of written; once it
 * drains, one line says how much was not shown. Our own lines are always written.
 */

/** The part of a writable stream the gate needs (process.stdout, or a test's). */
export interface GatedStream {
  write(text: string): boolean;
  once?(event: "drain", listener: () => void): unknown;
}

export class OutputGate {
  private congested = false;
  private skipped = 0;

  constructor(
    private readonly stream: GatedStream,
    /** The line that reports `n` skipped pieces of peer text (with its newline). */
    private readonly skippedLine: (n: number) => string,
  ) {}

  /** Our own output: always written. */
  write(text: string): void {
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
      const n = this.skipped;
      this.skipped = 0;
      if (n > 0) this.write(this.skippedLine(n));
    });
  }
}
