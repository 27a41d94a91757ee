/** Sealed records: round trips, splits, and every kind of tampering caught. */

import { describe, expect, test } from "bun:test";
import { CryptoError } from "../../src/crypto/errors.ts";
import { RECORD_HEADER_BYTES, RECORD_TAG_BYTES, RecordOpener, RecordSealer } from "../../src/crypto/record.ts";
import { concat, thrownBy } from "./helpers.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const OTHER_KEY = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function sealAll(messages: string[], key = KEY): Uint8Array[] {
  const sealer = new RecordSealer(key);
  return messages.map((m) => sealer.seal(text(m)));
}

function expectIntegrityError(fn: () => unknown): void {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(CryptoError);
  expect((err as CryptoError).code).toBe("E_AUTH_FAILED");
  expect((err as CryptoError).message).toBe("integrity error");
}

describe("records", () => {
  test("a record is header + ciphertext + tag, and the plaintext is not in it", () => {
    const [record] = sealAll(["hello, world"]);
    expect(record?.length).toBe(RECORD_HEADER_BYTES + 12 + RECORD_TAG_BYTES);
    expect(Buffer.from(record as Uint8Array).includes(Buffer.from("hello"))).toBe(false);
  });

  test("the same plaintext twice seals differently (the counter is the nonce)", () => {
    const [a, b] = sealAll(["same", "same"]);
    expect(Buffer.from(a as Uint8Array).equals(Buffer.from(b as Uint8Array))).toBe(false);
  });

  test("round trip of many records, split at every byte and coalesced", () => {
    const messages = ["", "a", "hello", "x".repeat(70_000), "☃😀"];
    const stream = concat(sealAll(messages));
    for (let cut = 0; cut <= stream.length; cut += cut < 200 ? 1 : 997) {
      const opener = new RecordOpener(KEY);
      const out = [...opener.push(stream.subarray(0, cut)), ...opener.push(stream.subarray(cut))];
      expect(out.map(str)).toEqual(messages);
      expect(opener.atRecordBoundary).toBe(true);
    }
  });

  test("one byte at a time", () => {
    const stream = concat(sealAll(["one", "two"]));
    const opener = new RecordOpener(KEY);
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...opener.push(stream.subarray(i, i + 1)));
    expect(out.map(str)).toEqual(["one", "two"]);
  });

  test("a flipped bit anywhere (header, ciphertext, tag) is an integrity error", () => {
    const [record] = sealAll(["attack at dawn"]);
    for (let i = 0; i < (record as Uint8Array).length; i++) {
      const bad = Uint8Array.from(record as Uint8Array);
      bad[i] = (bad[i] as number) ^ 0x01;
      const opener = new RecordOpener(KEY);
      // A flipped length may just make the record incomplete: then it must not open either.
      let opened: Uint8Array[] = [];
      try {
        opened = opener.push(bad);
      } catch (err) {
        expect((err as CryptoError).code).toBe("E_AUTH_FAILED");
        continue;
      }
      expect(opened).toEqual([]);
      expect(opener.atRecordBoundary).toBe(false);
    }
  });

  test("a replayed record is an integrity error", () => {
    const [first] = sealAll(["first"]);
    const opener = new RecordOpener(KEY);
    expect(opener.push(first as Uint8Array).map(str)).toEqual(["first"]);
    expectIntegrityError(() => opener.push(first as Uint8Array));
  });

  test("reordered records are an integrity error", () => {
    const [a, b] = sealAll(["a", "b"]);
    expectIntegrityError(() => new RecordOpener(KEY).push(concat([b as Uint8Array, a as Uint8Array])));
  });

  test("a dropped record is an integrity error at the next one", () => {
    const [, b] = sealAll(["a", "b"]);
    expectIntegrityError(() => new RecordOpener(KEY).push(b as Uint8Array));
  });

  test("the wrong key is an integrity error", () => {
    const [a] = sealAll(["a"], OTHER_KEY);
    expectIntegrityError(() => new RecordOpener(KEY).push(a as Uint8Array));
  });

  test("a truncated record is not delivered and leaves the opener mid-record", () => {
    const [a] = sealAll(["truncated"]);
    const opener = new RecordOpener(KEY);
    expect(opener.push((a as Uint8Array).subarray(0, (a as Uint8Array).length - 1))).toEqual([]);
    expect(opener.atRecordBoundary).toBe(false);
  });

  test("an impossible length is an integrity error as soon as the header arrives", () => {
    expectIntegrityError(() => new RecordOpener(KEY).push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)));
    expectIntegrityError(() => new RecordOpener(KEY).push(Uint8Array.of(0, 0, 0, 3)));
  });

  test("after an error every later push fails", () => {
    const opener = new RecordOpener(KEY);
    expectIntegrityError(() => opener.push(Uint8Array.of(0, 0, 0, 3)));
    const [ok] = sealAll(["fine"]);
    expectIntegrityError(() => opener.push(ok as Uint8Array));
  });
});

describe("plain records and the switch to sealed", () => {
  test("without a key, records are plain: length then payload", () => {
    const record = new RecordSealer().seal(text("hi"));
    expect(Buffer.from(record).toString("hex")).toBe("000000026869");
    expect(new RecordOpener().push(record).map(str)).toEqual(["hi"]);
  });

  test("a key set between two records of one chunk applies to the second", () => {
    const sealer = new RecordSealer();
    const plain = sealer.seal(text("last plain"));
    sealer.setKey(KEY);
    const sealed = sealer.seal(text("first sealed"));
    const opener = new RecordOpener();
    opener.feed(concat([plain, sealed]));
    expect(str(opener.next() as Uint8Array)).toBe("last plain");
    opener.setKey(KEY);
    expect(str(opener.next() as Uint8Array)).toBe("first sealed");
    expect(opener.next()).toBeUndefined();
  });

  test("a sealed record read as plain never yields the sender's plaintext", () => {
    const sealed = new RecordSealer(KEY).seal(text("secret"));
    const got = new RecordOpener().push(sealed);
    expect(got.some((r) => str(r).includes("secret"))).toBe(false);
  });

  test("a plain record where a sealed one is expected is an integrity error", () => {
    const plain = new RecordSealer().seal(text("not sealed at all, but long enough"));
    expectIntegrityError(() => new RecordOpener(KEY).push(plain));
  });
});

test("a destroyed opener holds nothing: next() gives undefined, not a crash (found by the fuzz test)", () => {
  const opener = new RecordOpener();
  opener.feed(concat(sealAll(["one", "two"], KEY).map(() => new RecordSealer().seal(text("plain")))));
  expect(str(opener.next() as Uint8Array)).toBe("plain");
  opener.destroy();
  expect(opener.next()).toBeUndefined();
});
