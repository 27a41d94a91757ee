/**
 * WritePieces: how a receiver cuts the bytes it takes, in order, into positional file writes.
 * Each write is at most WRITE_PIECE_BYTES (512 KiB-1 MiB writes into a new file were 3-7x slower
 * on this VM kind), and none starts on a WRITE_PIECE_BYTES boundary with more than a page: whole
 * 256 KiB writes at 256 KiB-aligned offsets let the page cache take one 256 KiB folio each, and
 * on this VM kind (memory the host took back, faulted in again on first touch) their copy cost
 * several times more (docs/DESIGN-NOTES.md, "Writes that start on a 256 KiB boundary").
 *
 * A sender's records are 256 KiB at 256 KiB-aligned offsets, so each would start on a boundary.
 * Rather than write each record's first page alone (two writes a record, and while we chat two
 * hand-offs to the thread pool), the last page of a record that ends on a boundary is carried
 * (copied here) and written in front of the next record: one write a record, from a page below
 * the boundary. Only a file's first write (or a resumed one's) starts on a boundary; it writes a
 * page alone. The carried bytes (a page at most) are taken, not yet in the file: `flush` writes
 * them when no next write will (a stream's end, an abort); with `more` false nothing is carried.
 */

/** Largest single write() into the file. */
export const WRITE_PIECE_BYTES = 256 * 1024;
/** A piece that would start on a WRITE_PIECE_BYTES boundary writes this much (a page) alone. */
export const ALIGNED_LEAD_BYTES = 4096;

/** Where the pieces go: `head` (carried bytes, may be empty) then `body`, from `position`. */
export type PieceWrite = (head: Uint8Array, body: Uint8Array, position: number) => void;

const NO_BYTES = new Uint8Array(0);

export class WritePieces {
  private readonly carried = new Uint8Array(ALIGNED_LEAD_BYTES);
  /** Bytes held in `carried`: they end where the bytes taken so far end. */
  private carriedBytes = 0;

  constructor(private readonly out: PieceWrite) {}

  /** Bytes taken and not yet handed to `out` (a page at most). */
  get pending(): number {
    return this.carriedBytes;
  }

  /**
   * Takes `bytes`, which belong at file offset `position` (where the bytes taken before end).
   * `more`: bytes will follow (then a last page that ends on a boundary is carried). `bytes`
   * may be reused once this returns; `out` may throw (then nothing more is taken).
   */
  take(bytes: Uint8Array, position: number, more: boolean): void {
    if (bytes.length === 0) return;
    const end = position + bytes.length;
    let start = position - this.carriedBytes;
    while (start < end) {
      let n = Math.min(end - start, WRITE_PIECE_BYTES);
      const stop = start + n;
      if (start % WRITE_PIECE_BYTES === 0 && n > ALIGNED_LEAD_BYTES) n = ALIGNED_LEAD_BYTES;
      else if (stop % WRITE_PIECE_BYTES === 0 && n > ALIGNED_LEAD_BYTES && (stop < end || more)) {
        // The next piece would start on the boundary: stop a page short of it.
        n -= ALIGNED_LEAD_BYTES;
      } else if (more && stop === end && end % WRITE_PIECE_BYTES === 0 && start >= position) {
        // The last page (or less) before a boundary waits for the next bytes, in front of them.
        this.carried.set(bytes.subarray(start - position));
        this.carriedBytes = n;
        return;
      }
      this.write(bytes, position, start, start + n);
      start += n;
    }
  }

  /** Hands the carried bytes, which end at `position`, to `write` on their own. */
  flush(position: number, write: PieceWrite = this.out): void {
    if (this.carriedBytes === 0) return;
    const head = this.carried.subarray(0, this.carriedBytes);
    this.carriedBytes = 0;
    write(head, NO_BYTES, position - head.length);
  }

  /** Forgets the carried bytes (the file started over). */
  drop(): void {
    this.carriedBytes = 0;
  }

  /** Writes file range [from, to): the carried bytes first if it starts among them. */
  private write(bytes: Uint8Array, position: number, from: number, to: number): void {
    const carriedFrom = position - this.carriedBytes;
    if (from < position) {
      // Only the first piece starts among the carried bytes, always at their start, and it
      // reaches past them (a carried page is less than a piece, and never ends on a boundary).
      const head = this.carried.subarray(from - carriedFrom, this.carriedBytes);
      this.carriedBytes = 0;
      this.out(head, bytes.subarray(0, to - position), from);
    } else this.out(NO_BYTES, bytes.subarray(from - position, to - position), from);
  }
}
