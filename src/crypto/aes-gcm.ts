/**
 * AES-256-GCM for the record layer, in two interchangeable backends with the same bytes on
 * the wire (test/unit/aes-gcm.test.ts pins both to one vector):
 *
 *   libcrypto  OpenSSL through bun:ffi (libcrypto.ts): seals and opens into buffers the
 *              caller owns, so a record costs no allocation (the default for opening, where
 *              it loads)
 *   node       node:crypto (Bun's own BoringSSL): a cipher object per record, its output
 *              copied into the caller's buffer and released at once (aes-gcm-node.ts); the
 *              default for sealing (twice as fast as OpenSSL 3.0 here), and the fallback for
 *              opening where libcrypto does not load
 *
 * Opening stays on libcrypto: a record arrives in socket-sized pieces, one node:crypto output
 * per piece, and the receiver measured no gain for about 1,000 more page faults per GiB.
 * PARLEY_CRYPTO_BACKEND=node or =libcrypto forces one backend both ways (a diagnostic and
 * benchmark switch).
 * Sealing is one call per record; opening is begin / update per piece / finish, so a record
 * split across received chunks is decrypted piece by piece, never copied together first.
 */

import { LibcryptoGcmOpener, LibcryptoGcmSealer } from "./aes-gcm-libcrypto.ts";
import { NodeGcmOpener, NodeGcmSealer } from "./aes-gcm-node.ts";
import type { AeadBackend, GcmOpener, GcmSealer } from "./gcm.ts";
import { loadLibcrypto } from "./libcrypto.ts";

export { type AeadBackend, GCM_NONCE_BYTES, GCM_TAG_BYTES, type GcmOpener, type GcmSealer } from "./gcm.ts";

/** The backend records are opened with unless told otherwise: libcrypto where it loads. */
export function defaultAeadBackend(): AeadBackend {
  if (process.env.PARLEY_CRYPTO_BACKEND === "node") return "node";
  return loadLibcrypto() ? "libcrypto" : "node";
}

/** The backend records are sealed with unless told otherwise: node:crypto. */
export function defaultSealBackend(): AeadBackend {
  return process.env.PARLEY_CRYPTO_BACKEND === "libcrypto" && loadLibcrypto() ? "libcrypto" : "node";
}

/** @param key - 32 bytes (copied or expanded at once; the caller may wipe its copy) */
export function createGcmSealer(key: Uint8Array, backend = defaultSealBackend()): GcmSealer {
  const lib = backend === "libcrypto" ? loadLibcrypto() : null;
  return lib ? new LibcryptoGcmSealer(lib, key) : new NodeGcmSealer(key);
}

/** @param key - 32 bytes (copied or expanded at once; the caller may wipe its copy) */
export function createGcmOpener(key: Uint8Array, backend = defaultAeadBackend()): GcmOpener {
  const lib = backend === "libcrypto" ? loadLibcrypto() : null;
  return lib ? new LibcryptoGcmOpener(lib, key) : new NodeGcmOpener(key);
}
