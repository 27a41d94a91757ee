/**
 * The receive low-water mark's pure parts: which mark for how many awaited bytes, setting it
 * only when it changes, giving up where it cannot be set, and what the record layer asks for:
 * never more than the bytes that complete the record in hand, 1 between records.
 */

import { expect, test } from "bun:test";
import { RECORD_HEADER_BYTES, RecordOpener, RecordSealer } from "../../src/crypto/record.ts";
import { SecureConnection } from "../../src/crypto/secure-connection.ts";
import type { Connection, ConnectionEvents } from "../../src/net/index.ts";
import {
  lowWaterMarkFor,
  MAX_LOW_WATER_BYTES,
  MIN_LOW_WATER_BYTES,
  ReceiveLowWater,
} from "../../src/net/receive-low-water.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 9);

test.each([
  [0, 1],
  [4, 1],
  [MIN_LOW_WATER_BYTES - 1, 1],
  [MIN_LOW_WATER_BYTES, MIN_LOW_WATER_BYTES],
  [262_173, 262_173],
  [MAX_LOW_WATER_BYTES + 1, MAX_LOW_WATER_BYTES],
  [Number.NaN, 1],
])("lowWaterMarkFor(%p) = %p", (awaited, mark) => {
  expect(lowWaterMarkFor(awaited)).toBe(mark);
});

test("the mark is set only when it changes", () => {
  const set: number[] = [];
  const lw = new ReceiveLowWater((bytes) => {
    set.push(bytes);
    return true;
  });
  for (const awaited of [4, 200_000, 200_000, 3, 2, 150_000, 150_000, 100, 0]) lw.expect(awaited);
  expect(set).toEqual([200_000, 1, 150_000, 1]);
  expect(lw.mark).toBe(1);
});

test("where the mark cannot be set it gives up silently and never tries again", () => {
  let calls = 0;
  const lw = new ReceiveLowWater(() => {
    calls++;
    return false;
  });
  lw.expect(200_000);
  lw.expect(300_000);
  lw.expect(1);
  expect(calls).toBe(1);
  expect(lw.mark).toBe(1);
});

test("bytesAwaited: the rest of the length field, then the rest of the record, at every split", () => {
  const record = new RecordSealer(KEY).seal(new Uint8Array(1000).fill(5));
  for (let cut = 0; cut <= record.length; cut++) {
    const opener = new RecordOpener(KEY);
    opener.feed(record.subarray(0, cut));
    const expected = cut < RECORD_HEADER_BYTES ? RECORD_HEADER_BYTES - cut : record.length - cut;
    if (cut < record.length) expect(opener.bytesAwaited).toBe(expected);
    else expect(opener.nextParts()?.[0]?.length).toBe(1000);
  }
});

/** An inner connection the test feeds by hand, recording what the record layer expects. */
class FedConnection implements Connection {
  readonly remoteAddress = "test";
  readonly queuedBytes = 0;
  closed = false;
  expected: number[] = [];
  events: ConnectionEvents | undefined;
  write() {}
  expectBytes(bytes: number) {
    this.expected.push(bytes);
  }
  end() {}
  destroy() {
    this.closed = true;
  }
  setEvents(events: ConnectionEvents) {
    this.events = events;
  }
}

test("the record layer never expects more than completes the record in hand (random splits)", () => {
  const sealer = new RecordSealer(KEY);
  const sizes = [262_153, 30, 9, 1_048_576, 0, 70_000, 5, 262_153, 262_153, 12];
  const records = sizes.map((n) => sealer.seal(new Uint8Array(n).fill(n & 0xff)).slice());
  const stream = new Uint8Array(records.reduce((s, r) => s + r.length, 0));
  const ends: number[] = [];
  let at = 0;
  for (const r of records) {
    stream.set(r, at);
    at += r.length;
    ends.push(at);
  }
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 20; round++) {
    const inner = new FedConnection();
    const secure = new SecureConnection(inner);
    secure.startOpening(KEY);
    const got: number[] = [];
    secure.setEvents({ onData: (r) => got.push(r.length), onDrain() {}, onClose() {} });
    for (let fed = 0; fed < stream.length; ) {
      const n = Math.min(stream.length - fed, 1 + Math.floor(random() * (round % 2 ? 70_000 : 300)));
      inner.events?.onData(stream.subarray(fed, fed + n));
      fed += n;
      // What completes the record in hand (or its length field) from here.
      const next = ends.find((e) => e > fed);
      const recordStart = next === undefined ? fed : (ends[ends.indexOf(next) - 1] ?? 0);
      const headerLeft = Math.max(0, recordStart + RECORD_HEADER_BYTES - fed);
      const bound = next === undefined ? RECORD_HEADER_BYTES : headerLeft > 0 ? headerLeft : next - fed;
      expect(inner.expected.at(-1)).toBeLessThanOrEqual(bound);
      expect(inner.expected.at(-1)).toBeGreaterThan(0);
    }
    expect(got).toEqual(sizes);
  }
});
