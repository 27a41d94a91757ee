/**
 * NaCl SecretBox (XSalsa20-Poly1305) for transit records, in two interchangeable backends with
 * the same bytes (test/unit/transit-records.test.ts pins both to PyNaCl's):
 *
 *   libsodium  crypto_secretbox_easy / _open_easy through bun:ffi, into buffers the caller
 *              owns (the default where libsodium loads: Debian's python3-nacl brings it)
 *   noble      @noble/ciphers in JavaScript (the fallback)
 *
 * Measured here (docs/DESIGN-NOTES.md): libsodium about 1,100-1,200 MiB/s a core, noble about
 * 115-155 MiB/s, slower than the Python wormhole client itself; so the ffi path pays.
 * PARLEY_CRYPTO_BACKEND=node forces the fallback, as it does for AES-GCM (aes-gcm.ts).
 *
 *   box = tag (16) || ciphertext (n)        key 32 bytes, nonce 24 bytes
 *
 * Every pointer argument is a Uint8Array that bun:ffi passes as the address of its first
 * element; the call is synchronous, so the memory cannot move or go away during it.
 */

import { FFIType } from "bun:ffi";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { type LibrarySymbols, lazyLibrary } from "../native/library.ts";
import { cryptoBackendChoice } from "./backend-choice.ts";

export type SecretBoxBackend = "libsodium" | "noble";

export interface SecretBox {
  readonly backend: SecretBoxBackend;
  /** Seals `plain` into `out` (exactly plain.length + 16 bytes; may not overlap `plain`). */
  sealInto(nonce: Uint8Array, plain: Uint8Array, out: Uint8Array): void;
  /**
   * Opens `box` into `out` (exactly box.length - 16 bytes).
   * @returns false when it does not authenticate (`out` then holds nothing usable)
   */
  openInto(nonce: Uint8Array, box: Uint8Array, out: Uint8Array): boolean;
  /** Forgets the key. */
  destroy(): void;
}

const SODIUM_NAMES = ["libsodium.so.23", "libsodium.so", "libsodium.26.dylib", "libsodium.23.dylib", "libsodium.dylib"];
const { ptr, u64, i32 } = FFIType;
const SYMBOLS = {
  sodium_init: { args: [], returns: i32 },
  crypto_secretbox_easy: { args: [ptr, ptr, u64, ptr, ptr], returns: i32 },
  crypto_secretbox_open_easy: { args: [ptr, ptr, u64, ptr, ptr], returns: i32 },
} as const;
type Sodium = LibrarySymbols<typeof SYMBOLS>;

/** libsodium's SecretBox calls, or null when no libsodium loads (sodium_init: 0 now, 1 already, -1 unusable). */
export const loadSodium: () => Sodium | null = lazyLibrary(SODIUM_NAMES, SYMBOLS, (lib) => lib.sodium_init() >= 0);

/** The backend transit records use unless told otherwise: libsodium where it loads. */
export function defaultSecretBoxBackend(): SecretBoxBackend {
  if (cryptoBackendChoice() === "node") return "noble";
  return loadSodium() ? "libsodium" : "noble";
}

/** @param key - 32 bytes (copied: the caller may wipe its own) */
export function createSecretBox(key: Uint8Array, backend = defaultSecretBoxBackend()): SecretBox {
  const lib = backend === "libsodium" ? loadSodium() : null;
  return lib ? new SodiumBox(lib, key) : new NobleBox(key);
}

class SodiumBox implements SecretBox {
  readonly backend = "libsodium";
  private readonly key: Uint8Array;
  constructor(
    private readonly lib: Sodium,
    key: Uint8Array,
  ) {
    this.key = Uint8Array.from(key);
  }
  sealInto(nonce: Uint8Array, plain: Uint8Array, out: Uint8Array): void {
    // bun:ffi cannot pass the address of an empty array: seal one spare byte's worth instead.
    const source = plain.length > 0 ? plain : out;
    this.lib.crypto_secretbox_easy(out, source, plain.length, nonce, this.key);
  }
  openInto(nonce: Uint8Array, box: Uint8Array, out: Uint8Array): boolean {
    // An empty record opens into nothing: a spare byte gives bun:ffi an address to pass.
    const target = out.length > 0 ? out : new Uint8Array(1);
    return this.lib.crypto_secretbox_open_easy(target, box, box.length, nonce, this.key) === 0;
  }
  destroy(): void {
    this.key.fill(0);
  }
}

class NobleBox implements SecretBox {
  readonly backend = "noble";
  private readonly key: Uint8Array;
  constructor(key: Uint8Array) {
    this.key = Uint8Array.from(key);
  }
  sealInto(nonce: Uint8Array, plain: Uint8Array, out: Uint8Array): void {
    out.set(xsalsa20poly1305(this.key, nonce).encrypt(plain));
  }
  openInto(nonce: Uint8Array, box: Uint8Array, out: Uint8Array): boolean {
    try {
      out.set(xsalsa20poly1305(this.key, nonce).decrypt(box));
      return true;
    } catch {
      return false;
    }
  }
  destroy(): void {
    this.key.fill(0);
  }
}
