/**
 * AES-256-GCM for the record layer, in two interchangeable backends with the same bytes on
 * the wire (test/unit/aes-gcm.test.ts pins both to one vector):
 *
 *   node       node:crypto (Bun's own BoringSSL): a cipher object per record, each output
 *              copied into the caller's buffer and released at once (aes-gcm-node.ts); the
 *              default both ways: twice as fast as OpenSSL 3.0 on this CPU
 *   libcrypto  OpenSSL through bun:ffi (libcrypto.ts): seals and opens into buffers the
 *              caller owns, so a record costs no allocation at all
 *
 * PARLEY_CRYPTO_BACKEND=libcrypto (where it loads) or =node forces one backend both ways (a
 * diagnostic and benchmark switch; the CLI hands it down: backend-choice.ts).
 * Sealing is one call per record; opening is begin / update per piece / finish, so a record
 * split across received chunks is decrypted piece by piece, never copied together first.
 */

import { createCipheriv } from "node:crypto";
import { LibcryptoGcmOpener, LibcryptoGcmSealer } from "./aes-gcm-libcrypto.ts";
import { NodeGcmOpener, NodeGcmSealer } from "./aes-gcm-node.ts";
import { cryptoBackendChoice } from "./backend-choice.ts";
import { type AeadBackend, GCM_NONCE_BYTES, type GcmOpener, type GcmSealer } from "./gcm.ts";
import { loadLibcrypto } from "./libcrypto.ts";

export { type AeadBackend, GCM_NONCE_BYTES, GCM_TAG_BYTES, type GcmOpener, type GcmSealer } from "./gcm.ts";

/** The backend records are sealed and opened with unless told otherwise: node:crypto. */
export function defaultAeadBackend(): AeadBackend {
  return cryptoBackendChoice() === "libcrypto" && loadLibcrypto() ? "libcrypto" : "node";
}

/**
 * Loads the default backend's code ahead of the first record (session/preload.ts): libcrypto's
 * dlopen, or node:crypto's first cipher (its set-up: about 480 page faults here).
 */
export function preloadAead(): void {
  if (defaultAeadBackend() === "libcrypto") return;
  createCipheriv("aes-256-gcm", new Uint8Array(32), new Uint8Array(GCM_NONCE_BYTES)).final();
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
