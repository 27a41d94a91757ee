/**
 * TransitPipe over a connection of reads of its own (freshChunks, as a socket's): each read is
 * released (its buffer detached) once its records are opened, a record split across reads
 * still opens whole, and nothing is released that is a view of someone else's buffer or comes
 * from a connection that does not say its reads are its own.
 */

import { expect, test } from "bun:test";
import { TransitRecordSealer, transitRecordKeys, wormholeTransitKey } from "../../src/crypto/transit-records.ts";
import type { Connection, ConnectionEvents } from "../../src/net/index.ts";
import { TransitPipe } from "../../src/session/transit-pipe.ts";

const TRANSIT_KEY = wormholeTransitKey(Uint8Array.from({ length: 32 }, (_, i) => i));

/** A connection whose reads the test hands over one by one. */
function fakeConnection(freshChunks: boolean) {
  let events: ConnectionEvents | undefined;
  const conn: Connection & { deliver(chunk: Uint8Array): void } = {
    remoteAddress: "127.0.0.1:1",
    queuedBytes: 0,
    closed: false,
    ...(freshChunks ? { freshChunks: true } : {}),
    write() {},
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
