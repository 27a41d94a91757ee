/**
 * The transit listener (net/transit.ts) holds at most MAX_HELD_CONNECTIONS open connections,
 * and at most MAX_HELD_SILENT_PER_HOST from one host that have not proven the key: when full,
 * the oldest such connection (of the newcomer's host first) is closed to make room, never the
 * newcomer, so a flood of idle connections cannot keep the peer out. The race is handed only
 * the ones held. Real sockets on 127.0.0.1 (and 127.0.0.2, loopback too on Linux).
 */

import { afterEach, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { connectTransit, type SocketConnection, type TransitResult } from "../../src/net/index.ts";
import { MAX_HELD_CONNECTIONS, MAX_HELD_SILENT_PER_HOST, TransitListener } from "../../src/net/transit.ts";

const listeners: TransitListener[] = [];
const clients: Socket[] = [];
const won: TransitResult[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop();
  for (const c of clients.splice(0)) c.destroy();
  for (const r of won.splice(0)) r.connection.destroy();
});

/**
 * A client from `from` that connects, sends 64 KiB of junk (bytes the race has not read yet)
 * unless `idle`, and records its close.
 */
function client(port: number, from = "127.0.0.1", idle = false): { socket: Socket; isClosed: () => boolean } {
  let done = false;
  const socket = connect({ port, host: "127.0.0.1", localAddress: from }, () => {
    if (!idle) socket.write(new Uint8Array(64 * 1024).fill(0x41));
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    done = true;
  });
  clients.push(socket);
  return { socket, isClosed: () => done };
}

async function until(what: () => boolean, label: string): Promise<void> {
  for (let i = 0; i < 1_000 && !what(); i++) await Bun.sleep(5);
  expect(what(), label).toBe(true);
}

test("idle connections: the oldest of a host make room past MAX_HELD_SILENT_PER_HOST, and the listener holds at most MAX_HELD_CONNECTIONS", async () => {
  const listener = new TransitListener("127.0.0.1");
  listeners.push(listener);
  const extra = 20;
  const one: ReturnType<typeof client>[] = [];
  // One at a time, so that which is oldest is known.
  for (let i = 0; i < MAX_HELD_SILENT_PER_HOST + extra; i++) {
    one.push(client(listener.port));
    await until(() => listener.heldCount + one.filter((c) => c.isClosed()).length === one.length, "accepted");
  }
  // The oldest ones are closed by the listener (their clients never close them).
  await until(() => one.filter((c) => c.isClosed()).length === extra, `${extra} closed`);
  expect(one.slice(0, extra).every((c) => c.isClosed())).toBe(true);
  expect(listener.heldCount).toBe(MAX_HELD_SILENT_PER_HOST);

  // Another host fills the rest of the places; its own oldest go past its share.
  const two = Array.from({ length: MAX_HELD_CONNECTIONS - MAX_HELD_SILENT_PER_HOST + 8 }, () =>
    client(listener.port, "127.0.0.2"),
  );
  await until(() => two.filter((c) => c.isClosed()).length === 8, "8 of the second host's closed");
  await until(() => listener.heldCount === MAX_HELD_CONNECTIONS, "the bound held");
  expect(one.filter((c) => c.isClosed())).toHaveLength(extra);

  // The race is handed what is held and still waiting: never more than the bound.
  const handed: SocketConnection[] = [];
  listener.onAccept((conn) => handed.push(conn));
  expect(handed).toHaveLength(MAX_HELD_CONNECTIONS);
  expect(handed.filter((c) => c.closed)).toEqual([]);
});

const line = (text: string) => new TextEncoder().encode(text);
const SENDER = line("transit sender 0123 ready\n\n");
const RECEIVER = line("transit receiver 0123 ready\n\n");
const plan = (role: "sender" | "receiver", direct: { host: string; port: number }[]) => ({
  role,
  send: role === "sender" ? SENDER : RECEIVER,
  expect: role === "sender" ? RECEIVER : SENDER,
  relayHandshake: line("please relay 0123 for side 01\n"),
  direct,
  relays: [],
  relayDelayMs: 5_000,
  timeoutMs: 5_000,
});

test("another user's 80 idle connections, made before the peer dials, do not keep the peer out", async () => {
  const listener = new TransitListener("127.0.0.1");
  listeners.push(listener);
  // Idle, as an attacker's are: junk would be read by the race and closed for it.
  const flood = Array.from({ length: 80 }, () => client(listener.port, "127.0.0.1", true));
  await until(() => listener.heldCount + flood.filter((c) => c.isClosed()).length === 80, "the flood accepted");
  const ours = connectTransit(plan("receiver", []), listener);
  // Before: every place was the flood's, the peer's dial was closed at once (E_NO_PATH on its
  // side) and ours waited out its time: "nothing connected within 5 s".
  const theirs = await connectTransit(plan("sender", [{ host: "127.0.0.1", port: listener.port }]));
  won.push(theirs);
  const met = await ours;
  won.push(met);
  expect(met.path).toBe("direct");
  expect(theirs.path).toBe("direct");
});

test("a connection that proved the key keeps its place: a flood after it closes only its own", async () => {
  const listener = new TransitListener("127.0.0.1");
  listeners.push(listener);
  // We are the receiver: the peer (a sender) sends its line, which proves the key, and then
  // its go only once the flood is in.
  const ours = connectTransit(plan("receiver", []), listener);
  const peer = client(listener.port, "127.0.0.1", true);
  peer.socket.once("connect", () => peer.socket.write(SENDER));
  const reply: Uint8Array[] = [];
  peer.socket.on("data", (chunk: Buffer) => reply.push(chunk));
  await until(() => listener.provenCount === 1, "its line read");
  expect(Buffer.concat(reply)).toEqual(Buffer.from(RECEIVER));
  // Idle: junk would be read by the race and closed for it, not for want of places.
  const flood = Array.from({ length: 2 * MAX_HELD_CONNECTIONS }, () => client(listener.port, "127.0.0.1", true));
  const closed = 2 * MAX_HELD_CONNECTIONS - MAX_HELD_SILENT_PER_HOST;
  await until(() => flood.filter((c) => c.isClosed()).length === closed, "the flood's oldest closed");
  expect(peer.isClosed()).toBe(false);
  peer.socket.write("go\n");
  const met = await ours;
  won.push(met);
  expect(met.path).toBe("direct");
});

test("the peer's dial that waits for our race (our hints out, theirs not in yet) keeps its place in a flood", async () => {
  // The peer's line, known once the key is: the listener judges waiting connections by it.
  const listener = new TransitListener("127.0.0.1", [SENDER]);
  listeners.push(listener);
  // The peer had our hints first: it dials and sends its line before our race starts.
  const theirs = connectTransit(plan("sender", [{ host: "127.0.0.1", port: listener.port }]));
  theirs.catch(() => {});
  // Bounded, and asserting nothing: a flood before its line is in would fail the meeting below.
  for (let i = 0; i < 200 && listener.provenCount === 0; i++) await Bun.sleep(5);
  const flood = Array.from({ length: 2 * MAX_HELD_CONNECTIONS }, () => client(listener.port, "127.0.0.1", true));
  const closed = 2 * MAX_HELD_CONNECTIONS - MAX_HELD_SILENT_PER_HOST + 1;
  // Before: the peer's connection, unproven while it waited, was the oldest of its host and went
  // first (its side E_NO_PATH); now only the flood's own go.
  await until(() => flood.filter((c) => c.isClosed()).length >= closed - 1, "the flood's oldest closed");
  const ours = connectTransit(plan("receiver", []), listener);
  won.push(await theirs);
  const met = await ours;
  won.push(met);
  expect(met.path).toBe("direct");
}, 15_000);
