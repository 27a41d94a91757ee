/**
 * ReceiveLowWater: when to wake the reader of a socket (SO_RCVLOWAT). A reader that has begun a
 * record can use nothing until the rest of it is there, so the socket may stay quiet until then:
 * one wake-up and one read per record instead of one per piece (a transit relay forwards 64 KiB
 * pieces, four to a 256 KiB record). As soon as the reader could use any byte again (a record
 * ended, or only a few bytes are missing) the mark goes back to 1, so a chat line or an ACK is
 * handed up the moment it arrives.
 *
 * Why this cannot stall: the mark is never more than the bytes that complete a record the peer
 * has begun and will finish (it writes whole records), and Linux wakes the reader anyway at end
 * of stream, on an error, or when its receive window has shrunk to one segment (a buffer too
 * small to take the whole rest); it also caps the mark at half the receive buffer.
 */

/** Below this, a mark saves no wake-up worth its system call: the next piece completes the record. */
export const MIN_LOW_WATER_BYTES = 64 * 1024;
/** Marks are capped here: a little over the largest record (1 MiB of plaintext and overhead). */
export const MAX_LOW_WATER_BYTES = (1 << 20) + 4096;

/**
 * The mark for a reader that can use nothing until `awaited` more bytes have arrived: 1 (wake
 * for any byte) when that is few, else `awaited` up to MAX_LOW_WATER_BYTES.
 */
export function lowWaterMarkFor(awaited: number): number {
  if (!(awaited >= MIN_LOW_WATER_BYTES)) return 1;
  return Math.min(awaited, MAX_LOW_WATER_BYTES);
}

/** One socket's mark: set only when it changes; gives up silently where it cannot be set. */
export class ReceiveLowWater {
  private current = 1;
  private usable = true;

  /** @param set - sets the socket's mark, false when it cannot (setReceiveLowWater) */
  constructor(private readonly set: (bytes: number) => boolean) {}

  /** The mark as set on the socket (1: the default). */
  get mark(): number {
    return this.current;
  }

  /** The reader can use nothing until `awaited` more bytes have arrived. */
  expect(awaited: number): void {
    if (!this.usable) return;
    const mark = lowWaterMarkFor(awaited);
    if (mark === this.current) return;
    if (this.set(mark)) this.current = mark;
    else this.usable = false;
  }
}
