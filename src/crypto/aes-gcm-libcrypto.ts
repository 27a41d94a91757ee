/**
 * AES-256-GCM through OpenSSL's EVP interface (libcrypto.ts): the key is expanded once per
 * direction, then each record only resets the nonce, so sealing and opening write straight
 * into the caller's buffers with no allocation. The EVP context holds the expanded key;
 * `destroy` frees it (OpenSSL wipes it), after which every call throws instead of touching
 * freed memory.
 */

import { type Pointer, ptr } from "bun:ffi";

/** An EVP_CIPHER_CTX pointer, as bun:ffi returns it. */
type Context = Pointer | bigint;

import { GCM_TAG_BYTES, type GcmOpener, type GcmSealer } from "./gcm.ts";
import { EVP_CTRL_GCM_GET_TAG, EVP_CTRL_GCM_SET_TAG, type Libcrypto } from "./libcrypto.ts";

/** An EVP context set up with the key, for one direction. */
function newContext(lib: Libcrypto, key: Uint8Array, encrypt: boolean): Context {
  if (key.length !== 32) throw new RangeError("AES-256 key must be 32 bytes");
  const ctx = lib.EVP_CIPHER_CTX_new();
  if (!ctx) throw new Error("libcrypto: no cipher context");
  const init = encrypt ? lib.EVP_EncryptInit_ex : lib.EVP_DecryptInit_ex;
  if (init(ctx, lib.EVP_aes_256_gcm(), null, key, null) !== 1) {
    lib.EVP_CIPHER_CTX_free(ctx);
    throw new Error("libcrypto: AES-256-GCM set-up failed");
  }
  return ctx;
}

export class LibcryptoGcmSealer implements GcmSealer {
  readonly backend = "libcrypto";
  private ctx: Context | null;
  /** The `outl` out-parameter, reused. */
  private readonly outLength = new Int32Array(1);

  constructor(
    private readonly lib: Libcrypto,
    key: Uint8Array,
  ) {
    this.ctx = newContext(lib, key, true);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void {
    const { lib, outLength } = this;
    const ctx = this.ctx;
    if (!ctx) throw new Error("sealer used after destroy");
    const n = plaintext.length;
    if (out.length !== n + GCM_TAG_BYTES) throw new RangeError("seal output must be plaintext + 16 bytes");
    const tag = out.subarray(n);
    // A null output pointer makes EVP_EncryptUpdate take its input as AAD, so an empty
    // plaintext must skip the call rather than pass an empty (null) buffer.
    const ok =
      lib.EVP_EncryptInit_ex(ctx, null, null, null, nonce) === 1 &&
      lib.EVP_EncryptUpdate(ctx, null, outLength, aad, aad.length) === 1 &&
      (n === 0 || lib.EVP_EncryptUpdate(ctx, out, outLength, plaintext, n) === 1) &&
      lib.EVP_EncryptFinal_ex(ctx, tag, outLength) === 1 &&
      lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, tag) === 1;
    if (!ok) throw new Error("libcrypto: AES-256-GCM seal failed");
  }

  sealRecord(nonce: Uint8Array, record: Uint8Array, aadBytes: number, plaintext: Uint8Array): void {
    const { lib, outLength } = this;
    const ctx = this.ctx;
    if (!ctx) throw new Error("sealer used after destroy");
    const n = plaintext.length;
    if (record.length < aadBytes + n + GCM_TAG_BYTES) throw new RangeError("seal record too small");
    // Addresses into the record instead of views of it: a view is a heap object, and a few per
    // record kept the garbage collector taking fresh, page-faulting blocks all transfer long.
    const at = ptr(record);
    const tag = (at + aadBytes + n) as Pointer;
    const ok =
      lib.EVP_EncryptInit_ex(ctx, null, null, null, nonce) === 1 &&
      lib.EVP_EncryptUpdate(ctx, null, outLength, at, aadBytes) === 1 &&
      (n === 0 || lib.EVP_EncryptUpdate(ctx, (at + aadBytes) as Pointer, outLength, ptr(plaintext), n) === 1) &&
      lib.EVP_EncryptFinal_ex(ctx, tag, outLength) === 1 &&
      lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, tag) === 1;
    if (!ok) throw new Error("libcrypto: AES-256-GCM seal failed");
  }

  destroy(): void {
    if (this.ctx) this.lib.EVP_CIPHER_CTX_free(this.ctx);
    this.ctx = null;
  }
}

export class LibcryptoGcmOpener implements GcmOpener {
  readonly backend = "libcrypto";
  private ctx: Context | null;
  private readonly outLength = new Int32Array(1);
  /** The tag is copied here: EVP keeps a pointer-free copy, but the caller's view may be reused. */
  private readonly tag = new Uint8Array(GCM_TAG_BYTES);
  /** Space for EVP_DecryptFinal_ex's output (none for GCM). */
  private readonly finalOut = new Uint8Array(GCM_TAG_BYTES);

  constructor(
    private readonly lib: Libcrypto,
    key: Uint8Array,
  ) {
    this.ctx = newContext(lib, key, false);
  }

  private live(): Context {
    if (!this.ctx) throw new Error("opener used after destroy");
    return this.ctx;
  }

  begin(nonce: Uint8Array, aad: Uint8Array): void {
    const ctx = this.live();
    const ok =
      this.lib.EVP_DecryptInit_ex(ctx, null, null, null, nonce) === 1 &&
      this.lib.EVP_DecryptUpdate(ctx, null, this.outLength, aad, aad.length) === 1;
    if (!ok) throw new Error("libcrypto: AES-256-GCM open failed");
  }

  update(piece: Uint8Array, out: Uint8Array): Uint8Array {
    if (piece.length === 0) return out.subarray(0, 0);
    if (out.length < piece.length) throw new RangeError("open output too small");
    if (this.lib.EVP_DecryptUpdate(this.live(), out, this.outLength, piece, piece.length) !== 1) {
      throw new Error("libcrypto: AES-256-GCM open failed");
    }
    return out.subarray(0, this.outLength[0]);
  }

  updateAt(source: Uint8Array, sourceAt: number, n: number, out: Uint8Array, outAt: number): number {
    if (n === 0) return 0;
    if (sourceAt < 0 || sourceAt + n > source.length || outAt < 0 || outAt + n > out.length) {
      throw new RangeError("open piece out of bounds");
    }
    const from = (ptr(source) + sourceAt) as Pointer;
    const to = (ptr(out) + outAt) as Pointer;
    if (this.lib.EVP_DecryptUpdate(this.live(), to, this.outLength, from, n) !== 1) {
      throw new Error("libcrypto: AES-256-GCM open failed");
    }
    return this.outLength[0] as number;
  }

  finish(tag: Uint8Array): boolean {
    const ctx = this.live();
    if (tag.length !== GCM_TAG_BYTES) return false;
    this.tag.set(tag);
    return (
      this.lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_BYTES, this.tag) === 1 &&
      this.lib.EVP_DecryptFinal_ex(ctx, this.finalOut, this.outLength) === 1
    );
  }

  destroy(): void {
    if (this.ctx) this.lib.EVP_CIPHER_CTX_free(this.ctx);
    this.ctx = null;
  }
}
