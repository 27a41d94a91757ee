/**
 * The keys magic-wormhole derives from the PAKE key, against the Python package (golden values
 * from test/vectors/wormhole-vectors.py, key = bytes 0..31, side "0123456789abcdef").
 */

import { describe, expect, test } from "bun:test";
import { CryptoError } from "../../src/crypto/errors.ts";
import {
  derivePhaseKey,
  openPhaseMessage,
  parleyWormholeKeys,
  sealPhaseMessage,
  transitSecrets,
  wormholeVerifier,
} from "../../src/crypto/wormhole-keys.ts";

const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const SIDE = "0123456789abcdef";

describe("wormhole key derivation (magic-wormhole vectors)", () => {
  test("verifier and phase keys", () => {
    expect(toHex(wormholeVerifier(KEY))).toBe("116c6e41d0faf2886a5b488079748585db2c4d6d151cca6c580055e1bd176459");
    expect(toHex(derivePhaseKey(KEY, SIDE, "version"))).toBe(
      "86eeb10906fe3c0acf6e399537e825557f3d4bdaba8ff955a28e47a3d3c0fd03",
    );
    expect(toHex(derivePhaseKey(KEY, SIDE, "0"))).toBe(
      "ce1d9b0c538d8bfa04069e5f98f773d9c9efbe797984cea809302fc456ec434e",
    );
  });

  test("SecretBox: PyNaCl's bytes, and they open again", () => {
    const sealed = sealPhaseMessage(KEY, new TextEncoder().encode('{"app_versions": {}}'), new Uint8Array(24));
    const golden =
      "000000000000000000000000000000000000000000000000f29ee0e05e4b084e98a9cdce8aa1466f312c9131e8f5c9562e271b604b359ce8c44f098d";
    expect(toHex(sealed)).toBe(golden);
    expect(text(openPhaseMessage(KEY, hex(golden)))).toBe('{"app_versions": {}}');
  });

  test.each([
    ["a flipped bit", (b: Uint8Array) => b.map((v, i) => (i === 30 ? v ^ 1 : v))],
    ["a short body", (b: Uint8Array) => b.subarray(0, 30)],
    ["the wrong key", (b: Uint8Array) => b],
  ])("a box with %s does not open", (name, change) => {
    const sealed = sealPhaseMessage(KEY, new TextEncoder().encode("hello"));
    const key = name === "the wrong key" ? derivePhaseKey(KEY, SIDE, "0") : KEY;
    expect(() => openPhaseMessage(key, change(sealed))).toThrow(CryptoError);
  });

  test("transit handshakes", () => {
    const s = transitSecrets(KEY, SIDE);
    expect(text(s.senderHandshake)).toBe(
      "transit sender 6fa5ad1bb11461d5165ff989e5ce9bf1c2d464385caf06870527e62fc0643f4c ready\n\n",
    );
    expect(text(s.receiverHandshake)).toBe(
      "transit receiver 0b5d03da4672ec8428bd2485e126faf13ef3ffb278196ddc2f95d96d3d82c1fd ready\n\n",
    );
    expect(text(s.relayHandshake)).toBe(
      "please relay ecd85f320731169f5768239a248b8b0f3e7834f1c05937a5939b13d6bfa933e1 for side 0123456789abcdef\n",
    );
  });

  test("Parley's keys: one per direction, the same six digits on both sides", () => {
    const sender = parleyWormholeKeys(KEY, "sender");
    const receiver = parleyWormholeKeys(KEY, "receiver");
    expect(sender.sendKey).toEqual(receiver.receiveKey);
    expect(sender.receiveKey).toEqual(receiver.sendKey);
    expect(sender.sendKey).not.toEqual(sender.receiveKey);
    expect(sender.verification).toMatch(/^\d{3} \d{3}$/);
    expect(sender.verification).toBe(receiver.verification);
  });
});
