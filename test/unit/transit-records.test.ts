/**
 * Transit records against magic-wormhole's transit.py (golden values from
 * test/vectors/transit-vectors.py, mailbox key = bytes 0..31): the record keys, records sealed
 * by each backend byte for byte, records opened split at every byte, and the refusals (a nonce
 * out of order, a flipped bit, an impossible length).
 */

import { describe, expect, test } from "bun:test";
import { CryptoError } from "../../src/crypto/errors.ts";
import { loadSodium, type SecretBoxBackend } from "../../src/crypto/secretbox.ts";
import {
  JOINED_BYTES,
  TRANSIT_RECORD_OVERHEAD,
  TransitRecordOpener,
  TransitRecordSealer,
  transitRecordKeys,
  wormholeTransitKey,
} from "../../src/crypto/transit-records.ts";
import { backendsToTest } from "../native-libraries.ts";

const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const utf8 = (text: string) => new TextEncoder().encode(text);
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

const SENDER_REC0 =
  "0000002d000000000000000000000000000000000000000000000000c4c7142d3b1c49ae2ef740567bff62b0e6bdbe5baa";
const SENDER_REC1 = "0000002800000000000000000000000000000000000000000000000101b5e499e88213553f2d77d5c7228bdf";
const RECEIVER_ACK =
  "00000083000000000000000000000000000000000000000000000000bcb5a70347539b8ecabcc67fb12e1e8ad6c60e1f0ab1133e3b8b369341dd532084a8d2cde08a64bbb82a1dd2b46cb3e3d58bf5994aebce8932d3c58d9a2d5f255aba308a843fba74d5189b84ceec113ccc3d5b0620f2d6c8d46e8c27b69e48c4bcbaea25b549047a366bf4";
const ACK_TEXT = `{"ack": "ok", "sha256": "${"00".repeat(32)}"}`;

const backends = backendsToTest<SecretBoxBackend>(
  "libsodium",
  loadSodium() !== null,
  ["noble"],
  "test/unit/transit-records.test.ts",
);

function openAll(opener: TransitRecordOpener, ...chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const c of chunks) opener.push(c, (r) => out.push(new TextDecoder().decode(r)));
  return out;
}

describe("transit record keys (transit.py)", () => {
  test("transit key and both record keys", () => {
    const tk = wormholeTransitKey(KEY);
    expect(toHex(tk)).toBe("9329a646acaba7172c557c7971191ec6a1e287f84abe58c60dce2659c44c2925");
    const sender = transitRecordKeys(tk, "sender");
    const receiver = transitRecordKeys(tk, "receiver");
    expect(toHex(sender.sendKey)).toBe("4860c8f20d819f7caff59f3e9c6c90c7d70405c6e1247fc6eebb6686768b0d75");
    expect(toHex(sender.receiveKey)).toBe("31b1d3d847b354590e5db2d5f1fa0c018f175e569925258ecaeb456b3ce7de39");
    expect(receiver.sendKey).toEqual(sender.receiveKey);
    expect(receiver.receiveKey).toEqual(sender.sendKey);
  });
});

describe.each(backends)("transit records with %s", (backend) => {
  const keys = transitRecordKeys(wormholeTransitKey(KEY), "sender");
  const peer = transitRecordKeys(wormholeTransitKey(KEY), "receiver");

  test("seals what transit.py seals: counter nonces from 0, an empty record", () => {
    const sealer = new TransitRecordSealer(keys.sendKey, backend);
    expect(sealer.backend).toBe(backend);
    expect(toHex(sealer.seal(utf8("hello")))).toBe(SENDER_REC0);
    const out = new Uint8Array(100);
    expect(toHex(sealer.seal(new Uint8Array(0), out))).toBe(SENDER_REC1);
    expect(SENDER_REC1.length / 2).toBe(TRANSIT_RECORD_OVERHEAD);
    for (let i = 2; i < 258; i++) sealer.seal(new Uint8Array(0));
    // Record #258: the counter carries into the nonce's second-to-last byte.
    expect(toHex(sealer.seal(utf8("x")))).toBe(
      "00000029000000000000000000000000000000000000000000000102ebb85e1a03693489df4e827bdc6649ed2c",
    );
  });

  test("the receiver's ack as transit.py seals it", () => {
    expect(toHex(new TransitRecordSealer(peer.sendKey, backend).seal(utf8(ACK_TEXT)))).toBe(RECEIVER_ACK);
    expect(openAll(new TransitRecordOpener(keys.receiveKey, backend), hex(RECEIVER_ACK))).toEqual([ACK_TEXT]);
  });

  test("opens records split at every byte, and coalesced", () => {
    const both = hex(SENDER_REC0 + SENDER_REC1);
    for (let cut = 0; cut <= both.length; cut++) {
      const opener = new TransitRecordOpener(peer.receiveKey, backend);
      expect(openAll(opener, both.subarray(0, cut), both.subarray(cut))).toEqual(["hello", ""]);
      expect(opener.atRecordBoundary).toBe(true);
    }
    const bytes = new TransitRecordOpener(peer.receiveKey, backend);
    expect(openAll(bytes, ...Array.from(both, (b) => Uint8Array.of(b)))).toEqual(["hello", ""]);
  });

  test("a large record in pieces, and many in order", () => {
    const sealer = new TransitRecordSealer(keys.sendKey, backend);
    const opener = new TransitRecordOpener(peer.receiveKey, backend);
    const big = Uint8Array.from({ length: 300_000 }, (_, i) => i % 251);
    const record = sealer.seal(big);
    const got: Uint8Array[] = [];
    for (let at = 0; at < record.length; at += 7001) {
      opener.push(record.subarray(at, at + 7001), (r) => got.push(Uint8Array.from(r)));
    }
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(big);
    for (let i = 0; i < 300; i++) {
      const seen: string[] = [];
      opener.push(sealer.seal(utf8(`r${i}`)), (r) => seen.push(new TextDecoder().decode(r)));
      expect(seen).toEqual([`r${i}`]);
    }
  });

  test("a record out of order, replayed or skipped: E_BAD_NONCE, and the opener stays failed", () => {
    const opener = new TransitRecordOpener(peer.receiveKey, backend);
    const err = (() => {
      try {
        openAll(opener, hex(SENDER_REC1));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe("E_BAD_NONCE");
    expect(() => openAll(opener, hex(SENDER_REC0))).toThrow(CryptoError);
    const replay = new TransitRecordOpener(peer.receiveKey, backend);
    expect(openAll(replay, hex(SENDER_REC0))).toEqual(["hello"]);
    expect(() => openAll(replay, hex(SENDER_REC0))).toThrow(/out of order/);
  });

  test("a flipped bit anywhere after the length: E_AUTH_FAILED or E_BAD_NONCE", () => {
    const good = hex(SENDER_REC0);
    for (let i = 4; i < good.length; i++) {
      const bad = Uint8Array.from(good);
      bad[i] = (bad[i] as number) ^ 1;
      let code: string | undefined;
      try {
        openAll(new TransitRecordOpener(peer.receiveKey, backend), bad);
      } catch (e) {
        code = (e as CryptoError).code;
      }
      expect(code).toBe(i < 28 ? "E_BAD_NONCE" : "E_AUTH_FAILED");
    }
  });

  test("a length shorter than nonce and tag, or beyond the limit: refused at the length field", () => {
    for (const length of ["00000027", "ffffffff", "04000001"]) {
      expect(() => openAll(new TransitRecordOpener(peer.receiveKey, backend), hex(length))).toThrow(
        /impossible length/,
      );
    }
  });

  describe("joined into runs (a file's stream)", () => {
    /** `count` records of `size` bytes each, sealed in order; and what they hold, concatenated. */
    function stream(count: number, size: number) {
      const sealer = new TransitRecordSealer(keys.sendKey, backend);
      const plain = Uint8Array.from({ length: count * size }, (_, i) => (i * 7 + (i >> 9)) % 256);
      const records = Array.from({ length: count }, (_, i) => sealer.seal(plain.subarray(i * size, (i + 1) * size)));
      const wire = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
      let at = 0;
      for (const r of records) {
        wire.set(r, at);
        at += r.length;
      }
      return { plain, wire };
    }
    function joinAll(opener: TransitRecordOpener, chunks: Uint8Array[]) {
      const runs: Uint8Array[] = [];
      for (const c of chunks) opener.pushJoined(c, (run) => runs.push(Uint8Array.from(run)));
      return { runs, all: Buffer.concat(runs) };
    }
    const cut = (bytes: Uint8Array, size: number) =>
      Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

    test("16 KiB records in reads of any size: the same bytes, in runs of at most JOINED_BYTES", () => {
      const { plain, wire } = stream(40, 16 * 1024);
      for (const read of [7, 4093, 16 * 1024 + 40, 65_536, 512 * 1024, wire.length]) {
        const { runs, all } = joinAll(new TransitRecordOpener(peer.receiveKey, backend), cut(wire, read));
        expect(all.equals(plain)).toBe(true);
        expect(Math.max(...runs.map((r) => r.length))).toBeLessThanOrEqual(JOINED_BYTES);
      }
      // One read of all 40 records: 640 KiB in three runs (256 + 256 + 128 KiB), not 40 pieces.
      const { runs } = joinAll(new TransitRecordOpener(peer.receiveKey, backend), [wire]);
      expect(runs.map((r) => r.length / 1024)).toEqual([256, 256, 128]);
    });

    test("a record larger than a run comes alone and whole; empty records add nothing", () => {
      const sealer = new TransitRecordSealer(keys.sendKey, backend);
      const big = Uint8Array.from({ length: JOINED_BYTES + 5 }, (_, i) => i % 253);
      const wire = Buffer.concat([
        sealer.seal(utf8("ab")),
        sealer.seal(big),
        sealer.seal(new Uint8Array(0)),
        sealer.seal(utf8("c")),
      ]);
      const { runs } = joinAll(new TransitRecordOpener(peer.receiveKey, backend), [wire]);
      expect(runs.map((r) => r.length)).toEqual([2, JOINED_BYTES + 5, 1]);
      expect(runs[1]).toEqual(big);
      expect(new TextDecoder().decode(runs[2])).toBe("c");
    });

    test("a bad record after good ones in the same read: nothing of that read is handed up, and the opener stays failed", () => {
      const { wire } = stream(4, 1000);
      const bad = Uint8Array.from(wire);
      const third = 2 * (1000 + TRANSIT_RECORD_OVERHEAD) + 60;
      bad[third] = (bad[third] as number) ^ 1;
      const opener = new TransitRecordOpener(peer.receiveKey, backend);
      const runs: Uint8Array[] = [];
      expect(() => opener.pushJoined(bad, (r) => runs.push(r))).toThrow(/does not open/);
      expect(runs).toEqual([]);
      expect(() => opener.pushJoined(wire, (r) => runs.push(r))).toThrow(CryptoError);
      expect(runs).toEqual([]);
    });
  });

  test("the wrong direction's key does not open", () => {
    expect(() => openAll(new TransitRecordOpener(keys.receiveKey, backend), hex(SENDER_REC0))).toThrow(/does not open/);
  });
});
