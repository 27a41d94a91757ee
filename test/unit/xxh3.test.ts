/**
 * XXH3-64 digests (transfer/checksum.ts): the system's libxxhash through bun:ffi
 * (transfer/xxh3-native.ts) where it loads, @node-rs/xxhash otherwise. Both must give the same
 * digest for the same bytes however they are split into updates, or every transfer between a
 * machine with libxxhash and one without would fail its checksum.
 */

import { afterEach, expect, test } from "bun:test";
import { createDigest, xxh3Backend } from "../../src/transfer/checksum.ts";
import {
  loadNativeXxh3,
  NativeXxh3,
  selfTestBytes,
  useXxh3Backend,
  XXH3_SELF_TEST,
} from "../../src/transfer/xxh3-native.ts";
import { findLibrary, installedLibrary } from "../native-libraries.ts";

// PARLEY_XXH3_BACKEND=node-rs reaches xxh3-native.ts as useXxh3Backend("node-rs") (cli/env-settings.ts).
afterEach(() => useXxh3Backend(undefined));

/** @node-rs/xxhash's digest of `pieces`, fed in that order (the fallback, and the reference). */
function nodeRsDigest(pieces: Uint8Array[]): string {
  useXxh3Backend("node-rs");
  const digest = createDigest("xxh3");
  for (const piece of pieces) digest.update(piece);
  return digest.hex();
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(from, cut));
    from = cut;
  }
  return pieces;
}

// Found as the loader finds it (its cache, else this architecture's library folders), not by
// Parley's own loading, which these tests check: Debian and Ubuntu's libxxhash0 has the
// dispatch entry, on arm64 as on x86_64.
const libxxhash = installedLibrary("libxxhash.so.0");
const hasLibxxhash = libxxhash !== undefined;
if (!hasLibxxhash) {
  console.warn(
    `\n*** SKIPPED: native XXH3 tests (test/unit/xxh3.test.ts): libxxhash.so.0 is not in the loader's cache nor in this ${process.arch} machine's library folders (apt-get install libxxhash0) ***\n`,
  );
}

test("the library search finds libxxhash for this architecture, as the loader does", () => {
  const cache = [
    "3 libs found in cache `/etc/ld.so.cache'",
    "\tlibxxhash.so.0 (libc6) => /usr/lib/i386-linux-gnu/libxxhash.so.0",
    "\tlibxxhash.so.0 (libc6,AArch64) => /usr/lib/aarch64-linux-gnu/libxxhash.so.0",
    "\tlibxxhash.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libxxhash.so.0",
  ].join("\n");
  const all = () => true;
  expect(findLibrary("libxxhash.so.0", "arm64", cache, all)).toBe("/usr/lib/aarch64-linux-gnu/libxxhash.so.0");
  expect(findLibrary("libxxhash.so.0", "x64", cache, all)).toBe("/lib/x86_64-linux-gnu/libxxhash.so.0");
  expect(findLibrary("libxxhash.so.1", "x64", cache, () => false)).toBeUndefined();
  // No cache (ldconfig missing): the multiarch triplet's folders, then lib64.
  const only = (path: string) => (p: string) => p === path;
  const arm = "/usr/lib/aarch64-linux-gnu/libxxhash.so.0";
  expect(findLibrary("libxxhash.so.0", "arm64", "", only(arm))).toBe(arm);
  expect(findLibrary("libxxhash.so.0", "x64", "", only("/usr/lib64/libxxhash.so.0"))).toBe("/usr/lib64/libxxhash.so.0");
  // The other architecture's copy is not this process's.
  expect(findLibrary("libxxhash.so.0", "x64", "", only(arm))).toBeUndefined();
});

test.skipIf(!hasLibxxhash)("where libxxhash is installed, digests are made with it", () => {
  expect(loadNativeXxh3()).not.toBeNull();
  expect(xxh3Backend()).toBe("libxxhash");
  expect(createDigest("xxh3")).toBeInstanceOf(NativeXxh3);
});

test("PARLEY_XXH3_BACKEND=node-rs makes digests with @node-rs/xxhash", () => {
  useXxh3Backend("node-rs");
  expect(xxh3Backend()).toBe("node-rs");
  expect(createDigest("xxh3")).not.toBeInstanceOf(NativeXxh3);
});

test("the pinned self-test digests are @node-rs/xxhash's", () => {
  for (const [length, expected] of XXH3_SELF_TEST) expect(nodeRsDigest([selfTestBytes(length)])).toBe(expected);
});

test.skipIf(!hasLibxxhash)("libxxhash and @node-rs/xxhash agree over any split of the bytes", () => {
  const lib = loadNativeXxh3();
  if (!lib) throw new Error("libxxhash did not load");
  // Lengths across XXH3's short (<= 240), medium and long (striped, vectorised) paths.
  for (const length of [0, 1, 16, 17, 128, 129, 240, 241, 1023, 1024, 1025, 4096, 70_001, 262_144 + 5]) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const splits: number[][] = [[], [Math.floor(length / 2)], [0, 0, length]];
    for (let i = 0; i < 4; i++) {
      const cuts = Array.from({ length: 1 + i * 3 }, () => Math.floor(Math.random() * (length + 1))).sort(
        (a, b) => a - b,
      );
      splits.push(cuts);
    }
    for (const cuts of splits) {
      const native = new NativeXxh3(lib);
      for (const piece of splitAt(bytes, cuts)) native.update(piece);
      expect(native.hex()).toBe(nodeRsDigest([bytes]));
    }
  }
});

test.skipIf(!hasLibxxhash)("a native digest hashes views at their offset, and refuses use after hex()", () => {
  const lib = loadNativeXxh3();
  if (!lib) throw new Error("libxxhash did not load");
  const backing = crypto.getRandomValues(new Uint8Array(10_000));
  const view = backing.subarray(333, 9_001);
  const native = new NativeXxh3(lib);
  native.update(view);
  expect(native.hex()).toBe(nodeRsDigest([Uint8Array.from(view)]));
  expect(() => native.update(view)).toThrow();
  expect(() => native.hex()).toThrow();
});

test.skipIf(!hasLibxxhash)(
  "digests abandoned before hex() are freed by the collector, and hashing goes on",
  async () => {
    const lib = loadNativeXxh3();
    if (!lib) throw new Error("libxxhash did not load");
    const bytes = selfTestBytes(5000);
    for (let i = 0; i < 2000; i++) {
      const dropped = new NativeXxh3(lib);
      dropped.update(bytes);
      if (i % 2 === 0) dropped.hex(); // freed now: the collector must not free it again
    }
    Bun.gc(true);
    await Bun.sleep(10); // finalization callbacks run on a later turn
    Bun.gc(true);
    await Bun.sleep(10);
    const digest = new NativeXxh3(lib);
    digest.update(bytes);
    expect(digest.hex()).toBe(XXH3_SELF_TEST[3]?.[1] as string);
  },
);
