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

import { createCipheriv, createDecipheriv } from "node:crypto";
import { CryptoError } from "./errors.ts";

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

function nonceFor(counter: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 4);
  return nonce;
}

/** Turns plaintext into records, one direction: plain until `setKey`, sealed after. */
export class RecordSealer {
  private counter = 0n;
  private key: Buffer | undefined;

  /** @param key - 32 bytes to seal from the start; none: plain records until `setKey` */
  constructor(key?: Uint8Array) {
    if (key) this.setKey(key);
  }

  get sealing(): boolean {
    return this.key !== undefined;
  }

  /** Seals every later record with `key` (32 bytes; copied, wiped by `destroy`). */
  setKey(key: Uint8Array): void {
    if (key.length !== RECORD_KEY_BYTES) throw new RangeError("record key must be 32 bytes");
    if (this.key) throw new Error("the record key is set once");
    this.key = Buffer.from(key);
  }

  /** Bytes of the record that carries `plaintextBytes`. */
  recordBytes(plaintextBytes: number): number {
    return RECORD_HEADER_BYTES + plaintextBytes + (this.key ? RECORD_TAG_BYTES : 0);
  }

  /**
   * One record holding `plaintext` (at most MAX_RECORD_PLAINTEXT_BYTES), as one buffer: in
   * `scratch` when it is given and large enough (the caller then owns that view until it has
   * been written), else in a new buffer. One buffer means one write, one TCP segment train:
   * header, ciphertext and tag as three writes cost two extra syscalls and two tiny segments
   * per record on both ends. The plaintext may be reused as soon as this returns.
   */
  seal(plaintext: Uint8Array, scratch?: Uint8Array): Uint8Array {
    if (plaintext.length > MAX_RECORD_PLAINTEXT_BYTES) throw new RangeError("record plaintext too large");
    const total = this.recordBytes(plaintext.length);
    const out = scratch && scratch.length >= total ? scratch.subarray(0, total) : Buffer.allocUnsafe(total);
    const header = out.subarray(0, RECORD_HEADER_BYTES);
    writeU32(header, total - RECORD_HEADER_BYTES);
    if (!this.key) {
      out.set(plaintext, RECORD_HEADER_BYTES);
      return out;
    }
    const cipher = createCipheriv("aes-256-gcm", this.key, nonceFor(this.counter++));
    cipher.setAAD(header);
    let at = RECORD_HEADER_BYTES;
    for (const piece of [cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  destroy(): void {
    this.key?.fill(0);
  }
}

/**
 * Opens records from the byte stream, one direction: incremental (records may be split or
 * coalesced across chunks), each reassembled at most once; plain until `setKey`, sealed after.
 * Records come out one at a time (`next`), so a key set while handling one record applies to
 * the very next, even in the same chunk.
 */
export class RecordOpener {
  private counter = 0n;
  private plainLimit = MAX_PLAIN_RECORD_BYTES;
  private key: Buffer | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;

  /** @param key - 32 bytes to open sealed records from the start; none: plain until `setKey` */
  constructor(key?: Uint8Array) {
    if (key) this.setKey(key);
  }

  /** Every later record must be sealed with `key` (32 bytes; copied, wiped by `destroy`). */
  setKey(key: Uint8Array): void {
    if (key.length !== RECORD_KEY_BYTES) throw new RangeError("record key must be 32 bytes");
    if (this.key) throw new Error("the record key is set once");
    this.key = Buffer.from(key);
  }

  /** Benchmark baseline only: plain records as large as sealed ones from now on. */
  allowLargePlainRecords(): void {
    this.plainLimit = MAX_RECORD_PLAINTEXT_BYTES;
  }

  /** Buffers received bytes; take the records out with `next`. */
  feed(chunk: Uint8Array): void {
    this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.pendingBytes += chunk.length;
  }

  /**
   * The next complete record's plaintext, or undefined until more bytes arrive.
   * @throws CryptoError E_AUTH_FAILED for a sealed record that does not open (flipped,
   *   replayed, reordered, forged) or an impossible length; the opener stays failed
   */
  next(): Uint8Array | undefined {
    const parts = this.nextParts();
    if (parts === undefined) return undefined;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * Like `next`, but the plaintext may come as several pieces (in order): a sealed record
   * split across received chunks is decrypted piece by piece instead of being copied into
   * one buffer first. Nothing is returned before the whole record has been authenticated.
   */
  nextParts(): Uint8Array[] | undefined {
    if (this.failed) throw integrityError();
    if (this.pendingBytes < RECORD_HEADER_BYTES) return undefined;
    const length = this.peekLength();
    const limit = this.key ? MAX_RECORD_PLAINTEXT_BYTES + RECORD_TAG_BYTES : this.plainLimit;
    if (length < (this.key ? RECORD_TAG_BYTES : 0) || length > limit) {
      this.failed = true;
      throw integrityError();
    }
    if (this.pendingBytes < RECORD_HEADER_BYTES + length) return undefined;
    if (!this.key) {
      this.take(RECORD_HEADER_BYTES);
      const parts: Uint8Array[] = [];
      for (let left = length; left > 0; ) {
        const piece = this.take(Math.min(left, (this.pending[0] as Buffer).length));
        parts.push(piece);
        left -= piece.length;
      }
      return parts;
    }
    try {
      const header = this.take(RECORD_HEADER_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", this.key, nonceFor(this.counter++));
      decipher.setAAD(header);
      const parts: Uint8Array[] = [];
      for (let left = length - RECORD_TAG_BYTES; left > 0; ) {
        const piece = this.take(Math.min(left, (this.pending[0] as Buffer).length));
        const plain = decipher.update(piece);
        if (plain.length > 0) parts.push(plain);
        left -= piece.length;
      }
      decipher.setAuthTag(this.take(RECORD_TAG_BYTES));
      const tail = decipher.final(); // throws when the tag does not match
      if (tail.length > 0) parts.push(tail);
      return parts;
    } catch (err) {
      this.failed = true;
      throw integrityError(err);
    }
  }

  /** Feeds `chunk` and returns every record it completes (no key change in between). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.feed(chunk);
    const out: Uint8Array[] = [];
    for (let r = this.next(); r !== undefined; r = this.next()) out.push(r);
    return out;
  }

  /** True when no partial record is buffered (a close here cut nothing in half). */
  get atRecordBoundary(): boolean {
    return this.pendingBytes === 0;
  }

  destroy(): void {
    this.key?.fill(0);
    this.pending = [];
    this.pendingBytes = 0;
  }

  private peekLength(): number {
    const first = this.pending[0] as Buffer;
    if (first.length >= RECORD_HEADER_BYTES) return first.readUInt32BE(0);
    return this.copyOut(RECORD_HEADER_BYTES, false).readUInt32BE(0);
  }

  /** Removes and returns the next `n` bytes: a view when they sit in one chunk, else one copy. */
  private take(n: number): Buffer {
    const first = this.pending[0] as Buffer;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      this.pendingBytes -= n;
      return out;
    }
    return this.copyOut(n, true);
  }

  private copyOut(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const chunk = this.pending[i] as Buffer;
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (consume) {
        if (part === chunk.length) this.pending.shift();
        else this.pending[0] = chunk.subarray(part);
      } else i++;
    }
    if (consume) this.pendingBytes -= n;
    return out;
  }
}

function writeU32(bytes: Uint8Array, value: number): void {
  bytes[0] = value >>> 24;
  bytes[1] = (value >>> 16) & 0xff;
  bytes[2] = (value >>> 8) & 0xff;
  bytes[3] = value & 0xff;
}

function integrityError(cause?: unknown): CryptoError {
  return new CryptoError("E_AUTH_FAILED", "integrity error", cause === undefined ? undefined : { cause });
}
