/**
 * Whose our DATA not ACKed yet is. The peer's ACKs count all our DATA on the connection
 * (cumulative, in the order written), not a transfer's, and transfers take turns frame by frame
 * (outgoing.ts nextBulk: a folder's entries in flight interleave). What the receiver took of one
 * transfer is what was sent of it less its own bytes not ACKed yet: less all the connection's
 * (6d8c10d's bound) said 0 of each of a folder's three entries cut short while MiBs of them had
 * arrived.
 *
 * One entry per DATA frame written: its owner (a transfer id) and where it ends in the
 * connection's DATA (Scheduler's sentBulk after it), dropped once ACKed whole. So it holds at most
 * the frames un-ACKed, the send window's bytes over the frames' size: a few hundred of full
 * frames, but a frame carries what is left of its file, so a folder of tiny files in flight holds
 * one a file (a receiver that withholds its ACKs: up to the window's bytes, 16 bytes each).
 * unackedOf scans them all, once for each transfer that ends badly.
 */

export class UnackedFrames {
  /** A ring (a power of two long) of the frames' owners and ends, oldest at `head`. */
  private owners = new Float64Array(64);
  private ends = new Float64Array(64);
  private head = 0;
  private count = 0;
  /** Where the oldest frame held starts: the end of the last one dropped. */
  private start = 0;

  /**
   * A DATA frame was written.
   * @param owner - its transfer's id
   * @param end - the connection's DATA bytes written so far, this frame's included
   */
  written(owner: number, end: number): void {
    if (this.count === this.ends.length) this.grow();
    const at = (this.head + this.count) & (this.ends.length - 1);
    this.owners[at] = owner;
    this.ends[at] = end;
    this.count++;
  }

  /** The peer ACKed `acked` bytes of our DATA in all: the frames it covers whole are dropped. */
  acked(acked: number): void {
    const mask = this.ends.length - 1;
    while (this.count > 0 && (this.ends[this.head] as number) <= acked) {
      this.start = this.ends[this.head] as number;
      this.head = (this.head + 1) & mask;
      this.count--;
    }
  }

  /**
   * Bytes of `owner`'s DATA not ACKed yet (a scan of the frames held: asked as a transfer ends).
   * @param acked - the connection's DATA ACKed so far
   */
  unackedOf(owner: number, acked: number): number {
    const mask = this.ends.length - 1;
    let sum = 0;
    let start = this.start;
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) & mask;
      const end = this.ends[at] as number;
      if (this.owners[at] === owner) sum += end - Math.max(start, acked);
      start = end;
    }
    return sum;
  }

  /** Twice as long, the frames held moved to its start in order. */
  private grow(): void {
    const size = this.ends.length;
    const owners = new Float64Array(size * 2);
    const ends = new Float64Array(size * 2);
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) & (size - 1);
      owners[i] = this.owners[at] as number;
      ends[i] = this.ends[at] as number;
    }
    this.owners = owners;
    this.ends = ends;
    this.head = 0;
  }
}
