/**
 * The connection the transit race (net/transit.ts) hands over: every byte the peer sent after
 * the handshake reaches the next owner, in order, however late that owner sets its events, as
 * a SocketConnection holds what comes before its owner. Real sockets on 127.0.0.1; the peer is
 * a transit sender written by hand (its line, then "go", then its first bytes).
 */

import { afterEach, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { SecureConnection } from "../../src/crypto/secure-connection.ts";
import { type Connection, connectTransit, TransitListener, type TransitResult } from "../../src/net/index.ts";

const line = (text: string) => new TextEncoder().encode(text);
const SENDER = line("transit sender 0123 ready\n\n");
const RECEIVER = line("transit receiver 0123 ready\n\n");

const listeners: TransitListener[] = [];
const sockets: Socket[] = [];
const won: TransitResult[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop();
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of won.splice(0)) r.connection.destroy();
});

/**
 * Our side as the transit receiver, and a hand-made sender dialing our listener: it sends its
 * line, and once ours has come, `go` (with `withGo` in the same write).
 */
async function meet(withGo: Uint8Array = new Uint8Array(0)): Promise<{ met: TransitResult; peer: Socket }> {
  const listener = new TransitListener("127.0.0.1");
  listeners.push(listener);
  const ours = connectTransit(
    {
      role: "receiver",
      send: RECEIVER,
      expect: SENDER,
      relayHandshake: line("please relay 0123 for side 01\n"),
      direct: [],
      relays: [],
      relayDelayMs: 5_000,
      timeoutMs: 5_000,
    },
    listener,
  );
  const peer = connect({ port: listener.port, host: "127.0.0.1" }, () => peer.write(SENDER));
  sockets.push(peer);
  peer.on("error", () => {});
  let heard = Buffer.alloc(0);
  peer.on("data", (chunk: Buffer) => {
    const first = heard.length < RECEIVER.length;
    heard = Buffer.concat([heard, chunk]);
    if (first && heard.length >= RECEIVER.length) peer.write(Buffer.concat([Buffer.from("go\n"), withGo]));
  });
  const met = await ours;
  won.push(met);
  return { met, peer };
}

async function untilClosed(conn: Connection): Promise<void> {
  for (let i = 0; i < 1_000 && !conn.closed; i++) await Bun.sleep(5);
  expect(conn.closed, "the peer's close read").toBe(true);
}

/** What the owner gets once it sets its events: the bytes, and whether the close came after them. */
function attach(conn: Connection): { bytes: () => string; closedAfter: () => boolean } {
  const got: Uint8Array[] = [];
  let closedAfter = false;
  conn.setEvents({
    onData: (chunk) => got.push(chunk.slice()),
    onDrain: () => {},
    onClose: () => {
      closedAfter = true;
    },
  });
  return { bytes: () => Buffer.concat(got).toString(), closedAfter: () => closedAfter };
}

test("bytes the peer sends after go, before the owner sets its events, reach the owner", async () => {
  const { met, peer } = await meet();
  // The race is over; its owner is not there yet. The peer sends its first bytes and closes.
  peer.end("the first record");
  await untilClosed(met.connection);
  const owner = attach(met.connection);
  // Before: read by the race after it had won and dropped; the owner got the close alone.
  expect(owner.bytes()).toBe("the first record");
  expect(owner.closedAfter()).toBe(true);
});

test("a record that came with go reaches a record layer attached after the peer closed", async () => {
  // One plain record (u32 length, then its bytes), in the same write as go.
  const record = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from("hello")]);
  const { met, peer } = await meet(record);
  peer.end();
  await untilClosed(met.connection);
  const secure = new SecureConnection(met.connection);
  const owner = attach(secure);
  // Before: handed over while the connection already said closed, so the record layer dropped it.
  expect(owner.bytes()).toBe("hello");
  expect(owner.closedAfter()).toBe(true);
});

test("more than a MiB from the peer before the owner sets its events ends the connection: what is held is bounded", async () => {
  const { met, peer } = await meet();
  // The peer floods and stays open: the owner is late (or never comes). Before: every byte was held,
  // copied, for as long as the peer sent.
  peer.write(Buffer.alloc(4 * 1024 * 1024, 0x41));
  await untilClosed(met.connection);
  const owner = attach(met.connection);
  // As a SocketConnection's early bytes: what was held, then the close.
  expect(owner.bytes().length).toBeGreaterThan(1024 * 1024);
  expect(owner.bytes().length).toBeLessThanOrEqual(4 * 1024 * 1024);
  expect(owner.closedAfter()).toBe(true);
});
