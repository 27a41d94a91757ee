/**
 * Transit records: what a plain magic-wormhole client (transit.py) sends after the transit
 * handshake, sealed with SecretBox (secretbox.ts). Sans-I/O: bytes in, records out.
 *
 *   record   = u32 length (big-endian, bytes after this field) | nonce (24) | tag (16) | ciphertext
 *   nonce    = the record's number in its direction, big-endian in 24 bytes: 0, 1, 2, ...
 *   keys     = HKDF-SHA256(transit key, info = "transit_record_sender_key" | "transit_record_receiver_key")
 *              the transit sender seals with the sender key, the transit receiver with the receiver key
 *   transit key = HKDF-SHA256(wormhole key, info = APPID + "/transit-key")   (wormhole-keys.ts)
 *
 * A record whose nonce is not exactly the next expected number, or that does not open, ends
 * the connection (CryptoError): no record is lost, replayed or reordered unnoticed.
 */

import { CryptoError } from "./errors.ts";
import { createSecretBox, type SecretBox, type SecretBoxBackend } from "./secretbox.ts";
import { readU32, writeU32 } from "./u32.ts";
import { deriveWormholeKey, SECRETBOX_NONCE_BYTES, SECRETBOX_TAG_BYTES, WORMHOLE_APPID } from "./wormhole-keys.ts";

export const TRANSIT_LENGTH_BYTES = 4;
/** Bytes a record adds to its plaintext: length, nonce, tag. */
export const TRANSIT_RECORD_OVERHEAD = TRANSIT_LENGTH_BYTES + SECRETBOX_NONCE_BYTES + SECRETBOX_TAG_BYTES;
/**
 * Largest record (after the length field) accepted: the record is held whole in memory before
 * it opens. transit.py sends 16 KiB file records; anything near this limit is hostile.
 */
export const MAX_TRANSIT_RECORD_BYTES = 64 * 1024 * 1024;

/**
 * Largest run pushJoined hands up at once: 256 KiB writes into a new file cost less system
 * time here than 16 or 64 KiB ones, and 512 KiB and more were slower (docs/DESIGN-NOTES.md).
 */
export const JOINED_BYTES = 256 * 1024;

/** Plaintext bytes in a record body (nonce | tag | ciphertext). */
function plainSize(body: Uint8Array): number {
  return body.length - SECRETBOX_NONCE_BYTES - SECRETBOX_TAG_BYTES;
}

/** The transit key both wormhole ends derive from the mailbox key. */
export function wormholeTransitKey(key: Uint8Array): Uint8Array {
  return deriveWormholeKey(key, `${WORMHOLE_APPID}/transit-key`);
}

export interface TransitRecordKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}

/** transit.py's record keys for our role (the sender seals with "transit_record_sender_key"). */
export function transitRecordKeys(transitKey: Uint8Array, role: "sender" | "receiver"): TransitRecordKeys {
  const senderKey = deriveWormholeKey(transitKey, "transit_record_sender_key");
  const receiverKey = deriveWormholeKey(transitKey, "transit_record_receiver_key");
  return role === "sender"
    ? { sendKey: senderKey, receiveKey: receiverKey }
    : { sendKey: receiverKey, receiveKey: senderKey };
}

/** Writes `counter` as a 24-byte big-endian nonce (the top 16 bytes stay 0 below 2^53). */
function writeNonce(nonce: Uint8Array, counter: number): void {
  let n = counter;
  for (let i = SECRETBOX_NONCE_BYTES - 1; i >= SECRETBOX_NONCE_BYTES - 8; i--) {
    nonce[i] = n % 256;
    n = Math.floor(n / 256);
  }
}

/** Seals our records in order. */
export class TransitRecordSealer {
  private counter = 0;
  private readonly box: SecretBox;

  /** @param key - our send key (copied) */
  constructor(key: Uint8Array, backend?: SecretBoxBackend) {
    this.box = createSecretBox(key, backend);
  }

  get backend(): SecretBoxBackend {
    return this.box.backend;
  }

  /**
   * Seals `plain` as the next record into `out` (at least plain.length + TRANSIT_RECORD_OVERHEAD
   * bytes; a new buffer when not given) and returns the record's bytes, a view of `out`.
   */
  seal(plain: Uint8Array, out = new Uint8Array(plain.length + TRANSIT_RECORD_OVERHEAD)): Uint8Array {
    const length = SECRETBOX_NONCE_BYTES + SECRETBOX_TAG_BYTES + plain.length;
    if (length > MAX_TRANSIT_RECORD_BYTES) throw new RangeError("transit record too large");
    const record = out.subarray(0, TRANSIT_LENGTH_BYTES + length);
    writeU32(record, 0, length);
    const nonce = record.subarray(TRANSIT_LENGTH_BYTES, TRANSIT_LENGTH_BYTES + SECRETBOX_NONCE_BYTES);
    nonce.fill(0);
    writeNonce(nonce, this.counter++);
    this.box.sealInto(nonce, plain, record.subarray(TRANSIT_LENGTH_BYTES + SECRETBOX_NONCE_BYTES));
    return record;
  }

  destroy(): void {
    this.box.destroy();
  }
}

/** Opens the peer's records as their bytes arrive, in whatever pieces. */
export class TransitRecordOpener {
  private counter = 0;
  private readonly box: SecretBox;
  private readonly expected = new Uint8Array(SECRETBOX_NONCE_BYTES);
  /** The length field of a record not yet whole, or -1 while reading a length field. */
  private length = -1;
  private readonly head = new Uint8Array(TRANSIT_LENGTH_BYTES);
  private headHave = 0;
  /** A record arriving in pieces, copied together here. */
  private assembly = new Uint8Array(0);
  private have = 0;
  private plain = new Uint8Array(0);
  private failed: CryptoError | undefined;
  /** pushJoined's run buffer (allocated at its first use). */
  private joined = new Uint8Array(0);

  /** @param key - the peer's send key (copied) */
  constructor(key: Uint8Array, backend?: SecretBoxBackend) {
    this.box = createSecretBox(key, backend);
  }

  /** True when no partial record is buffered. */
  get atRecordBoundary(): boolean {
    return this.length < 0 && this.headHave === 0;
  }

  /**
   * Takes received bytes (valid only during this call) and hands each record they complete to
   * `onRecord`, in order; the record is a view valid only during that call.
   * @throws CryptoError E_BAD_NONCE (a record out of order), E_AUTH_FAILED (does not open, or
   *   an impossible length); the opener stays failed
   */
  push(chunk: Uint8Array, onRecord: (record: Uint8Array) => void): void {
    this.forEachBody(chunk, (body) => onRecord(this.open(body, this.plainFor(body), 0)));
  }

  /**
   * As `push`, for a stream whose record boundaries mean nothing (a file's bytes): the records
   * these bytes complete are opened one after another into one buffer, straight from `chunk`
   * (no copy of a record that arrived whole), and handed to `onBytes` in runs of up to
   * JOINED_BYTES (fewer, larger writes and hash updates than one per 16 KiB record). A run is a
   * view valid only during that call; nothing is held back when the call returns.
   * @throws CryptoError as `push` (the records of the run before the bad one are dropped with it)
   */
  pushJoined(chunk: Uint8Array, onBytes: (bytes: Uint8Array) => void): void {
    if (this.joined.length === 0) this.joined = new Uint8Array(JOINED_BYTES);
    let filled = 0;
    this.forEachBody(chunk, (body) => {
      const size = plainSize(body);
      if (filled + size > this.joined.length && filled > 0) {
        onBytes(this.joined.subarray(0, filled));
        filled = 0;
      }
      if (size > this.joined.length) {
        onBytes(this.open(body, this.plainFor(body), 0));
        return;
      }
      this.open(body, this.joined, filled);
      filled += size;
    });
    if (filled > 0) onBytes(this.joined.subarray(0, filled));
  }

  /** Hands each whole record body (nonce | tag | ciphertext) to `onBody`, copying only records split across chunks. */
  private forEachBody(chunk: Uint8Array, onBody: (body: Uint8Array) => void): void {
    if (this.failed) throw this.failed;
    let at = 0;
    while (at < chunk.length) {
      if (this.length < 0) {
        if (this.headHave === 0 && chunk.length - at >= TRANSIT_LENGTH_BYTES) {
          this.startRecord(readU32(chunk, at));
          at += TRANSIT_LENGTH_BYTES;
        } else {
          const n = Math.min(TRANSIT_LENGTH_BYTES - this.headHave, chunk.length - at);
          this.head.set(chunk.subarray(at, at + n), this.headHave);
          this.headHave += n;
          at += n;
          if (this.headHave < TRANSIT_LENGTH_BYTES) return;
          this.headHave = 0;
          this.startRecord(readU32(this.head, 0));
        }
        continue;
      }
      if (this.have === 0 && chunk.length - at >= this.length) {
        // The whole record is in this chunk: open it where it is.
        const body = chunk.subarray(at, at + this.length);
        at += this.length;
        this.length = -1;
        onBody(body);
        continue;
      }
      const n = Math.min(this.length - this.have, chunk.length - at);
      this.assembly.set(chunk.subarray(at, at + n), this.have);
      this.have += n;
      at += n;
      if (this.have < this.length) return;
      const body = this.assembly.subarray(0, this.length);
      this.have = 0;
      this.length = -1;
      onBody(body);
    }
  }

  destroy(): void {
    this.box.destroy();
    this.assembly = new Uint8Array(0);
    this.plain.fill(0);
    this.joined.fill(0);
  }

  private startRecord(length: number): void {
    if (length < SECRETBOX_NONCE_BYTES + SECRETBOX_TAG_BYTES || length > MAX_TRANSIT_RECORD_BYTES) {
      throw this.fail(new CryptoError("E_AUTH_FAILED", "a transit record with an impossible length"));
    }
    this.length = length;
    if (this.assembly.length < length) this.assembly = new Uint8Array(length);
  }

  /** The reused buffer a record opens into when it is handed up alone. */
  private plainFor(body: Uint8Array): Uint8Array {
    const size = plainSize(body);
    if (this.plain.length < size) this.plain = new Uint8Array(Math.max(size, 64 * 1024));
    return this.plain;
  }

  /** Checks the nonce and opens `body` into `into` at `at`; returns the plaintext's view there. */
  private open(body: Uint8Array, into: Uint8Array, at: number): Uint8Array {
    this.expected.fill(0);
    writeNonce(this.expected, this.counter);
    const nonce = body.subarray(0, SECRETBOX_NONCE_BYTES);
    for (let i = 0; i < SECRETBOX_NONCE_BYTES; i++) {
      if (nonce[i] !== this.expected[i]) {
        throw this.fail(new CryptoError("E_BAD_NONCE", `a transit record out of order (expected #${this.counter})`));
      }
    }
    this.counter++;
    const out = into.subarray(at, at + plainSize(body));
    if (!this.box.openInto(nonce, body.subarray(SECRETBOX_NONCE_BYTES), out)) {
      throw this.fail(new CryptoError("E_AUTH_FAILED", "a transit record that does not open"));
    }
    return out;
  }

  private fail(error: CryptoError): CryptoError {
    this.failed = error;
    return error;
  }
}

/**
 * Whether `bytes` begin with a whole record sealed with `key` as the first of its direction
 * (nonce 0): true; false for one that does not open, or an impossible length; undefined while
 * it is not whole. For a transit receiver holding a relay's "go" (net/transit.ts senderRecord): a
 * forger cannot seal one. `bytes` are only read (a fresh opener opens a copy of the record).
 * @param key - the peer's send key (transitRecordKeys(...).receiveKey)
 */
export function opensFirstTransitRecord(key: Uint8Array, bytes: Uint8Array): boolean | undefined {
  if (bytes.length < TRANSIT_LENGTH_BYTES) return undefined;
  const length = readU32(bytes, 0);
  if (length < SECRETBOX_NONCE_BYTES + SECRETBOX_TAG_BYTES || length > MAX_TRANSIT_RECORD_BYTES) return false;
  if (bytes.length < TRANSIT_LENGTH_BYTES + length) return undefined;
  const opener = new TransitRecordOpener(key);
  let opened = false;
  try {
    opener.push(bytes.slice(0, TRANSIT_LENGTH_BYTES + length), () => {
      opened = true;
    });
    return opened;
  } catch (err) {
    if (err instanceof CryptoError) return false;
    throw err;
  } finally {
    opener.destroy();
  }
}
