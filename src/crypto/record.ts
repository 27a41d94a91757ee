/**
 * Record protection: every byte after the handshake travels in sealed records, AES-256-GCM
 * under one key per direction, with the nonce a per-direction counter (never sent, so a
 * replayed, dropped or reordered record fails to open), and the length header authenticated.
 *
 *   0        4                          4+n       4+n+16
 *   +--------+--------------------------+---------+
 *   | length | ciphertext (n bytes)     | GCM tag |
 *   +--------+--------------------------+---------+
 *   length: u32 big-endian = n + 16; AAD = these 4 bytes
 *   nonce:  4 zero bytes | u64 big-endian record counter (0, 1, 2, ... per direction)
 *
 * A record that does not open ends the connection with "integrity error"; nothing of it is
 * used, and the error never says why (CryptoError E_AUTH_FAILED).
 */

import { createCipheriv, createDecipheriv } from "node:crypto";
import { CryptoError } from "./errors.ts";

/** Bytes of the length field. */
export const RECORD_HEADER_BYTES = 4;
/** Bytes of the GCM tag. */
export const RECORD_TAG_BYTES = 16;
/** Largest plaintext one record carries (a whole frame of the protocol layer, with room). */
export const MAX_RECORD_PLAINTEXT_BYTES = (1 << 20) + 1024;
/** AES-256 key length. */
export const RECORD_KEY_BYTES = 32;

function nonceFor(counter: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 4);
  return nonce;
}

/** Seals plaintext into records, one direction. */
export class RecordSealer {
  private counter = 0n;
  private readonly key: Buffer;

  /** @param key - 32 bytes; copied, and wiped by `destroy` */
  constructor(key: Uint8Array) {
    if (key.length !== RECORD_KEY_BYTES) throw new RangeError("record key must be 32 bytes");
    this.key = Buffer.from(key);
  }

  /**
   * One record holding `plaintext` (at most MAX_RECORD_PLAINTEXT_BYTES), as one buffer.
   * The plaintext may be reused as soon as this returns.
   */
  seal(plaintext: Uint8Array): Uint8Array {
    if (plaintext.length > MAX_RECORD_PLAINTEXT_BYTES) throw new RangeError("record plaintext too large");
    const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    header.writeUInt32BE(plaintext.length + RECORD_TAG_BYTES, 0);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonceFor(this.counter++));
    cipher.setAAD(header);
    const body = cipher.update(plaintext);
    const tail = cipher.final(); // empty for GCM, but part of the API contract
    return Buffer.concat([header, body, tail, cipher.getAuthTag()]);
  }

  destroy(): void {
    this.key.fill(0);
  }
}

/**
 * Opens records from the byte stream, one direction: incremental (records may be split or
 * coalesced across chunks), each reassembled at most once.
 */
export class RecordOpener {
  private counter = 0n;
  private readonly key: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;

  /** @param key - 32 bytes; copied, and wiped by `destroy` */
  constructor(key: Uint8Array) {
    if (key.length !== RECORD_KEY_BYTES) throw new RangeError("record key must be 32 bytes");
    this.key = Buffer.from(key);
  }

  /**
   * Feeds received bytes.
   * @returns the plaintexts of the records completed by this chunk, in order
   * @throws CryptoError E_AUTH_FAILED for a record that does not open (flipped, replayed,
   *   reordered, forged) or an impossible length; the opener stays failed
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw integrityError();
    this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.pendingBytes += chunk.length;
    const out: Uint8Array[] = [];
    while (this.pendingBytes >= RECORD_HEADER_BYTES) {
      const length = this.peekLength();
      if (length < RECORD_TAG_BYTES || length > MAX_RECORD_PLAINTEXT_BYTES + RECORD_TAG_BYTES) {
        this.failed = true;
        throw integrityError();
      }
      if (this.pendingBytes < RECORD_HEADER_BYTES + length) break;
      const record = this.take(RECORD_HEADER_BYTES + length);
      out.push(this.open(record));
    }
    return out;
  }

  /** True when no partial record is buffered (a close here cut nothing in half). */
  get atRecordBoundary(): boolean {
    return this.pendingBytes === 0;
  }

  destroy(): void {
    this.key.fill(0);
    this.pending = [];
  }

  private open(record: Buffer): Uint8Array {
    const header = record.subarray(0, RECORD_HEADER_BYTES);
    const body = record.subarray(RECORD_HEADER_BYTES, record.length - RECORD_TAG_BYTES);
    const tag = record.subarray(record.length - RECORD_TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, nonceFor(this.counter++));
      decipher.setAAD(header);
      decipher.setAuthTag(tag);
      const plaintext = decipher.update(body);
      decipher.final(); // throws when the tag does not match
      return plaintext;
    } catch (err) {
      this.failed = true;
      throw integrityError(err);
    }
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

function integrityError(cause?: unknown): CryptoError {
  return new CryptoError("E_AUTH_FAILED", "integrity error", cause === undefined ? undefined : { cause });
}
