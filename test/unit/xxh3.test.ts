/**
 * XXH3-64 digests (transfer/checksum.ts): the system's libxxhash through bun:ffi
 * (transfer/xxh3-native.ts) where it loads, @node-rs/xxhash otherwise. Both must give the same
 * digest for the same bytes however they are split into updates, or every transfer between a
 * machine with libxxhash and one without would fail its checksum.
 */

import { afterEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createDigest, xxh3Backend } from "../../src/transfer/checksum.ts";
import { loadNativeXxh3, NativeXxh3, selfTestBytes, XXH3_SELF_TEST } from "../../src/transfer/xxh3-native.ts";

const forced = process.env.PARLEY_XXH3_BACKEND;
afterEach(() => {
  if (forced === undefined) delete process.env.PARLEY_XXH3_BACKEND;
  else process.env.PARLEY_XXH3_BACKEND = forced;
});

/** @node-rs/xxhash's digest of `pieces`, fed in that order (the fallback, and the reference). */
function nodeRsDigest(pieces: Uint8Array[]): string {
  process.env.PARLEY_XXH3_BACKEND = "node-rs";
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

// Debian and Ubuntu's libxxhash0 (this project's machines) has the dispatch entry.
const hasLibxxhash = ["/lib/x86_64-linux-gnu/libxxhash.so.0", "/usr/lib/x86_64-linux-gnu/libxxhash.so.0"].some(
  existsSync,
);

test.skipIf(!hasLibxxhash)("where libxxhash is installed, digests are made with it", () => {
  expect(loadNativeXxh3()).not.toBeNull();
  expect(xxh3Backend()).toBe("libxxhash");
  expect(createDigest("xxh3")).toBeInstanceOf(NativeXxh3);
});

test("PARLEY_XXH3_BACKEND=node-rs makes digests with @node-rs/xxhash", () => {
  process.env.PARLEY_XXH3_BACKEND = "node-rs";
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
