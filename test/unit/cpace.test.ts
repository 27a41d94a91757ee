/**
 * CPace over ristretto255 (CPACE-RISTR255-SHA512): the test vectors of draft-irtf-cfrg-cpace-21
 * Appendix B.3 (generator, Ya, Yb, K, ISK in initiator-responder and symmetric mode, invalid
 * shares of B.3.11), then random runs on both sides, binding to password, sid and AD, rejection
 * of bad shares, and wiping of the secret scalar.
 */

import { describe, expect, test } from "bun:test";
import { ristretto255 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import {
  CPACE_ISK_BYTES,
  CPACE_SHARE_BYTES,
  cpaceFinishInitiator,
  cpaceFinishResponder,
  cpaceFinishSymmetric,
  cpaceGenerator,
  cpaceStart,
} from "../../src/crypto/cpace.ts";
import { CryptoError, type CryptoErrorCode } from "../../src/crypto/errors.ts";
import { hex, thrownBy, toHex } from "./helpers.ts";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Runs `fn`, expecting a CryptoError; returns its code so the caller can assert on it. */
function cryptoErrorCode(fn: () => unknown): CryptoErrorCode {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(CryptoError);
  return (err as CryptoError).code;
}

// draft-irtf-cfrg-cpace-21 Appendix B.3 (group ristretto255, hash SHA-512).
const V = {
  prs: utf8("Password"),
  ci: hex("0b415f696e69746961746f720b425f726573706f6e646572"), // b"\x0bA_initiator\x0bB_responder"
  sid: hex("7e4b4791d6a8ef019b936c79fb7f2c57"),
  g: "222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56",
  adA: utf8("ADa"),
  ya: hex("da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08"),
  Ya: "d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157",
  adB: utf8("ADb"),
  yb: hex("d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d"),
  Yb: "3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258",
  K: "80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f",
  // lv_cat(DSI || "_ISK", sid, K) || transcript_ir(Ya, ADa, Yb, ADb), B.3.5
  preimageIr: hex(`
    15435061636552697374726574746f3235355f49534b107e4b4791d6
    a8ef019b936c79fb7f2c572080b69a8a76457ab6a4d7f887a4bf6b55
    a2f80ac19c333f917a05fc9887c8b40f20d6bac480f2c386c394efc7
    c47adb9925dcd2630b64f240c50f8d0eec482b915703414461203ea7
    e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f
    725803414462`),
  iskIr:
    "b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd" +
    "2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c3fa2068af7900447",
  iskSy:
    "544199d71f62f8d9a1fee55727e24fe4a45844593c2b6013c4fa3969d0e5debb" +
    "2244675c0b43397cbb68d342b01fc0f98fc961469a25134de9f0f813c1a57476",
  // B.3.11: scalar_mult_vfy must return G.I, and a message holding these must abort.
  invalidY1: hex("2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c"),
  identity: new Uint8Array(32),
};

/** Offset of K in the ISK preimage: 1 + 21 (DSI_ISK) + 1 + 16 (sid) + 1 (K's length byte). */
const K_OFFSET_IN_PREIMAGE = 1 + 21 + 1 + 16 + 1;

describe("draft-irtf-cfrg-cpace Appendix B.3 vectors (ristretto255, SHA-512)", () => {
  test("generator g", () => {
    expect(toHex(cpaceGenerator(V.prs, V.ci, V.sid))).toBe(V.g);
  });

  test("Ya and Yb from the given scalars; secrets are the scalars, copied", () => {
    const a = cpaceStart(V.prs, V.ci, V.sid, V.ya);
    const b = cpaceStart(V.prs, V.ci, V.sid, V.yb);
    expect(toHex(a.message)).toBe(V.Ya);
    expect(toHex(b.message)).toBe(V.Yb);
    // Both vector scalars are already below the group order, so reduction leaves them as they are.
    expect(toHex(a.secret)).toBe(toHex(V.ya));
    expect(toHex(b.secret)).toBe(toHex(V.yb));
    expect(a.secret).not.toBe(V.ya); // a copy: finishing must not wipe the caller's buffer
  });

  test("K: ya*Yb = yb*Ya = K, and the draft's ISK preimage carries that K", () => {
    const { Point } = ristretto255;
    const kA = Point.fromHex(V.Yb).multiply(bytesToNumberLE(V.ya)).toBytes();
    const kB = Point.fromHex(V.Ya).multiply(bytesToNumberLE(V.yb)).toBytes();
    expect(toHex(kA)).toBe(V.K);
    expect(toHex(kB)).toBe(V.K);
    expect(toHex(V.preimageIr.subarray(K_OFFSET_IN_PREIMAGE, K_OFFSET_IN_PREIMAGE + 32))).toBe(V.K);
    expect(toHex(sha512(V.preimageIr))).toBe(V.iskIr);
  });

  test("ISK_IR: initiator A and responder B both derive the draft's value", () => {
    const a = cpaceStart(V.prs, V.ci, V.sid, V.ya);
    const b = cpaceStart(V.prs, V.ci, V.sid, V.yb);
    const iskA = cpaceFinishInitiator(a.secret, V.sid, a.message, V.adA, b.message, V.adB);
    const iskB = cpaceFinishResponder(b.secret, V.sid, b.message, V.adB, a.message, V.adA);
    // ISK = SHA-512(preimage) and the preimage holds K, so matching ISK_IR also pins our K.
    expect(toHex(iskA)).toBe(V.iskIr);
    expect(toHex(iskB)).toBe(V.iskIr);
  });

  test("ISK_SY: both sides in symmetric mode derive the draft's value", () => {
    const a = cpaceStart(V.prs, V.ci, V.sid, V.ya);
    const b = cpaceStart(V.prs, V.ci, V.sid, V.yb);
    const iskA = cpaceFinishSymmetric(a.secret, V.sid, a.message, V.adA, b.message, V.adB);
    const iskB = cpaceFinishSymmetric(b.secret, V.sid, b.message, V.adB, a.message, V.adA);
    expect(toHex(iskA)).toBe(V.iskSy);
    expect(toHex(iskB)).toBe(V.iskSy);
  });

  test("swapping roles in initiator-responder mode does not give ISK_IR", () => {
    // A finishing as responder puts B's share first: a different transcript, a different key.
    const a = cpaceStart(V.prs, V.ci, V.sid, V.ya);
    const b = cpaceStart(V.prs, V.ci, V.sid, V.yb);
    const wrong = cpaceFinishResponder(a.secret, V.sid, a.message, V.adA, b.message, V.adB);
    expect(toHex(wrong)).not.toBe(V.iskIr);
    expect(toHex(wrong)).not.toBe(V.iskSy);
  });
});

describe("bad peer shares abort with E_BAD_POINT", () => {
  const finishers = { cpaceFinishInitiator, cpaceFinishResponder, cpaceFinishSymmetric };
  const badShares: [string, Uint8Array][] = [
    ["identity G.I (all zeros), B.3.11 Y_i2", V.identity],
    ["invalid encoding B.3.11 Y_i1 (negative s)", V.invalidY1],
    ["non-canonical: s = p (2^255 - 19), an alias of zero", hex(`ed${"ff".repeat(30)}7f`)],
    ["non-canonical: high bit set", hex("ff".repeat(32))],
    ["31 bytes", hex(V.Yb).subarray(0, 31)],
    ["33 bytes", Uint8Array.from([...hex(V.Yb), 0])],
  ];

  for (const [finisherName, finishFn] of Object.entries(finishers)) {
    test.each(badShares)(`${finisherName}: %s`, (_label, share) => {
      const a = cpaceStart(V.prs, V.ci, V.sid, V.ya);
      expect(cryptoErrorCode(() => finishFn(a.secret, V.sid, a.message, V.adA, share, V.adB))).toBe("E_BAD_POINT");
      expect(a.secret.every((byte) => byte === 0)).toBe(true); // wiped on abort too
    });
  }

  test("the same shares but valid (the draft's Yb) finish without error", () => {
    // Control for the table above: the only thing that differs there is the share.
    const a = cpaceStart(V.prs, V.ci, V.sid, V.ya);
    expect(cpaceFinishInitiator(a.secret, V.sid, a.message, V.adA, hex(V.Yb), V.adB).length).toBe(CPACE_ISK_BYTES);
  });
});

/** One full run with random scalars; returns both sides' ISKs. */
function run(
  mode: "ir" | "sy",
  a: { prs: Uint8Array; sid: Uint8Array; ad: Uint8Array; ci?: Uint8Array },
  b: { prs: Uint8Array; sid: Uint8Array; ad: Uint8Array; ci?: Uint8Array },
): { iskA: Uint8Array; iskB: Uint8Array } {
  const startA = cpaceStart(a.prs, a.ci ?? V.ci, a.sid);
  const startB = cpaceStart(b.prs, b.ci ?? V.ci, b.sid);
  expect(startA.message.length).toBe(CPACE_SHARE_BYTES);
  expect(startB.message.length).toBe(CPACE_SHARE_BYTES);
  if (mode === "ir") {
    return {
      iskA: cpaceFinishInitiator(startA.secret, a.sid, startA.message, a.ad, startB.message, b.ad),
      iskB: cpaceFinishResponder(startB.secret, b.sid, startB.message, b.ad, startA.message, a.ad),
    };
  }
  return {
    iskA: cpaceFinishSymmetric(startA.secret, a.sid, startA.message, a.ad, startB.message, b.ad),
    iskB: cpaceFinishSymmetric(startB.secret, b.sid, startB.message, b.ad, startA.message, a.ad),
  };
}

describe("random runs", () => {
  const side = (prs: string, sid: string, ad: string) => ({ prs: utf8(prs), sid: utf8(sid), ad: utf8(ad) });

  test.each(["ir", "sy"] as const)("mode %s: same inputs give both sides the same 64-byte ISK", (mode) => {
    const { iskA, iskB } = run(mode, side("hunter2", "session-0001", "alice"), side("hunter2", "session-0001", "bob"));
    expect(iskA.length).toBe(CPACE_ISK_BYTES);
    expect(toHex(iskA)).toBe(toHex(iskB));
    expect(iskA.some((byte) => byte !== 0)).toBe(true);
  });

  test("two runs with the same inputs give different shares and ISKs (fresh scalars)", () => {
    const first = run("ir", side("pw", "sid-0001", "a"), side("pw", "sid-0001", "b"));
    const second = run("ir", side("pw", "sid-0001", "a"), side("pw", "sid-0001", "b"));
    expect(toHex(first.iskA)).not.toBe(toHex(second.iskA));
  });

  test.each(["ir", "sy"] as const)("mode %s: different passwords give different ISKs", (mode) => {
    const { iskA, iskB } = run(mode, side("correct horse", "sid-0001", "a"), side("battery staple", "sid-0001", "b"));
    expect(toHex(iskA)).not.toBe(toHex(iskB));
  });

  test.each(["ir", "sy"] as const)("mode %s: a different sid gives different ISKs", (mode) => {
    const { iskA, iskB } = run(mode, side("pw", "sid-0001", "a"), side("pw", "sid-0002", "b"));
    expect(toHex(iskA)).not.toBe(toHex(iskB));
  });

  test("a different channel identifier gives different ISKs", () => {
    const { iskA, iskB } = run(
      "ir",
      { ...side("pw", "sid-0001", "a"), ci: utf8("A->B") },
      { ...side("pw", "sid-0001", "b"), ci: utf8("B->A") },
    );
    expect(toHex(iskA)).not.toBe(toHex(iskB));
  });

  test("AD is authenticated: if B sees other AD from A than A sent, the ISKs differ", () => {
    const a = cpaceStart(utf8("pw"), V.ci, V.sid);
    const b = cpaceStart(utf8("pw"), V.ci, V.sid);
    const iskA = cpaceFinishInitiator(a.secret, V.sid, a.message, utf8("v1"), b.message, utf8("b"));
    const iskB = cpaceFinishResponder(b.secret, V.sid, b.message, utf8("b"), a.message, utf8("v2"));
    expect(toHex(iskA)).not.toBe(toHex(iskB));
  });

  test("long PRS, CI, sid and AD (multi-byte LEB128 lengths, no zero padding) still agree", () => {
    const long = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    const prs = long(300, 0x70);
    const ci = long(200, 0x63);
    const sid = long(128, 0x73);
    const a = cpaceStart(prs, ci, sid);
    const b = cpaceStart(prs, ci, sid);
    const iskA = cpaceFinishSymmetric(a.secret, sid, a.message, long(20000, 0x61), b.message, long(129, 0x62));
    const iskB = cpaceFinishSymmetric(b.secret, sid, b.message, long(129, 0x62), a.message, long(20000, 0x61));
    expect(toHex(iskA)).toBe(toHex(iskB));
  });

  test("random scalars keep only the low 252 bits (draft §8.3 sample_scalar)", () => {
    for (let i = 0; i < 64; i++) {
      const { secret } = cpaceStart(V.prs, V.ci, V.sid);
      expect(secret[31] ?? 0xff).toBeLessThan(0x10);
    }
  });
});

describe("secret scalar handling", () => {
  test("finish wipes the secret, and a wiped secret cannot be used again", () => {
    const a = cpaceStart(V.prs, V.ci, V.sid, V.ya);
    const b = cpaceStart(V.prs, V.ci, V.sid, V.yb);
    cpaceFinishInitiator(a.secret, V.sid, a.message, V.adA, b.message, V.adB);
    expect(a.secret.every((byte) => byte === 0)).toBe(true);
    expect(toHex(V.ya)).toBe("da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08"); // caller's copy intact
    expect(() => cpaceFinishInitiator(a.secret, V.sid, a.message, V.adA, b.message, V.adB)).toThrow(RangeError);
  });

  test("a given scalar must be 32 bytes and non-zero mod the group order", () => {
    expect(() => cpaceStart(V.prs, V.ci, V.sid, new Uint8Array(31))).toThrow(RangeError);
    expect(() => cpaceStart(V.prs, V.ci, V.sid, new Uint8Array(32))).toThrow(RangeError);
  });

  test("a given scalar is reduced mod the group order: y + l gives the same share as y", () => {
    const l = ristretto255.Point.Fn.ORDER;
    const y = bytesToNumberLE(V.ya);
    const yPlusL = y + l; // still < 2^256, so it fits in 32 bytes
    const bytes = new Uint8Array(32);
    for (let i = 0, v = yPlusL; i < 32; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
    expect(toHex(cpaceStart(V.prs, V.ci, V.sid, bytes).message)).toBe(V.Ya);
  });
});
