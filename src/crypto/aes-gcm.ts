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
import type { AeadBackend, GcmOpener, GcmSealer } from "./gcm.ts";
import { loadLibcrypto } from "./libcrypto.ts";

export { type AeadBackend, GCM_NONCE_BYTES, GCM_TAG_BYTES, type GcmOpener, type GcmSealer } from "./gcm.ts";

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
