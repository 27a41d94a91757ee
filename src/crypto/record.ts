/**
 * Records: every byte on a Parley connection travels in records. Until the handshake has
 * agreed on keys they are plain (the handshake's own frames); from then on each direction
 * seals its records with AES-256-GCM under its own key, the nonce a per-direction counter
 * (never sent, so a replayed, dropped or reordered record fails to open), the length header
 * authenticated. The switch happens between two records, so no byte is ever read in the
 * wrong mode.
 *
 *   plain:  | length u32 = n | payload (n bytes) |
 *   sealed: | length u32 = n + 16 | ciphertext (n bytes) | GCM tag (16) |
 *           AAD = the 4 length bytes; nonce = 4 zero bytes | u64 big-endian counter
 *
 * A sealed record that does not open ends the connection with "integrity error"; nothing of
 * it is used, and the error never says why (CryptoError E_AUTH_FAILED).
 */

import { concatBytes } from "@noble/hashes/utils.js";
import {
  type AeadBackend,
  createGcmOpener,
  createGcmSealer,
  GCM_NONCE_BYTES,
  type GcmOpener,
  type GcmSealer,
} from "./aes-gcm.ts";
import { ChunkQueue } from "./chunk-queue.ts";
import { CryptoError } from "./errors.ts";
import { writeU32 } from "./u32.ts";

/** Bytes of the length field. */
export const RECORD_HEADER_BYTES = 4;
/** Bytes of the GCM tag. */
export const RECORD_TAG_BYTES = 16;
/** Largest plaintext one record carries (a whole frame of the protocol layer, with room). */
export const MAX_RECORD_PLAINTEXT_BYTES = (1 << 20) + 1024;
/** Largest plain record (before keys): the handshake's frames only, so a few KiB is plenty. */
export const MAX_PLAIN_RECORD_BYTES = 17 * 1024;
/** AES-256 key length. */
export const RECORD_KEY_BYTES = 32;
/**
 * Where an opened record's plaintext starts in the opener's buffer: a record that carries a
 * DATA frame then has its file bytes (after the 9-byte frame header) at offset 64, so the
 * file write copies from a 64-byte aligned address (misaligned kernel copies were several
 * times slower on this CPU: shared notes, pitfall 4).
 */
const PLAINTEXT_OFFSET = 64 - 9;

/** Writes the counter into the 96-bit nonce (a view of it): 4 zero bytes, then u64 big-endian. */
function writeNonce(nonce: DataView, counter: number): void {
  // A counter beyond 2^53 records (2^71 bytes at 256 KiB) would repeat a nonce: refuse.
  if (counter > Number.MAX_SAFE_INTEGER) throw new Error("record counter exhausted");
  nonce.setUint32(4, Math.floor(counter / 2 ** 32));
  nonce.setUint32(8, counter >>> 0);
}

function checkKey(key: Uint8Array, already: unknown): void {
  if (key.length !== RECORD_KEY_BYTES) throw new RangeError("record key must be 32 bytes");
  if (already) throw new Error("the record key is set once");
}

/** Turns plaintext into records, one direction: plain until `setKey`, sealed after. */
export class RecordSealer {
  private counter = 0;
  private aead: GcmSealer | undefined;
  private readonly nonce = new Uint8Array(GCM_NONCE_BYTES);
  private readonly nonceView = new DataView(this.nonce.buffer);
  private destroyed = false;
  /** The last record's view of a scratch (viewOf), and that scratch. */
  private lastView: Uint8Array | undefined;
  private lastScratch: Uint8Array | undefined;

  /**
   * @param key - 32 bytes to seal from the start; none: plain records until `setKey`
   * @param backend - which AES-GCM implementation (default: aes-gcm.ts chooses)
   */
  constructor(
    key?: Uint8Array,
    private readonly backend?: AeadBackend,
  ) {
    if (key) this.setKey(key);
  }

  get sealing(): boolean {
    return this.aead !== undefined;
  }

  /** Seals every later record with `key` (32 bytes; expanded now, the caller may wipe it). */
  setKey(key: Uint8Array): void {
    checkKey(key, this.aead);
    this.aead = createGcmSealer(key, this.backend);
  }

  /** Bytes of the record that carries `plaintextBytes`. */
  recordBytes(plaintextBytes: number): number {
    return RECORD_HEADER_BYTES + plaintextBytes + (this.aead ? RECORD_TAG_BYTES : 0);
  }

  /**
   * One record holding `plaintext` (at most MAX_RECORD_PLAINTEXT_BYTES), as one buffer: in
   * `scratch` when it is given and large enough (the caller then owns that view until it has
   * been written), else in a new buffer. One buffer means one write, one TCP segment train:
   * header, ciphertext and tag as three writes cost two extra syscalls and two tiny segments
   * per record on both ends. The plaintext may be reused as soon as this returns.
   *
   * In a scratch nothing is allocated: the record is sealed where it lies (no views of its
   * parts), and the view handed back is the one of the previous record when the scratch and
   * the length are the same (a file's full DATA records). A few small objects per record kept
   * the garbage collector taking fresh blocks, each page of them a fault (DESIGN-NOTES.md).
   */
  seal(plaintext: Uint8Array, scratch?: Uint8Array): Uint8Array {
    if (this.destroyed) throw new Error("record sealer used after destroy");
    if (plaintext.length > MAX_RECORD_PLAINTEXT_BYTES) throw new RangeError("record plaintext too large");
    const total = this.recordBytes(plaintext.length);
    const inScratch = scratch !== undefined && scratch.length >= total;
    const buffer = inScratch ? scratch : new Uint8Array(total);
    writeU32(buffer, 0, total - RECORD_HEADER_BYTES);
    if (this.aead) {
      writeNonce(this.nonceView, this.counter++);
      this.aead.sealRecord(this.nonce, buffer, RECORD_HEADER_BYTES, plaintext);
    } else {
      buffer.set(plaintext, RECORD_HEADER_BYTES);
    }
    return inScratch ? this.viewOf(buffer, total) : buffer;
  }

  /** `scratch[0, total)`, the same view object as last time when it would be the same bytes. */
  private viewOf(scratch: Uint8Array, total: number): Uint8Array {
    const last = this.lastView;
    if (last !== undefined && this.lastScratch === scratch && last.length === total) return last;
    const view = scratch.subarray(0, total);
    this.lastScratch = scratch;
    this.lastView = view;
    return view;
  }

  destroy(): void {
    this.destroyed = true;
    this.aead?.destroy();
  }
}

/**
 * Opens records from the byte stream, one direction: incremental (records may be split or
 * coalesced across chunks); plain until `setKey`, sealed after. Received chunks are kept as
 * a list of views, never concatenated: a sealed record is decrypted piece by piece, straight
 * from the chunks, into one buffer the opener owns (allocated once, at `setKey`), so its
 * plaintext comes out in one piece however the record was split. Records come out one at a
 * time (`next`), so a key set while handling one record applies to the very next, even in
 * the same chunk.
 *
 * A sealed record's plaintext is a view of that buffer: valid until the next call to
 * `next`, `nextParts` or `push`. Copy what must outlive it.
 *
 * With `releaseReadChunks`, a chunk that was fed whole (a buffer of its own, as a socket read
 * gives) is released as soon as its last byte has been opened: its ArrayBuffer is detached,
 * which hands the memory straight back to the allocator. Otherwise a socket's fresh read
 * buffer lives until some later garbage collection; by then the allocator has given the pages
 * back to the kernel and every new read faults them in again (measured on a 1 GiB transfer:
 * receiver page faults about 20,000 -> 2,500, CPU per GiB down by a fifth; DESIGN-NOTES.md).
 */
export class RecordOpener {
  private counter = 0;
  private plainLimit = MAX_PLAIN_RECORD_BYTES;
  private aead: GcmOpener | undefined;
  private readonly nonce = new Uint8Array(GCM_NONCE_BYTES);
  private readonly nonceView = new DataView(this.nonce.buffer);
  /** Where sealed records are opened: PLAINTEXT_OFFSET + the largest record, sized once. */
  private plaintext: Uint8Array = new Uint8Array(0);
  /**
   * How far into `plaintext` records have been opened: `destroy` wipes that far, not the pages
   * never written (a wipe of all of it faulted in ~256 pages at every connection's end).
   */
  private written = 0;
  /** Received bytes not yet opened, as they came (chunk-queue.ts). */
  private readonly queue = new ChunkQueue();
  /** A sealed record's length field (its AAD) and tag, copied out of the chunks. */
  private readonly header = new Uint8Array(RECORD_HEADER_BYTES);
  private readonly tag = new Uint8Array(RECORD_TAG_BYTES);
  /** The last plaintext view handed out: the next record of the same length gets it again. */
  private lastPlain: Uint8Array = new Uint8Array(0);
  /** What `nextParts` hands back for a sealed record: one array, reused. */
  private readonly sealedParts: Uint8Array[] = [];
  private failed = false;
  private destroyed = false;

  /**
   * @param key - 32 bytes to open sealed records from the start; none: plain until `setKey`
   * @param backend - which AES-GCM implementation (default: aes-gcm.ts chooses)
   */
  constructor(
    key?: Uint8Array,
    private readonly backend?: AeadBackend,
  ) {
    if (key) this.setKey(key);
  }

  /** Every later record must be sealed with `key` (32 bytes; expanded now, the caller may wipe it). */
  setKey(key: Uint8Array): void {
    checkKey(key, this.aead);
    this.aead = createGcmOpener(key, this.backend);
    this.plaintext = new Uint8Array(PLAINTEXT_OFFSET + MAX_RECORD_PLAINTEXT_BYTES);
  }

  /** Benchmark baseline only: plain records as large as sealed ones from now on. */
  allowLargePlainRecords(): void {
    this.plainLimit = MAX_RECORD_PLAINTEXT_BYTES;
  }

  /**
   * From now on, chunks fed whole (byteOffset 0, the whole ArrayBuffer) are the opener's: it
   * detaches each once it has read it to its end and nothing handed out refers to it any more
   * (a sealed record's chunks right after it opened; a plain record's at the next call). Only
   * for a source whose every chunk is a buffer of its own (Connection.freshChunks).
   */
  releaseReadChunks(): void {
    this.queue.releasing = true;
  }

  /** Buffers received bytes (a view: the chunk must not change until its records are out). */
  feed(chunk: Uint8Array): void {
    if (this.destroyed) return;
    this.queue.push(chunk);
  }

  /**
   * The next complete record's plaintext, or undefined until more bytes arrive. A record in
   * pieces (plain records only) is copied together.
   * @throws CryptoError E_AUTH_FAILED for a sealed record that does not open (flipped,
   *   replayed, reordered, forged) or an impossible length; the opener stays failed
   */
  next(): Uint8Array | undefined {
    const parts = this.nextParts();
    if (parts === undefined) return undefined;
    return parts.length === 1 ? parts[0] : concatBytes(...parts);
  }

  /**
   * Like `next`, but a plain record split across chunks comes as its pieces (in order),
   * views of the chunks, instead of a copy. A sealed record is always one piece (in the
   * opener's buffer), returned only once the whole record has been authenticated, in an array
   * that is reused (valid, like the plaintext, until the next call).
   */
  nextParts(): Uint8Array[] | undefined {
    // The previous record's views (a plain record's pieces) are no longer valid.
    this.queue.releaseSpent();
    if (this.failed) throw integrityError();
    if (this.destroyed || this.queue.bytes < RECORD_HEADER_BYTES) return undefined;
    const length = this.queue.peekU32();
    const limit = this.aead ? MAX_RECORD_PLAINTEXT_BYTES + RECORD_TAG_BYTES : this.plainLimit;
    if (length < (this.aead ? RECORD_TAG_BYTES : 0) || length > limit) {
      this.failed = true;
      throw integrityError();
    }
    if (this.queue.bytes < RECORD_HEADER_BYTES + length) return undefined;
    if (!this.aead) {
      this.queue.copyInto(this.header); // the length field, maybe split across chunks
      const parts: Uint8Array[] = [];
      for (let left = length; left > 0; ) {
        const piece = this.queue.take(Math.min(left, this.queue.headBytes()));
        parts.push(piece);
        left -= piece.length;
      }
      return parts;
    }
    this.sealedParts[0] = this.openSealed(this.aead, length);
    return this.sealedParts;
  }

  /** Feeds `chunk` and returns every record it completes, each a copy (no key change in between). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.feed(chunk);
    const out: Uint8Array[] = [];
    for (let r = this.next(); r !== undefined; r = this.next()) out.push(Uint8Array.from(r));
    return out;
  }

  /**
   * Bytes that must still arrive before the next record is whole: the rest of the record begun,
   * or of its length field (then the record's own size is not known yet).
   */
  get bytesAwaited(): number {
    const have = this.queue.bytes;
    if (have < RECORD_HEADER_BYTES) return RECORD_HEADER_BYTES - have;
    return Math.max(0, RECORD_HEADER_BYTES + this.queue.peekU32() - have);
  }

  /** True when no partial record is buffered (a close here cut nothing in half). */
  get atRecordBoundary(): boolean {
    return this.queue.bytes === 0;
  }

  destroy(): void {
    this.destroyed = true;
    this.aead?.destroy();
    this.plaintext.fill(0, 0, this.written);
    this.written = 0;
    this.queue.clear();
  }

  /**
   * Opens the sealed record (whole in the queue) whose length field says `length`. Straight
   * from the chunks into our buffer, piece by piece, making no view of them: the header and the
   * tag are copied into small buffers of ours, and the plaintext view is the last record's when
   * the length is the same (a heap object per piece and per record kept the garbage collector
   * taking fresh, page-faulting blocks; DESIGN-NOTES.md).
   */
  private openSealed(aead: GcmOpener, length: number): Uint8Array {
    const bodyBytes = length - RECORD_TAG_BYTES;
    const out = this.plaintext;
    const queue = this.queue;
    // Before any byte of it is written, so that a record that fails half-way is wiped too.
    if (PLAINTEXT_OFFSET + bodyBytes > this.written) this.written = PLAINTEXT_OFFSET + bodyBytes;
    try {
      writeNonce(this.nonceView, this.counter++);
      queue.copyInto(this.header);
      aead.begin(this.nonce, this.header);
      let at = PLAINTEXT_OFFSET;
      for (let left = bodyBytes; left > 0; ) {
        const n = Math.min(left, queue.headBytes());
        at += aead.updateAt(queue.head, queue.headOffset, n, out, at);
        queue.advance(n);
        left -= n;
      }
      queue.copyInto(this.tag);
      if (!aead.finish(this.tag) || at !== PLAINTEXT_OFFSET + bodyBytes) throw integrityError();
      return this.plainView(bodyBytes);
    } catch (err) {
      this.failed = true;
      throw err instanceof CryptoError ? err : integrityError(err);
    } finally {
      // The plaintext is in our own buffer: the chunks it came from are free now.
      queue.releaseSpent();
    }
  }

  /** `plaintext[PLAINTEXT_OFFSET, + n)`: the same view object as last time for the same length. */
  private plainView(n: number): Uint8Array {
    if (this.lastPlain.length !== n || this.lastPlain.buffer !== this.plaintext.buffer) {
      this.lastPlain = this.plaintext.subarray(PLAINTEXT_OFFSET, PLAINTEXT_OFFSET + n);
    }
    return this.lastPlain;
  }
}

function integrityError(cause?: unknown): CryptoError {
  return new CryptoError("E_AUTH_FAILED", "integrity error", cause === undefined ? undefined : { cause });
}

/**
 * Whether `bytes` begin with a whole record sealed with `key` as the first of its direction
 * (counter 0): true; false for one that does not open, or an impossible length; undefined while
 * it is not whole. For a transit receiver holding a relay's "go" (net/transit.ts senderRecord): a
 * forger cannot seal one. `bytes` are only read (a fresh opener opens a copy of the record).
 * @param key - the peer's send key, 32 bytes
 */
export function opensFirstRecord(key: Uint8Array, bytes: Uint8Array): boolean | undefined {
  if (bytes.length < RECORD_HEADER_BYTES) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(0);
  if (length < RECORD_TAG_BYTES || length > MAX_RECORD_PLAINTEXT_BYTES + RECORD_TAG_BYTES) return false;
  if (bytes.length < RECORD_HEADER_BYTES + length) return undefined;
  const opener = new RecordOpener(key);
  try {
    opener.feed(bytes.slice(0, RECORD_HEADER_BYTES + length));
    return opener.next() !== undefined;
  } catch (err) {
    if (err instanceof CryptoError) return false;
    throw err;
  } finally {
    opener.destroy();
  }
}
