/**
 * FrameChannel's turns (session/channel.ts TURN_MS): a session's frames handled past TURN_MS in
 * one turn of the event loop wait for the next, reading paused meanwhile, so the input is read in
 * between (a peer's flood of offers held Ctrl-C for as long as it went on: attack33). A
 * handshake's frames never wait: handling one may set the record key for the very next record,
 * which the record layer opens at once.
 */

import { expect, test } from "bun:test";
import type { Connection, ConnectionEvents } from "../../src/net/connection.ts";
import { encodeMessage, type Frame } from "../../src/protocol/index.ts";
import { type ChannelClose, FrameChannel, TURN_MS } from "../../src/session/channel.ts";

/** A connection that only hands in what the test pushes, and says whether its reading is paused. */
function pausable(): { conn: Connection; push: (bytes: Uint8Array) => void; paused: boolean[] } {
  let events: ConnectionEvents | undefined;
  const paused: boolean[] = [];
  const conn = {
    closed: false,
    setEvents: (e: ConnectionEvents) => {
      events = e;
    },
    pauseReading: (p: boolean) => paused.push(p),
    destroy: () => {},
  } as unknown as Connection;
  return { conn, push: (bytes) => events?.onData(bytes), paused };
}

const two = Buffer.concat([encodeMessage({ kind: "chat", text: "one" }), encodeMessage({ kind: "chat", text: "two" })]);
const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
};

test("a session's frames past TURN_MS in one turn wait for the next, reading paused, in order", async () => {
  const { conn, push, paused } = pausable();
  const handled: Frame[] = [];
  new FrameChannel(conn, "dialed").setOwner({
    waits: true,
    onFrame: (frame) => {
      handled.push(frame);
      busy(TURN_MS + 10); // a frame that costs more than a turn (lines at a slow terminal)
    },
    onDrain: () => {},
    onClose: () => {},
  });
  push(two);
  expect(handled.length).toBe(1);
  expect(paused).toEqual([true]);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  expect(handled.map((f) => new TextDecoder().decode(f.payload))).toEqual(["one", "two"]);
  expect(paused).toEqual([true, false]);
});

test("a handshake's frames never wait: the next record may need the key its frame sets", () => {
  const { conn, push, paused } = pausable();
  const handled: Frame[] = [];
  new FrameChannel(conn, "dialed").setOwner({
    onFrame: (frame) => {
      handled.push(frame);
      busy(TURN_MS + 10); // a key exchange on a loaded machine
    },
    onDrain: () => {},
    onClose: () => {},
  });
  push(two);
  expect(handled.length).toBe(2);
  expect(paused).toEqual([]);
});

test("bad bytes in a record after frames that wait fail the channel only once those frames are handled", async () => {
  let events: ConnectionEvents | undefined;
  const conn = {
    closed: false,
    setEvents: (e: ConnectionEvents) => {
      events = e;
    },
    pauseReading: () => {},
    destroy: () => {
      if (conn.closed) return;
      conn.closed = true;
      events?.onClose(undefined);
    },
  };
  const handled: string[] = [];
  const closes: ChannelClose[] = [];
  new FrameChannel(conn as unknown as Connection, "dialed").setOwner({
    waits: true,
    onFrame: (frame) => {
      handled.push(new TextDecoder().decode(frame.payload));
      if (handled.length === 1) busy(TURN_MS + 10);
    },
    onDrain: () => {},
    onClose: (why) => closes.push(why),
  });
  events?.onData(two); // "two" waits for the next turn
  events?.onData(Uint8Array.of(0, 0, 0, 1, 0xee)); // the next record: a frame of an unknown type
  expect(closes).toEqual([]);
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  expect(handled).toEqual(["one", "two"]);
  expect(closes.length).toBe(1);
  expect(closes[0]?.protocol?.code).toBe("E_UNKNOWN_TYPE");
});
