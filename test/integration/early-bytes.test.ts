/**
 * Bytes that reach a connection before its owner takes it (a listener accepts before the
 * session code has loaded): the owner gets them in order, and the close after them, also when
 * the peer closed before the owner came (the connection reads as open while they are handed
 * over, as it was when they came); more than 1 MiB waiting ends the connection.
 * Real sockets on 127.0.0.1.
 */

import { afterEach, expect, test } from "bun:test";
import { connect } from "node:net";
import { type Listener, listen, type SocketConnection } from "../../src/net/index.ts";

const listeners: Listener[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop();
});

/** A listener whose first accepted connection the test gets, without taking it (no events set). */
function acceptOne(): { port: number; accepted: Promise<SocketConnection> } {
  let resolve: (conn: SocketConnection) => void = () => {};
  const accepted = new Promise<SocketConnection>((r) => {
    resolve = r;
  });
  const listener = listen("127.0.0.1", 0, (conn) => resolve(conn));
  listeners.push(listener);
  return { port: listener.port, accepted };
}

/** Sends `bytes` from a client socket, then ends it; resolves once the client's side is closed. */
function sendAndClose(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => s.end(bytes));
    s.on("close", () => resolve());
    s.on("error", () => resolve());
  });
}

async function untilClosed(conn: SocketConnection): Promise<void> {
  for (let i = 0; i < 500 && !conn.closed; i++) await Bun.sleep(2);
  expect(conn.closed).toBe(true);
}

test("a peer that sends and closes before the owner comes: the owner gets the bytes, then the close", async () => {
  const { port, accepted } = acceptOne();
  const sent = new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n");
  await sendAndClose(port, sent);
  const conn = await accepted;
  await untilClosed(conn);
  const seen: string[] = [];
  conn.setEvents({
    // As it came: the connection was open when these bytes arrived (layers above skip a closed one's).
    onData: (chunk) => seen.push(`data ${new TextDecoder().decode(chunk)} closed=${conn.closed}`),
    onDrain() {},
    onClose: () => seen.push(`close closed=${conn.closed}`),
  });
  expect(seen).toEqual([`data ${new TextDecoder().decode(sent)} closed=false`, "close closed=true"]);
});

test("an owner that destroys the connection on the first early chunk is given no more", async () => {
  const { port, accepted } = acceptOne();
  const sending = sendAndClose(port, new Uint8Array(900_000).fill(7));
  const conn = await accepted;
  await sending;
  await untilClosed(conn);
  let chunks = 0;
  let closes = 0;
  conn.setEvents({
    onData: () => {
      chunks++;
      conn.destroy();
    },
    onDrain() {},
    onClose: () => closes++,
  });
  expect(chunks).toBe(1);
  expect(closes).toBe(1);
});

test("more than 1 MiB waiting for an owner ends the connection", async () => {
  const { port, accepted } = acceptOne();
  void sendAndClose(port, new Uint8Array(4 * 1024 * 1024).fill(1));
  const conn = await accepted;
  await untilClosed(conn);
  let bytes = 0;
  let closed = false;
  conn.setEvents({
    onData: (chunk) => {
      bytes += chunk.length;
    },
    onDrain() {},
    onClose: () => {
      closed = true;
    },
  });
  expect(closed).toBe(true);
  expect(bytes).toBeGreaterThan(1024 * 1024);
  expect(bytes).toBeLessThan(4 * 1024 * 1024);
});
