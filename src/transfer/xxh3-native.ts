/**
 * XXH3-64 through the system's libxxhash (bun:ffi), when it has the run-time CPU dispatch
 * (`XXH3_64bits_update_dispatch`: AVX2 or AVX-512 where the CPU has them, as Debian's
 * libxxhash0 is built). @node-rs/xxhash's prebuilt module hashes with SSE2 only: 1 GiB in 256
 * KiB updates, one core, warm buffer, 49-98 ms against 18-24 ms here (AVX-512); after a pread
 * of each piece from the page cache, 90-100 ms of hashing against about 45. Both sides of a
 * transfer hash every byte, so that is about 0.05 s of CPU per GiB a side.
 *
 * Same digest (XXH3-64, seed 0, as `xxhsum -H3`): checked at load against pinned vectors that
 * take the short and the long (vectorised) paths; a library that is absent, lacks the dispatch
 * entry or fails them is not used, and checksum.ts falls back to @node-rs/xxhash.
 * PARLEY_XXH3_BACKEND=node-rs forces the fallback (tests, A/B runs).
 */

import { FFIType, type Pointer, ptr } from "bun:ffi";
import { type LibrarySymbols, lazyLibrary } from "../native/library.ts";

const XXHASH_NAMES = ["libxxhash.so.0", "libxxhash.so", "libxxhash.0.dylib", "libxxhash.dylib"];

const SYMBOLS = {
  XXH3_createState: { args: [], returns: FFIType.ptr },
  XXH3_freeState: { args: [FFIType.ptr], returns: FFIType.i32 },
  XXH3_64bits_reset: { args: [FFIType.ptr], returns: FFIType.i32 },
  XXH3_64bits_update_dispatch: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  XXH3_64bits_digest: { args: [FFIType.ptr], returns: FFIType.u64 },
} as const;

type Xxhash = LibrarySymbols<typeof SYMBOLS>;

/**
 * Bytes of the self-test input: byte i is (i * 31 + 7) & 0xff. Its XXH3-64 digests (seed 0) for
 * lengths 0, 3, 200 and 5,000 (the last over the long, vectorised path, fed in three updates).
 */
export const XXH3_SELF_TEST: readonly (readonly [number, string])[] = [
  [0, "2d06800538d394c2"],
  [3, "15f7093b173d005c"],
  [200, "12fdb864685f344d"],
  [5000, "559fff92c2b7f8ee"],
];

export function selfTestBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

/**
 * Frees each digest's native state once its object is gone (a digest abandoned before hex()),
 * through the library that made it (a library refused by its self-test is closed again).
 */
const states = new FinalizationRegistry<{ lib: Xxhash; state: Pointer }>(({ lib, state }) => lib.XXH3_freeState(state));

/** A running XXH3-64 over the library's state (see checksum.ts's RunningDigest). */
export class NativeXxh3 {
  private state: Pointer | null;

  constructor(private readonly lib: Xxhash) {
    const state = lib.XXH3_createState() as Pointer | null;
    if (state === null || lib.XXH3_64bits_reset(state) !== 0) throw new Error("XXH3 state could not be made");
    this.state = state;
    states.register(this, { lib, state }, this);
  }

  update(bytes: Uint8Array): void {
    if (this.state === null) throw new Error("XXH3 digest used after hex()");
    if (bytes.length === 0) return;
    this.lib.XXH3_64bits_update_dispatch(this.state, ptr(bytes), bytes.length);
  }

  /** Lowercase hex, 16 digits; frees the state (call once). */
  hex(): string {
    if (this.state === null) throw new Error("XXH3 digest used after hex()");
    const digest = BigInt(this.lib.XXH3_64bits_digest(this.state));
    states.unregister(this);
    this.lib.XXH3_freeState(this.state);
    this.state = null;
    return digest.toString(16).padStart(16, "0");
  }
}

/** Whether `lib` hashes the self-test vectors to their pinned digests. */
function passesSelfTest(lib: Xxhash): boolean {
  for (const [length, expected] of XXH3_SELF_TEST) {
    const digest = new NativeXxh3(lib);
    const bytes = selfTestBytes(length);
    const cut = Math.floor(length / 3);
    digest.update(bytes.subarray(0, cut));
    digest.update(bytes.subarray(cut, 2 * cut));
    digest.update(bytes.subarray(2 * cut));
    if (digest.hex() !== expected) return false;
  }
  return true;
}

const loadLibxxhash = lazyLibrary(XXHASH_NAMES, SYMBOLS, passesSelfTest);

/** "node-rs": digests with @node-rs/xxhash even where libxxhash loads (useXxh3Backend). */
let packagedOnly = false;

/**
 * The XXH3 code the user asked for: the CLI reads PARLEY_XXH3_BACKEND and hands it down
 * (cli/env-settings.ts; no layer below the CLI reads the environment). A diagnostic switch.
 * @param choice - "node-rs": @node-rs/xxhash; undefined: libxxhash where it loads
 */
export function useXxh3Backend(choice: "node-rs" | undefined): void {
  packagedOnly = choice === "node-rs";
}

/** The library, or null: absent, without the dispatch entry, failing the self-test, or forced off. */
export function loadNativeXxh3(): Xxhash | null {
  if (packagedOnly) return null;
  return loadLibxxhash();
}
