/**
 * AES-256-GCM through node:crypto: the fallback where libcrypto cannot be loaded. Same
 * interface and bytes as the libcrypto backend; node:crypto allocates a cipher object and its
 * output per record, so this backend copies into the caller's buffers.
 */

import { createCipheriv, createDecipheriv, type DecipherGCM } from "node:crypto";
import type { GcmOpener, GcmSealer } from "./gcm.ts";

export class NodeGcmSealer implements GcmSealer {
  readonly backend = "node";
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    this.key = Buffer.from(key);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void {
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(aad);
    out.set(cipher.update(plaintext), 0);
    cipher.final(); // GCM: no bytes, only the tag computed
    out.set(cipher.getAuthTag(), plaintext.length);
  }

  sealRecord(nonce: Uint8Array, record: Uint8Array, aadBytes: number, plaintext: Uint8Array): void {
    const n = plaintext.length;
    if (record.length < aadBytes + n + 16) throw new RangeError("seal record too small");
    this.seal(nonce, record.subarray(0, aadBytes), plaintext, record.subarray(aadBytes, aadBytes + n + 16));
  }

  destroy(): void {
    this.key.fill(0);
  }
}

export class NodeGcmOpener implements GcmOpener {
  readonly backend = "node";
  private readonly key: Buffer;
  private decipher: DecipherGCM | undefined;

  constructor(key: Uint8Array) {
    this.key = Buffer.from(key);
  }

  begin(nonce: Uint8Array, aad: Uint8Array): void {
    this.decipher = createDecipheriv("aes-256-gcm", this.key, nonce);
    this.decipher.setAAD(aad);
  }

  update(piece: Uint8Array, out: Uint8Array): Uint8Array {
    const plain = (this.decipher as DecipherGCM).update(piece);
    out.set(plain, 0);
    return out.subarray(0, plain.length);
  }

  updateAt(source: Uint8Array, sourceAt: number, n: number, out: Uint8Array, outAt: number): number {
    if (n === 0) return 0;
    if (sourceAt < 0 || sourceAt + n > source.length || outAt < 0 || outAt + n > out.length) {
      throw new RangeError("open piece out of bounds");
    }
    return this.update(source.subarray(sourceAt, sourceAt + n), out.subarray(outAt)).length;
  }

  finish(tag: Uint8Array): boolean {
    const decipher = this.decipher as DecipherGCM;
    this.decipher = undefined;
    try {
      decipher.setAuthTag(tag);
      decipher.final(); // throws when the tag does not match
      return true;
    } catch {
      return false;
    }
  }

  destroy(): void {
    this.key.fill(0);
    this.decipher = undefined;
  }
}
