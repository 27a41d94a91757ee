/**
 * Running file digests for the END trailer. Both sides hash the bytes as they stream and the
 * receiver compares its digest with the sender's.
 *
 * - xxh3 (default): XXH3-64, the xxHash family rsync 3.2+ and croc use, through the system's
 *   libxxhash with its CPU dispatch where it loads (xxh3-native.ts: AVX-512 here, about twice
 *   as fast), else @node-rs/xxhash (SSE2). Catches accidental corruption and truncation; not
 *   a defence against tampering. Same digest as `xxhsum -H3`.
 * - sha256: Bun.CryptoHasher (SHA-NI, about 1.9 GB/s a core here): hashing on both sides of a
 *   2-core machine halves throughput. Same digest as `sha256sum`.
 */

import type { ChecksumAlgo } from "./checksum-algos.ts";
import { TransferError } from "./errors.ts";
import { loadNativeXxh3, NativeXxh3 } from "./xxh3-native.ts";

export { CHECKSUM_ALGOS, type ChecksumAlgo, DEFAULT_CHECKSUM, isChecksumAlgo } from "./checksum-algos.ts";

type Xxh3 = typeof import("@node-rs/xxhash").xxh3;
let xxh3Api: Xxh3 | undefined;

/** Loads the XXH3 code now (before a transfer needs it: see session/preload.ts). */
export function loadDigests(): void {
  if (!loadNativeXxh3()) xxh3();
}

/** Which XXH3 code digests are made with (tests and diagnostics). */
export function xxh3Backend(): "libxxhash" | "node-rs" {
  return loadNativeXxh3() ? "libxxhash" : "node-rs";
}

/** @node-rs/xxhash, loaded at the first digest that needs it (a shared library: kept out of start-up). */
function xxh3(): Xxh3 {
  xxh3Api ??= (require("@node-rs/xxhash") as typeof import("@node-rs/xxhash")).xxh3;
  return xxh3Api;
}

export interface RunningDigest {
  update(bytes: Uint8Array): void;
  /** Lowercase hex digest of everything passed to `update`. Call once. */
  hex(): string;
}

/** Human name of an algorithm, as printed next to "checksum matched". */
export function checksumLabel(algo: ChecksumAlgo): string {
  switch (algo) {
    case "sha256":
      return "SHA-256";
    case "xxh3":
      return "XXH3-64";
  }
}

export function createDigest(algo: ChecksumAlgo): RunningDigest {
  switch (algo) {
    case "sha256": {
      const hasher = new Bun.CryptoHasher("sha256");
      return {
        update: (bytes) => {
          hasher.update(bytes);
        },
        hex: () => hasher.digest("hex"),
      };
    }
    case "xxh3": {
      const lib = loadNativeXxh3();
      if (lib) return new NativeXxh3(lib);
      const hasher = xxh3().Xxh3.withSeed();
      return {
        update: (bytes) => {
          hasher.update(bytes);
        },
        hex: () => hasher.digest().toString(16).padStart(16, "0"),
      };
    }
  }
}

/** @throws TransferError E_SIZE_MISMATCH unless the sender's count, ours and the offer agree */
export function checkTrailerCount(sent: number, received: number, offered: number | null): void {
  if (sent === received && (offered === null || sent === offered)) return;
  const of = offered === null ? "" : ` of ${offered} offered`;
  throw new TransferError("E_SIZE_MISMATCH", `size mismatch: ${received} bytes received, the sender sent ${sent}${of}`);
}

/** @returns our digest; @throws TransferError E_BAD_CHECKSUM unless it equals the sender's */
export function checkTrailerDigest(
  trailer: { algo: string; digest: string },
  algo: ChecksumAlgo,
  ours: RunningDigest,
): string {
  const digest = ours.hex();
  if (trailer.algo === algo && trailer.digest === digest) return digest;
  throw new TransferError("E_BAD_CHECKSUM", `${checksumLabel(algo)} checksum mismatch: the file is corrupt`);
}
