/**
 * The two AES-256-GCM backends of the record layer (libcrypto through bun:ffi, node:crypto)
 * produce the same records, byte for byte, pinned to one vector; each opens the other's
 * records; a wrong tag, key or nonce fails in both; a record opened in pieces equals it whole.
 */

import { describe, expect, test } from "bun:test";
import { createCipheriv } from "node:crypto";
import { type AeadBackend, createGcmOpener, createGcmSealer, defaultAeadBackend } from "../../src/crypto/aes-gcm.ts";
import { releaseOwnBuffer } from "../../src/crypto/aes-gcm-node.ts";
import { type CryptoBackendChoice, cryptoBackendChoice, useCryptoBackend } from "../../src/crypto/backend-choice.ts";
import { loadLibcrypto } from "../../src/crypto/libcrypto.ts";
import { RecordOpener, RecordSealer } from "../../src/crypto/record.ts";
import { backendsToTest } from "../native-libraries.ts";
import { concat } from "./helpers.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const text = (s: string) => new TextEncoder().encode(s);

/**
 * Records 0, 1 and 2 of a direction keyed 00 01 .. 1f: "hello, parley", "", 40 × "x".
 * Computed with node:crypto's createCipheriv, independently of record.ts: a change to the
 * nonce layout, the AAD or the record framing fails here.
 */
const VECTOR = [
  "0000001d66d9d9b2da00a3cd69dac5506191e933076680998cd50b3f64a9f451ae",
  "00000010cd6e899465485da66194bde7caac5efc",
  "00000038b1095605cc33a2a9c17544690f3993f4fe6f4da896d177d7f6052a4209a323fc9c5b81b75e19509ca36f46ee1644f64a602c0f78cd1ca896",
];
const VECTOR_PLAINTEXTS = ["hello, parley", "", "x".repeat(40)];

const backends = backendsToTest<AeadBackend>(
  "libcrypto",
  loadLibcrypto() !== null,
  ["node"],
  "test/unit/aes-gcm.test.ts",
);

/** Runs `run` with PARLEY_CRYPTO_BACKEND's choice handed down (as cli/env-settings.ts does), then the default. */
function withBackendEnv(value: CryptoBackendChoice | undefined, run: () => void): void {
  const saved = cryptoBackendChoice();
  useCryptoBackend(value);
  try {
    run();
  } finally {
    useCryptoBackend(saved);
  }
}

test("records are sealed and opened through node:crypto by default", () => {
  withBackendEnv(undefined, () => {
    expect(defaultAeadBackend()).toBe("node");
    expect(createGcmSealer(KEY).backend).toBe("node");
    expect(createGcmOpener(KEY).backend).toBe("node");
  });
});

test("PARLEY_CRYPTO_BACKEND=node or =libcrypto forces one backend both ways", () => {
  withBackendEnv("node", () => {
    expect(createGcmSealer(KEY).backend).toBe("node");
    expect(createGcmOpener(KEY).backend).toBe("node");
  });
  withBackendEnv("libcrypto", () => {
    const expected = loadLibcrypto() ? "libcrypto" : "node";
    expect(createGcmSealer(KEY).backend).toBe(expected);
    expect(createGcmOpener(KEY).backend).toBe(expected);
  });
});

describe("releaseOwnBuffer", () => {
  test("releases node:crypto's output (a buffer of its own): its memory goes back at once", () => {
    const cipher = createCipheriv("aes-256-gcm", KEY, new Uint8Array(12));
    const out = cipher.update(new Uint8Array(256 * 1024));
    expect(out.length).toBe(256 * 1024);
    expect(releaseOwnBuffer(out)).toBe(true);
    expect(out.length).toBe(0);
    expect(out.buffer.byteLength).toBe(0);
  });

  test("leaves a view into a larger or shared buffer alone", () => {
    const whole = new Uint8Array(4096).fill(7);
    expect(releaseOwnBuffer(whole.subarray(16, 32))).toBe(false);
    expect(releaseOwnBuffer(whole.subarray(0, 1024))).toBe(false);
    expect(whole.length).toBe(4096);
    expect(whole[100]).toBe(7);
    const shared = new Uint8Array(new SharedArrayBuffer(64));
    expect(releaseOwnBuffer(shared)).toBe(false);
    expect(shared.length).toBe(64);
  });

  test("releases a whole buffer of its own", () => {
    const own = new Uint8Array(1000);
    expect(releaseOwnBuffer(own)).toBe(true);
    expect(own.length).toBe(0);
  });
});

describe.each(backends)("backend %s", (backend) => {
  test("seals the pinned vector byte for byte", () => {
    const sealer = new RecordSealer(KEY, backend);
    expect(VECTOR_PLAINTEXTS.map((p) => hex(sealer.seal(text(p))))).toEqual(VECTOR);
  });

  test("the sealer and opener really are this backend", () => {
    expect(createGcmSealer(KEY, backend).backend).toBe(backend);
    expect(createGcmOpener(KEY, backend).backend).toBe(backend);
  });

  test.each(backends)("opens the vector sealed by any backend (%s), split at every byte", (other) => {
    const sealer = new RecordSealer(KEY, other);
    const stream = concat(VECTOR_PLAINTEXTS.map((p) => sealer.seal(text(p))));
    for (let cut = 0; cut <= stream.length; cut++) {
      const opener = new RecordOpener(KEY, backend);
      const out = [...opener.push(stream.subarray(0, cut)), ...opener.push(stream.subarray(cut))];
      expect(out.map((r) => new TextDecoder().decode(r))).toEqual(VECTOR_PLAINTEXTS);
    }
  });

  test("a record split across many chunks opens into one contiguous plaintext, without changing the chunks", () => {
    const plaintext = crypto.getRandomValues(new Uint8Array(300_000));
    const record = new RecordSealer(KEY, backend).seal(plaintext);
    const chunks = [1, 3, 4, 5, 1000, 65_536, 100_003, record.length].map((end, i, ends) =>
      record.subarray(i === 0 ? 0 : (ends[i - 1] as number), Math.min(end, record.length)),
    );
    const before = chunks.map((c) => Uint8Array.from(c));
    const opener = new RecordOpener(KEY, backend);
    for (const chunk of chunks.slice(0, -1)) {
      opener.feed(chunk);
      expect(opener.nextParts()).toBeUndefined();
    }
    opener.feed(chunks.at(-1) as Uint8Array);
    const parts = opener.nextParts() as Uint8Array[];
    expect(parts.length).toBe(1);
    expect(hex(parts[0] as Uint8Array)).toBe(hex(plaintext));
    expect(chunks.map(hex)).toEqual(before.map(hex));
    expect(opener.atRecordBoundary).toBe(true);
  });

  test("a DATA record's file bytes land 64-byte aligned in the opener's buffer", () => {
    const record = new RecordSealer(KEY, backend).seal(new Uint8Array(9 + 4096));
    const opened = new RecordOpener(KEY, backend);
    opened.feed(record);
    const [plain] = opened.nextParts() as Uint8Array[];
    expect(((plain as Uint8Array).byteOffset + 9) % 64).toBe(0);
  });

  test("a wrong tag, a wrong nonce and a wrong key all fail to open", () => {
    const sealer = createGcmSealer(KEY, backend);
    const nonce = new Uint8Array(12);
    const aad = Uint8Array.of(0, 0, 0, 21);
    const out = new Uint8Array(5 + 16);
    sealer.seal(nonce, aad, text("tests"), out);
    const open = (key: Uint8Array, n: Uint8Array, body: Uint8Array, tag: Uint8Array) => {
      const opener = createGcmOpener(key, backend);
      opener.begin(n, aad);
      opener.update(body, new Uint8Array(body.length));
      return opener.finish(tag);
    };
    const body = out.subarray(0, 5);
    const tag = out.subarray(5);
    expect(open(KEY, nonce, body, tag)).toBe(true);
    const badTag = Uint8Array.from(tag);
    badTag[15] = (badTag[15] as number) ^ 0x80;
    expect(open(KEY, nonce, body, badTag)).toBe(false);
    expect(open(KEY, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), body, tag)).toBe(false);
    expect(open(Uint8Array.from(KEY).reverse(), nonce, body, tag)).toBe(false);
    expect(open(KEY, nonce, body, tag.subarray(0, 12))).toBe(false);
  });

  test("a destroyed sealer refuses to seal (it never touches a freed context)", () => {
    const sealer = new RecordSealer(KEY, backend);
    sealer.destroy();
    expect(() => sealer.seal(text("late"))).toThrow();
    const raw = createGcmSealer(KEY, backend);
    raw.destroy();
    expect(() => raw.seal(new Uint8Array(12), new Uint8Array(4), text("x"), new Uint8Array(17))).toThrow();
    const rawOpener = createGcmOpener(KEY, backend);
    rawOpener.destroy();
    expect(() => rawOpener.begin(new Uint8Array(12), new Uint8Array(4))).toThrow();
  });

  test("sealing into a reused scratch gives the pinned bytes, and one view for records of one size", () => {
    const fresh = new RecordSealer(KEY, backend);
    const reused = new RecordSealer(KEY, backend);
    const scratch = new Uint8Array(1024).fill(0xee);
    const plain = ["abc", "xyz", "abcd"].map(text);
    const records = plain.map((p) => reused.seal(p, scratch));
    // No view made per record: the second record of the same length is handed back in the same
    // object as the first (so the first is only valid until the next seal, as documented).
    expect(records[1]).toBe(records[0] as Uint8Array);
    expect(records[2]).not.toBe(records[0] as Uint8Array);
    const expected = plain.map((p) => hex(fresh.seal(p)));
    expect(hex(records[2] as Uint8Array)).toBe(expected[2] as string);
    // Past the record the scratch is left alone.
    expect(scratch[4 + 4 + 16]).toBe(0xee);
    expect(new RecordSealer(KEY, backend).seal(text("hello, parley"), scratch).buffer).toBe(scratch.buffer);
    expect(hex(new RecordSealer(KEY, backend).seal(text("hello, parley"), scratch))).toBe(VECTOR[0] as string);
  });

  test("sealRecord seals in place the bytes seal writes, whatever the record's offset in its buffer", () => {
    const sealer = createGcmSealer(KEY, backend);
    const nonce = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7);
    for (const n of [0, 1, 17, 4096]) {
      const plaintext = crypto.getRandomValues(new Uint8Array(n));
      const header = Uint8Array.of(0, 0, (n + 16) >> 8, (n + 16) & 0xff);
      const out = new Uint8Array(n + 16);
      sealer.seal(nonce, header, plaintext, out);
      const backing = new Uint8Array(3 + 4 + n + 16 + 5).fill(0xaa);
      const record = backing.subarray(3);
      record.set(header);
      sealer.sealRecord(nonce, record, 4, plaintext);
      expect(hex(record.subarray(4, 4 + n + 16))).toBe(hex(out));
      expect(hex(backing.subarray(0, 3))).toBe("aaaaaa");
      expect(hex(backing.subarray(3 + 4 + n + 16))).toBe("aaaaaaaaaa");
    }
    expect(() => sealer.sealRecord(nonce, new Uint8Array(4 + 16), 4, text("x"))).toThrow(RangeError);
  });

  test("updateAt opens a piece at any offset as update does", () => {
    const nonce = new Uint8Array(12);
    const aad = Uint8Array.of(0, 0, 0, 116);
    const plaintext = crypto.getRandomValues(new Uint8Array(100));
    const sealed = new Uint8Array(116);
    createGcmSealer(KEY, backend).seal(nonce, aad, plaintext, sealed);
    const opener = createGcmOpener(KEY, backend);
    opener.begin(nonce, aad);
    const out = new Uint8Array(200);
    let at = 50;
    at += opener.updateAt(sealed, 0, 30, out, at);
    at += opener.updateAt(sealed, 30, 0, out, at);
    at += opener.updateAt(sealed, 30, 70, out, at);
    expect(at).toBe(150);
    expect(opener.finish(sealed.subarray(100))).toBe(true);
    expect(hex(out.subarray(50, 150))).toBe(hex(plaintext));
    expect(() => opener.updateAt(sealed, 100, 17, out, 0)).toThrow(RangeError);
  });

  test("opened records of one length come in one view, and chunks are read without being changed", () => {
    const sealer = new RecordSealer(KEY, backend);
    const stream = concat(["same", "size", "other size"].map((p) => sealer.seal(text(p))));
    const copy = Uint8Array.from(stream);
    const opener = new RecordOpener(KEY, backend);
    // Fed in pieces that split headers, bodies and tags.
    for (let at = 0; at < stream.length; at += 7) opener.feed(stream.subarray(at, at + 7));
    const [a] = opener.nextParts() as Uint8Array[];
    expect(new TextDecoder().decode(a)).toBe("same");
    const [b] = opener.nextParts() as Uint8Array[];
    expect(b).toBe(a as Uint8Array);
    expect(new TextDecoder().decode(b)).toBe("size");
    const [c] = opener.nextParts() as Uint8Array[];
    expect(new TextDecoder().decode(c)).toBe("other size");
    expect(opener.nextParts()).toBeUndefined();
    expect(opener.atRecordBoundary).toBe(true);
    expect(hex(stream)).toBe(hex(copy));
  });

  test("a destroyed opener ignores what it is fed", () => {
    const record = new RecordSealer(KEY, backend).seal(text("after the end"));
    const opener = new RecordOpener(KEY, backend);
    opener.destroy();
    opener.feed(record);
    expect(opener.nextParts()).toBeUndefined();
  });
});
