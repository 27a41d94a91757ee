/**
 * OpenSSL's libcrypto (3.x), the few EVP calls AES-256-GCM needs, through bun:ffi, loaded on
 * first use. Null where no libcrypto can be loaded: aes-gcm.ts then uses node:crypto.
 *
 * Why: node:crypto returns a new buffer from every `update`, and on machines where page
 * faults and kernel entries are dear (page-table isolation, paravirtualised kernels) that
 * churn cost more than the cipher itself. EVP_EncryptUpdate / EVP_DecryptUpdate write into a
 * buffer we own, so a record is sealed and opened with no allocation at all.
 *
 * Every pointer argument is a Uint8Array (or Int32Array) that bun:ffi passes as the address
 * of its first element; the call is synchronous, so the memory cannot move or go away during it.
 */

import { FFIType } from "bun:ffi";
import { type LibrarySymbols, lazyLibrary } from "../native/library.ts";

const LIBCRYPTO_NAMES = [
  "libcrypto.so.3",
  "libcrypto.so",
  "libcrypto.3.dylib",
  "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
  "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
];

const { ptr, i32, void: none } = FFIType;

const SYMBOLS = {
  EVP_aes_256_gcm: { args: [], returns: ptr },
  EVP_CIPHER_CTX_new: { args: [], returns: ptr },
  EVP_CIPHER_CTX_free: { args: [ptr], returns: none },
  EVP_CIPHER_CTX_ctrl: { args: [ptr, i32, i32, ptr], returns: i32 },
  EVP_EncryptInit_ex: { args: [ptr, ptr, ptr, ptr, ptr], returns: i32 },
  EVP_EncryptUpdate: { args: [ptr, ptr, ptr, ptr, i32], returns: i32 },
  EVP_EncryptFinal_ex: { args: [ptr, ptr, ptr], returns: i32 },
  EVP_DecryptInit_ex: { args: [ptr, ptr, ptr, ptr, ptr], returns: i32 },
  EVP_DecryptUpdate: { args: [ptr, ptr, ptr, ptr, i32], returns: i32 },
  EVP_DecryptFinal_ex: { args: [ptr, ptr, ptr], returns: i32 },
} as const;

/** EVP_CIPHER_CTX_ctrl commands (openssl/evp.h). */
export const EVP_CTRL_GCM_GET_TAG = 0x10;
export const EVP_CTRL_GCM_SET_TAG = 0x11;

export type Libcrypto = LibrarySymbols<typeof SYMBOLS>;

/**
 * libcrypto's EVP calls, or null when none of the usual names loads. OpenSSL 1.1 has the same
 * names; one without AES-GCM is of no use.
 */
export const loadLibcrypto: () => Libcrypto | null = lazyLibrary(LIBCRYPTO_NAMES, SYMBOLS, (lib) =>
  Boolean(lib.EVP_aes_256_gcm()),
);
