/**
 * src/crypto/ed25519-subset.js, the tree-shaken part of @noble/curves/ed25519.js that CPace and
 * SPAKE2 use: it must be exactly what its build script makes from the installed package (so an
 * upgrade cannot leave a stale copy behind), it must leave out what Parley never calls (what it
 * is for: x25519, FROST and the OPRF cost every process tens of milliseconds at load), and its
 * points and hashes must be the package's.
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import * as full from "@noble/curves/ed25519.js";
import { buildEd25519Subset, SUBSET_FILE } from "../../src/crypto/ed25519-subset.build.ts";
import * as subset from "../../src/crypto/ed25519-subset.js";

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

test("the committed subset is what its build script makes from the installed @noble/curves", async () => {
  expect(readFileSync(SUBSET_FILE, "utf8")).toBe(await buildEd25519Subset());
});

test("the subset leaves out x25519, FROST, the OPRF and the Ed25519 Elligator map", () => {
  const text = readFileSync(SUBSET_FILE, "utf8");
  for (const left of ["createFROST", "createOPRF", "montgomery(", "ELL2_C1"]) expect(text).not.toContain(left);
  expect(Object.keys(subset).sort()).toEqual(["ed25519", "ristretto255", "ristretto255_hasher"]);
});

test("ristretto255 and ed25519 points of the subset are the package's", () => {
  for (const k of [1n, 2n, 7n, 2n ** 200n + 12345n]) {
    expect(toHex(subset.ristretto255.Point.BASE.multiply(k).toBytes())).toBe(
      toHex(full.ristretto255.Point.BASE.multiply(k).toBytes()),
    );
    expect(toHex(subset.ed25519.Point.BASE.multiply(k).toBytes())).toBe(
      toHex(full.ed25519.Point.BASE.multiply(k).toBytes()),
    );
  }
  const msg = new TextEncoder().encode("CPaceRistretto255");
  const dst = new TextEncoder().encode("parley-test");
  const derive = subset.ristretto255_hasher.deriveToCurve;
  const deriveFull = full.ristretto255_hasher.deriveToCurve;
  if (!derive || !deriveFull) throw new Error("deriveToCurve missing");
  expect(toHex(derive(new Uint8Array(64).fill(3)).toBytes())).toBe(
    toHex(deriveFull(new Uint8Array(64).fill(3)).toBytes()),
  );
  expect(toHex(subset.ristretto255_hasher.hashToCurve(msg, { DST: dst }).toBytes())).toBe(
    toHex(full.ristretto255_hasher.hashToCurve(msg, { DST: dst }).toBytes()),
  );
});
