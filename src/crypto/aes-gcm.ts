/**
 * AES-256-GCM for the record layer, in two interchangeable backends with the same bytes on
 * the wire (test/unit/aes-gcm.test.ts pins both to one vector):
 *
 *   libcrypto  OpenSSL through bun:ffi (libcrypto.ts): seals and opens into buffers the
 *              caller owns, so a record costs no allocation (the default where it loads)
 *   node       node:crypto: a new cipher object and output buffers per record (the fallback)
 *
 * PARLEY_CRYPTO_BACKEND=node forces the fallback (a diagnostic and benchmark switch).
 * Sealing is one call per record; opening is begin / update per piece / finish, so a record
 * split across received chunks is decrypted piece by piece, never copied together first.
 */

import { LibcryptoGcmOpener, LibcryptoGcmSealer } from "./aes-gcm-libcrypto.ts";
import { NodeGcmOpener, NodeGcmSealer } from "./aes-gcm-node.ts";
import { loadLibcrypto } from "./libcrypto.ts";

export type AeadBackend = "libcrypto" | "node";

/** Bytes of the GCM nonce (96 bits, NIST SP 800-38D §5.2.1.1). */
export const GCM_NONCE_BYTES = 12;
/** Bytes of the GCM tag. */
export const GCM_TAG_BYTES = 16;

export interface GcmSealer {
  readonly backend: AeadBackend;
  /**
   * Encrypts `plaintext` into `out[0, n)` and puts the tag at `out[n, n + 16)`; `out` must be
   * exactly n + 16 bytes and must not overlap `plaintext` (unless it starts at the same byte).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void;
  /** Forgets the key (the object is unusable afterwards). */
  destroy(): void;
}

export interface GcmOpener {
  readonly backend: AeadBackend;
  /** Starts one message. */
  begin(nonce: Uint8Array, aad: Uint8Array): void;
  /**
   * Decrypts the next piece of ciphertext into `out` (at least as long as `piece`), returning
   * the plaintext view. Unauthenticated until `finish` says so: the caller must not use it before.
   */
  update(piece: Uint8Array, out: Uint8Array): Uint8Array;
  /** True when `tag` authenticates everything since `begin`. */
  finish(tag: Uint8Array): boolean;
  destroy(): void;
}

/** The backend records use unless told otherwise: libcrypto where it loads. */
export function defaultAeadBackend(): AeadBackend {
  if (process.env.PARLEY_CRYPTO_BACKEND === "node") return "node";
  return loadLibcrypto() ? "libcrypto" : "node";
}

/** @param key - 32 bytes (copied or expanded at once; the caller may wipe its copy) */
export function createGcmSealer(key: Uint8Array, backend = defaultAeadBackend()): GcmSealer {
  const lib = backend === "libcrypto" ? loadLibcrypto() : null;
  return lib ? new LibcryptoGcmSealer(lib, key) : new NodeGcmSealer(key);
}

/** @param key - 32 bytes (copied or expanded at once; the caller may wipe its copy) */
export function createGcmOpener(key: Uint8Array, backend = defaultAeadBackend()): GcmOpener {
  const lib = backend === "libcrypto" ? loadLibcrypto() : null;
  return lib ? new LibcryptoGcmOpener(lib, key) : new NodeGcmOpener(key);
}
