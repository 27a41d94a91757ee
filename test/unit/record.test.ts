/** Sealed records: round trips, splits, and every kind of tampering caught. */

import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { CryptoError } from "../../src/crypto/errors.ts";
import {
  opensFirstRecord,
  RECORD_HEADER_BYTES,
  RECORD_TAG_BYTES,
  RecordOpener,
  RecordSealer,
} from "../../src/crypto/record.ts";
import { SecureConnection } from "../../src/crypto/secure-connection.ts";
import { parleyWormholeKeys } from "../../src/crypto/wormhole-keys.ts";
import type { Connection, ConnectionEvents } from "../../src/net/index.ts";
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

  test("plain records (before keys) split anywhere, in three pieces, open whole", () => {
    const messages = ["a", "hello", "", "xyz".repeat(50)];
    const sealer = new RecordSealer();
    const stream = concat(messages.map((m) => sealer.seal(text(m))));
    for (let cut = 0; cut <= stream.length; cut++) {
      for (let cut2 = cut; cut2 <= Math.min(stream.length, cut + 9); cut2++) {
        const opener = new RecordOpener();
        const pieces = [stream.subarray(0, cut), stream.subarray(cut, cut2), stream.subarray(cut2)];
        expect(pieces.flatMap((p) => opener.push(p)).map(str)).toEqual(messages);
        expect(opener.atRecordBoundary).toBe(true);
      }
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

test("a destroyed opener wipes the bytes records were opened into", () => {
  const opener = new RecordOpener(KEY);
  opener.feed(concat(sealAll(["a line the opener must not keep", "x".repeat(70_000)])));
  const first = opener.next() as Uint8Array;
  expect(str(first)).toBe("a line the opener must not keep");
  const second = opener.next() as Uint8Array; // the same buffer, further
  expect(second.length).toBe(70_000);
  opener.destroy();
  expect(first.every((b) => b === 0)).toBe(true);
  expect(second.every((b) => b === 0)).toBe(true);
});

test("destroy writes no page of the opener's buffer that no record was opened into (a fresh process's page faults)", () => {
  // The buffer is 1 MiB: wiped whole, its untouched pages were faulted in (~256) at every
  // connection's end, the warm-up's at a transfer's start (docs/DESIGN-NOTES.md, session 33).
  const script = `
    const { RecordOpener, RecordSealer } = await import(${JSON.stringify(resolve(import.meta.dir, "../../src/crypto/record.ts"))});
    const key = new Uint8Array(32).fill(7);
    const opener = new RecordOpener(key);
    opener.feed(new RecordSealer(key).seal(new TextEncoder().encode("one short line")));
    opener.next();
    const before = process.resourceUsage().minorPageFault;
    opener.destroy();
    console.log(process.resourceUsage().minorPageFault - before);`;
  const run = Bun.spawnSync([process.execPath, "-e", script], { stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  expect(Number(run.stdout.toString().trim())).toBeLessThan(32);
});

describe("releasing read chunks", () => {
  /** `bytes` in a buffer of its own, as a socket read hands it over. */
  const own = (bytes: Uint8Array) => Uint8Array.from(bytes);

  test("a chunk fed whole is detached once its last byte is opened, not before", () => {
    const [a, b, c] = sealAll(["first", "second", "third"]) as [Uint8Array, Uint8Array, Uint8Array];
    const half = Math.floor(b.length / 2);
    const one = own(concat([a, b.subarray(0, half)]));
    const two = own(concat([b.subarray(half), c]));
    const opener = new RecordOpener(KEY);
    opener.releaseReadChunks();
    opener.feed(one);
    expect(str(opener.next() as Uint8Array)).toBe("first");
    expect(one.buffer.detached).toBe(false); // still holds the head of "second"
    expect(opener.next()).toBeUndefined();
    opener.feed(two);
    expect(str(opener.next() as Uint8Array)).toBe("second");
    expect(one.buffer.detached).toBe(true);
    expect(two.buffer.detached).toBe(false);
    expect(str(opener.next() as Uint8Array)).toBe("third");
    expect(two.buffer.detached).toBe(true);
  });

  test("a view into a larger buffer is never detached, nor anything without releaseReadChunks", () => {
    const [a, b] = sealAll(["in a view", "not released"]) as [Uint8Array, Uint8Array];
    const larger = new Uint8Array(a.length + 10);
    larger.set(a);
    const releasing = new RecordOpener(KEY);
    releasing.releaseReadChunks();
    releasing.feed(larger.subarray(0, a.length));
    expect(str(releasing.next() as Uint8Array)).toBe("in a view");
    expect(larger.buffer.detached).toBe(false);

    const keeping = new RecordOpener(KEY);
    const chunks = [own(a), own(b)];
    for (const chunk of chunks) keeping.feed(chunk);
    expect(keeping.push(new Uint8Array(0)).map(str)).toEqual(["in a view", "not released"]);
    expect(chunks.map((c) => c.buffer.detached)).toEqual([false, false]);
  });

  test("a plain record's pieces stay readable until the next record is asked for", () => {
    const record = new RecordSealer().seal(text("plain, in two chunks"));
    const one = own(record.subarray(0, 10));
    const two = own(record.subarray(10));
    const opener = new RecordOpener();
    opener.releaseReadChunks();
    opener.feed(one);
    opener.feed(two);
    const parts = opener.nextParts() as Uint8Array[];
    expect(str(concat(parts))).toBe("plain, in two chunks");
    expect([one.buffer.detached, two.buffer.detached]).toEqual([false, false]);
    expect(opener.nextParts()).toBeUndefined();
    expect([one.buffer.detached, two.buffer.detached]).toEqual([true, true]);
  });

  test("a record that does not open still releases what it read; destroy releases what was read", () => {
    const [a, b] = sealAll(["good", "bad"]) as [Uint8Array, Uint8Array];
    const bad = own(b);
    bad[RECORD_HEADER_BYTES] = (bad[RECORD_HEADER_BYTES] as number) ^ 1;
    const opener = new RecordOpener(KEY);
    opener.releaseReadChunks();
    const first = own(a);
    opener.feed(first);
    opener.feed(bad);
    expect(str(opener.next() as Uint8Array)).toBe("good");
    expectIntegrityError(() => opener.next());
    expect([first.buffer.detached, bad.buffer.detached]).toEqual([true, true]);

    const later = new RecordOpener();
    later.releaseReadChunks();
    const plain = new RecordSealer().seal(text("plain"));
    const read = own(plain);
    const unread = own(plain.subarray(0, 5));
    later.feed(read);
    later.feed(unread);
    expect(str(later.next() as Uint8Array)).toBe("plain");
    expect(read.buffer.detached).toBe(false); // the record handed out is a view of it
    later.destroy();
    expect(read.buffer.detached).toBe(true);
    expect(unread.buffer.detached).toBe(false); // never read to its end
  });
});

describe("SecureConnection and fresh chunks", () => {
  /** A connection that hands the test's chunks up as they are. */
  class FakeConnection implements Connection {
    readonly remoteAddress = "test";
    readonly queuedBytes = 0;
    readonly closed = false;
    events: ConnectionEvents | undefined;
    constructor(readonly freshChunks?: boolean) {}
    write(): void {}
    end(): void {}
    destroy(): void {}
    setEvents(events: ConnectionEvents): void {
      this.events = events;
    }
  }

  for (const fresh of [true, undefined]) {
    test(`a connection ${fresh ? "with" : "without"} freshChunks: its read chunks are ${fresh ? "" : "not "}released`, () => {
      const inner = new FakeConnection(fresh);
      const secure = new SecureConnection(inner);
      secure.startOpening(KEY);
      const got: string[] = [];
      secure.setEvents({ onData: (chunk) => got.push(str(chunk)), onDrain() {}, onClose() {} });
      const chunks = sealAll(["one", "two"]).map((r) => Uint8Array.from(r));
      for (const chunk of chunks) inner.events?.onData(chunk);
      expect(got).toEqual(["one", "two"]);
      expect(chunks.map((c) => c.buffer.detached)).toEqual([fresh === true, fresh === true]);
    });
  }
});

test("opensFirstRecord: a whole first record sealed with the key, not another key's, a later one's or a part of one", () => {
  const [first, second] = sealAll(["hello", "again"]) as [Uint8Array, Uint8Array];
  const both = concat([first, second]);
  expect(opensFirstRecord(KEY, both)).toBe(true);
  expect(opensFirstRecord(KEY, first)).toBe(true);
  expect(both).toEqual(concat(sealAll(["hello", "again"]))); // only read
  expect(opensFirstRecord(KEY, first.subarray(0, first.length - 1))).toBeUndefined();
  expect(opensFirstRecord(KEY, first.subarray(0, 2))).toBeUndefined();
  expect(opensFirstRecord(KEY, second)).toBe(false); // counter 1: not a first record
  expect(opensFirstRecord(OTHER_KEY, first)).toBe(false);
  expect(opensFirstRecord(KEY, Uint8Array.of(0, 0, 0, 3, 1, 2, 3))).toBe(false); // shorter than a tag
});

test("a Parley's first record on a mailbox's transit is what the receiver's opensFirstRecord takes (mailbox-rendezvous' keys)", () => {
  const written: Uint8Array[] = [];
  const inner: Connection = {
    remoteAddress: "test",
    queuedBytes: 0,
    closed: false,
    write: (bytes: Uint8Array) => void written.push(Uint8Array.from(bytes)),
    end() {},
    destroy() {},
    setEvents() {},
  };
  const mailboxKey = new Uint8Array(32).fill(5);
  const secure = new SecureConnection(inner);
  secure.startSealing(parleyWormholeKeys(mailboxKey, "sender").sendKey);
  secure.write(text("READY, the first frame a leading sender writes there"));
  secure.write(text("and then more"));
  const bytes = concat(written);
  expect(opensFirstRecord(parleyWormholeKeys(mailboxKey, "receiver").receiveKey, bytes)).toBe(true);
  // The sender's own receive key (the receiver's records) does not open it.
  expect(opensFirstRecord(parleyWormholeKeys(mailboxKey, "sender").receiveKey, bytes)).toBe(false);
});
