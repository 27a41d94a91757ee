/**
 * SPAKE2 symmetric over Ed25519 against python-spake2 0.8 (Debian python3-spake2), as
 * magic-wormhole uses it: the golden values below come from test/vectors/wormhole-vectors.py
 * (fixed 64-byte entropy per side, idSymmetric = the wormhole file-transfer appid).
 */

import { describe, expect, test } from "bun:test";
import { CryptoError } from "../../src/crypto/errors.ts";
import { spake2BlindingPoint, spake2Finish, spake2Start } from "../../src/crypto/spake2.ts";

const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const utf8 = (text: string) => new TextEncoder().encode(text);

const APPID = utf8("lothar.com/wormhole/text-or-file-xfer");
const ENTROPY_A =
  "ebd2c853d59adbcaab3b25eff6a2cc50c400db969ce997bd668961ebc8dd8cf1450525a92e790b0573ae546eef1e69e77611212990c8ca051d28b52fc68c1e17";
const ENTROPY_B =
  "ecde39e83f19d0d2394550bb0aef60a7d6535f48506b3eed198d5892d88e9f4457a9112cc2e57924c416d7456d585aa10217c6dd35d289a6da40a64dc0baed97";

describe("SPAKE2 symmetric (python-spake2 vectors)", () => {
  test("the blinding point S", () => {
    expect(toHex(spake2BlindingPoint())).toBe("6f00dae87c1be1a73b5922ef431cd8f57879569c222d22b1cd71e8546ab8e6f1");
  });

  test("same code: the same messages and one key on both sides", () => {
    const a = spake2Start(utf8("7-purple-sausage"), APPID, hex(ENTROPY_A));
    const b = spake2Start(utf8("7-purple-sausage"), APPID, hex(ENTROPY_B));
    expect(toHex(a.message)).toBe("53c1469f6c2bf419df6bcbf77e59c3a7fc4b60fc058e50a47bb810b8d5e8f7d83f");
    expect(toHex(b.message)).toBe("53b219050e2fde98265bd6688f867e56bab823aa3bd470eceb080d2a0b76954572");
    const key = "d190260d854be003a38d096bfb8b184cfb465f532395ffeb4ee7f922d2a97d0d";
    expect(toHex(spake2Finish(a.state, b.message))).toBe(key);
    expect(toHex(spake2Finish(b.state, a.message))).toBe(key);
  });

  test("a different code: python's message and two unrelated keys", () => {
    const a = spake2Start(utf8("7-purple-sausage"), APPID, hex(ENTROPY_A));
    const b = spake2Start(utf8("7-purple-sausages"), APPID, hex(ENTROPY_B));
    expect(toHex(b.message)).toBe("53d0696bcaec04e723a1a7e2ea5f0570e110da6f03d364e57b548fb09d64765dc7");
    expect(toHex(spake2Finish(a.state, b.message))).toBe(
      "3d1843ad13796d14cf5abc45f7d74d34f288cf03f2c1efa086b67899ba1a5896",
    );
    expect(toHex(spake2Finish(b.state, a.message))).toBe(
      "6ef3196e6c99312dd8adba5e906bfb149c4310301e6d1c4f0b4f9a047ccd2826",
    );
  });

  test("random entropy: both sides agree", () => {
    const a = spake2Start(utf8("3-x-y"), APPID);
    const b = spake2Start(utf8("3-x-y"), APPID);
    expect(spake2Finish(a.state, b.message)).toEqual(spake2Finish(b.state, a.message));
  });

  test.each([
    ["a reflected message", (own: Uint8Array) => own],
    ["side A instead of S", (own: Uint8Array) => Uint8Array.of(0x41, ...own.subarray(1))],
    ["the identity point", () => Uint8Array.of(0x53, 1, ...new Uint8Array(31))],
    [
      "a low-order point",
      () => Uint8Array.of(0x53, ...hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")),
    ],
    ["a short message", () => Uint8Array.of(0x53, 1, 2)],
  ])("refuses %s", (_name, make) => {
    const a = spake2Start(utf8("1-a-b"), APPID);
    try {
      spake2Finish(a.state, make(a.message));
      throw new Error("accepted");
    } catch (err) {
      expect(err).toBeInstanceOf(CryptoError);
      expect((err as CryptoError).code).toBe("E_BAD_POINT");
    }
  });
});
