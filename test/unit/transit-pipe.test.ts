/**
 * TransitPipe over a connection of reads of its own (freshChunks, as a socket's): each read is
 * released (its buffer detached) once its records are opened, a record split across reads
 * still opens whole, and nothing is released that is a view of someone else's buffer or comes
 * from a connection that does not say its reads are its own.
 */

import { expect, test } from "bun:test";
import {
  TRANSIT_RECORD_OVERHEAD,
  TransitRecordOpener,
  TransitRecordSealer,
  transitRecordKeys,
  wormholeTransitKey,
} from "../../src/crypto/transit-records.ts";
import type { Connection, ConnectionEvents } from "../../src/net/index.ts";
import { TransitPipe } from "../../src/session/transit-pipe.ts";

const TRANSIT_KEY = wormholeTransitKey(Uint8Array.from({ length: 32 }, (_, i) => i));

/** A connection whose reads the test hands over one by one; its writes are kept (as views). */
function fakeConnection(freshChunks: boolean) {
  let events: ConnectionEvents | undefined;
  const conn: Connection & {
    deliver(chunk: Uint8Array): void;
    writes: Uint8Array[];
    copies: Uint8Array[];
    queuedBytes: number;
  } = {
    remoteAddress: "127.0.0.1:1",
    queuedBytes: 0,
    closed: false,
    writes: [],
    copies: [],
    ...(freshChunks ? { freshChunks: true } : {}),
    write(bytes) {
      conn.writes.push(bytes);
      conn.copies.push(bytes.slice());
    },
    end() {},
    destroy() {},
    setEvents(e) {
      events = e;
    },
    deliver: (chunk) => events?.onData(chunk),
  };
  return conn;
}

/** The sender's records of `texts`, back to back. */
function wire(texts: string[]): Uint8Array {
  const sealer = new TransitRecordSealer(transitRecordKeys(TRANSIT_KEY, "sender").sendKey);
  return Buffer.concat(texts.map((t) => sealer.seal(new TextEncoder().encode(t))));
}

for (const joined of [false, true]) {
  test(`${joined ? "joined" : "record"} mode: each read of its own is released once opened; a split record opens whole`, () => {
    const conn = fakeConnection(true);
    const pipe = new TransitPipe(conn, TRANSIT_KEY, "receiver", "direct", "test");
    const got: string[] = [];
    pipe.start({ record: (r) => got.push(new TextDecoder().decode(r)), drained() {}, closed() {} }, joined);
    const bytes = wire(["first", "second"]);
    const one = Uint8Array.from(bytes.subarray(0, 60)); // "first" and the head of "second"
    const two = Uint8Array.from(bytes.subarray(60));
    conn.deliver(one);
    expect(one.buffer.detached).toBe(true);
    conn.deliver(two);
    expect(two.buffer.detached).toBe(true);
    expect(got.join("")).toBe("firstsecond");
  });
}

test("a view of a larger buffer, or a connection without fresh reads: never released", () => {
  const bytes = wire(["kept"]);
  const larger = new Uint8Array(bytes.length + 8);
  larger.set(bytes);
  const viewConn = fakeConnection(true);
  const got: string[] = [];
  new TransitPipe(viewConn, TRANSIT_KEY, "receiver", "direct", "test").start(
    { record: (r) => got.push(new TextDecoder().decode(r)), drained() {}, closed() {} },
    true,
  );
  viewConn.deliver(larger.subarray(0, bytes.length));
  expect(larger.buffer.detached).toBe(false);

  const plainConn = fakeConnection(false);
  new TransitPipe(plainConn, TRANSIT_KEY, "receiver", "direct", "test").start(
    { record: (r) => got.push(new TextDecoder().decode(r)), drained() {}, closed() {} },
    true,
  );
  const own = Uint8Array.from(bytes);
  plainConn.deliver(own);
  expect(own.buffer.detached).toBe(false);
  expect(got).toEqual(["kept", "kept"]);
});

test("send(plain, recordBytes): records of that size in one write, in one buffer reused while nothing is queued", () => {
  const conn = fakeConnection(true);
  const pipe = new TransitPipe(conn, TRANSIT_KEY, "sender", "direct", "test");
  pipe.start({ record() {}, drained() {}, closed() {} });
  const plain = Uint8Array.from({ length: 200 * 1024 }, (_, i) => i % 249);
  pipe.send(plain, 64 * 1024);
  pipe.send(plain.subarray(0, 1000), 64 * 1024);
  conn.queuedBytes = 5; // the connection now holds a view of what it wrote last
  pipe.send(plain.subarray(0, 10), 64 * 1024);
  const [first, second, third] = conn.writes as [Uint8Array, Uint8Array, Uint8Array];
  expect(conn.writes).toHaveLength(3);
  expect(first.length).toBe(plain.length + 4 * TRANSIT_RECORD_OVERHEAD);
  expect(second.buffer).toBe(first.buffer);
  expect(third.buffer).not.toBe(first.buffer);
  const opener = new TransitRecordOpener(transitRecordKeys(TRANSIT_KEY, "receiver").receiveKey);
  const records: number[] = [];
  const opened: Uint8Array[] = [];
  opener.push(conn.copies[0] as Uint8Array, (r) => {
    records.push(r.length);
    opened.push(Uint8Array.from(r));
  });
  expect(records).toEqual([65536, 65536, 65536, 8192]);
  expect(Buffer.concat(opened).equals(Buffer.from(plain))).toBe(true);
});
