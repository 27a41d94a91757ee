/**
 * The key schedule in fixed bytes: the session id, both record keys, both CONFIRM MACs and the
 * verification digits for fixed inputs. A changed label, salt, order or length fails here
 * (every other test derives both sides with the same code, so they would still agree).
 */

import { expect, test } from "bun:test";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { deriveConnectionKeys, sessionId } from "../../src/crypto/key-schedule.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const utf8 = (s: string) => new TextEncoder().encode(s);

const SID = sessionId(utf8('{"v":1,"nonce":"aa"}'), utf8('{"v":1,"nonce":"bb"}'));
const ISK = Uint8Array.from({ length: 64 }, (_, i) => i);
const DIALER_SHARE = new Uint8Array(32).fill(1);
const LISTENER_SHARE = new Uint8Array(32).fill(2);

test("the session id of two fixed HELLO bodies", () => {
  expect(hex(SID)).toBe("984fde325188a475b07927966dacaf8f");
});

test("both sides' keys, MACs and digits from a fixed ISK", () => {
  const dialer = deriveConnectionKeys("dialer", ISK, SID, DIALER_SHARE, LISTENER_SHARE);
  const listener = deriveConnectionKeys("listener", ISK, SID, DIALER_SHARE, LISTENER_SHARE);
  const d2a = "fcd8672709ad01681ce4f445eb301b13dd8df277bb4b0b309b6e0ea7857a8ca6";
  const a2d = "ff8d1dc7a57eb687d9fa1975e079acac992dff8d425bc351f95ccdfdca87ad4a";
  const macD = "8f20bc2616cf4fd40e07a01fc8b056d33b0be96d0e5200b19b9718d370d21bd6";
  const macA = "d908867685e4c5b5a9fd6d504bcb4242c203220bf13c260cd96b69a06725b39a";
  expect([hex(dialer.sendKey), hex(dialer.receiveKey), hex(dialer.confirm), hex(dialer.expectedConfirm)]).toEqual([
    d2a,
    a2d,
    macD,
    macA,
  ]);
  expect([
    hex(listener.sendKey),
    hex(listener.receiveKey),
    hex(listener.confirm),
    hex(listener.expectedConfirm),
  ]).toEqual([a2d, d2a, macA, macD]);
  expect(dialer.verification).toBe("361 743");
  expect(listener.verification).toBe("361 743");
});

test("the record keys are HKDF-SHA256(ISK, salt = sid, info = label), checked with a second implementation", () => {
  const keys = deriveConnectionKeys("dialer", ISK, SID, DIALER_SHARE, LISTENER_SHARE);
  expect(hex(keys.sendKey)).toBe(hex(hkdf(sha256, ISK, SID, utf8("parley/v1/key/d2a"), 32)));
  expect(hex(keys.receiveKey)).toBe(hex(hkdf(sha256, ISK, SID, utf8("parley/v1/key/a2d"), 32)));
});
