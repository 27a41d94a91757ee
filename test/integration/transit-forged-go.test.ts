/**
 * A transit relay that forges the sender's "go" (net/transit.ts). The race's last word is not
 * authenticated: a relay that has passed the sender's line on to the receiver can send the
 * receiver a "go" of its own on the relayed connection. The receiver took the first "go" it read,
 * so while the sender's direct connection was still finishing its handshake the receiver took the
 * relay's and closed the direct one, the one the sender chose: both sessions failed (attack30,
 * read; attack31, run). Now a "go" on a relayed connection waits while a direct connection is still
 * in its handshake (the sender's "go" on it wins), until each such connection has closed (the
 * sender chose the relay: it closes the others) or DIRECT_GRACE_MS has passed.
 *
 * Real sockets on 127.0.0.1: both sides are connectTransit; the relays are written by hand, the
 * slow direct path is test/relay.ts's delaying proxy in front of the sender's listener.
 */

import { afterEach, expect, test } from "bun:test";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { opensFirstTransitRecord, TransitRecordSealer, transitRecordKeys } from "../../src/crypto/transit-records.ts";
import {
  type Connection,
  connectTransit,
  HELD_PROOF_BYTES,
  TransitListener,
  type TransitResult,
} from "../../src/net/index.ts";

const line = (text: string) => new TextEncoder().encode(text);
const SENDER = line("transit sender 0123 ready\n\n");
const RECEIVER = line("transit receiver 0123 ready\n\n");

const listeners: TransitListener[] = [];
const servers: Server[] = [];
const sockets: Socket[] = [];
const timers = new Set<ReturnType<typeof setTimeout>>();
const won: TransitResult[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop();
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
  for (const t of timers) clearTimeout(t);
  timers.clear();
  for (const r of won.splice(0)) r.connection.destroy();
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

/**
 * A slow path to `targetPort`: a proxy that holds each chunk, and each end of a connection (a
 * close or a reset, passed on as a close), `delayMs` each way. (test/relay.ts's passes on only
 * an orderly end: our sender's losing connections are reset.)
 */
async function slowPath(targetPort: number, delayMs: number): Promise<number> {
  const later = (f: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, delayMs);
    timers.add(t);
  };
  return listen(
    createServer((client) => {
      const up = netConnect(targetPort, "127.0.0.1");
      for (const [from, to] of [
        [client, up],
        [up, client],
      ] as const) {
        sockets.push(from);
        from.on("error", () => {});
        from.on("data", (chunk: Buffer) => later(() => to.write(chunk)));
        from.on("close", () => later(() => to.destroy()));
      }
    }),
  );
}

/**
 * A transit relay of the test's: it answers each "please relay ..." line with "ok" and pairs the
 * first two connections. Honest, it passes each side's bytes to the other. Forging, it passes on
 * only the sender's line (so the sender never hears the receiver this way and chooses its direct
 * connection) and follows it with a "go" of its own to the receiver.
 */
async function transitRelay(forge: boolean, after = ""): Promise<{ port: number; forged: () => boolean }> {
  const sides: Socket[] = [];
  const pending: Array<{ from: Socket; bytes: Buffer }> = [];
  let forged = false;
  const pass = (from: Socket, bytes: Buffer): void => {
    const to = sides.find((s) => s !== from);
    if (!to) return void pending.push({ from, bytes });
    if (!forge) return void to.write(bytes);
    if (bytes.toString().startsWith("transit sender")) {
      to.write(Buffer.concat([bytes, Buffer.from(`go\n${after}`)]));
      forged = true;
    }
  };
  const port = await listen(
    createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
      let asked = Buffer.alloc(0);
      let relaying = false;
      socket.on("data", (chunk: Buffer) => {
        if (relaying) return pass(socket, chunk);
        asked = Buffer.concat([asked, chunk]);
        const end = asked.indexOf("\n");
        if (end < 0) return;
        relaying = true;
        socket.write("ok\n");
        sides.push(socket);
        if (sides.length === 2) for (const p of pending.splice(0)) pass(p.from, p.bytes);
        const rest = asked.subarray(end + 1);
        if (rest.length > 0) pass(socket, rest);
      });
      socket.on("close", () => {
        for (const s of sides) if (s !== socket) s.destroy();
      });
    }),
  );
  return { port, forged: () => forged };
}

const plan = {
  send: SENDER,
  expect: RECEIVER,
  relayHandshake: line("please relay 0123 for side 01\n"),
  relayDelayMs: 0,
  timeoutMs: 10_000,
};

/**
 * The sender listens (direct hints only the receiver's); the receiver reaches it through a proxy
 * that holds each chunk `delayMs` each way (a slow direct path), and both know `relayPort`.
 */
async function race(
  relayPort: number,
  delayMs: number,
  directGraceMs?: number,
  proof: { senderRecord?: (bytes: Uint8Array) => boolean | undefined; senderWritesFirst?: boolean } = {},
): Promise<{ sender: TransitResult; receiver: TransitResult }> {
  const listener = new TransitListener("127.0.0.1");
  listeners.push(listener);
  const proxy = await slowPath(listener.port, delayMs);
  const relays = [{ host: "127.0.0.1", port: relayPort }];
  const grace = directGraceMs === undefined ? {} : { directGraceMs };
  const sender = connectTransit({ ...plan, role: "sender", direct: [], relays }, listener);
  const receiver = connectTransit({
    ...plan,
    role: "receiver",
    send: RECEIVER,
    expect: SENDER,
    direct: [{ host: "127.0.0.1", port: proxy }],
    relays,
    ...grace,
    ...proof,
  });
  // The sender writes its first record once it has chosen, as a real one does (wormhole's file
  // records, a Parley's HELLO): a receiver that waits for it (senderRecord) hears it then.
  const chosen = await sender;
  if (proof.senderRecord) chosen.connection.write(SEALED);
  const both = { sender: chosen, receiver: await receiver };
  won.push(both.sender, both.receiver);
  return both;
}

/** Record keys as a plain wormhole transfer's (any transit key will do): the sender's first record, and the receiver's check of it. */
const TRANSIT_KEY = new Uint8Array(32).fill(7);
const SEALED = new TransitRecordSealer(transitRecordKeys(TRANSIT_KEY, "sender").sendKey).seal(line("first record"));
const senderRecord = (bytes: Uint8Array) =>
  opensFirstTransitRecord(transitRecordKeys(TRANSIT_KEY, "receiver").receiveKey, bytes);

/** The first bytes `conn` hands its owner. */
function firstBytes(conn: Connection): Promise<string> {
  return new Promise((resolve, reject) => {
    conn.setEvents({
      onData: (chunk) => resolve(Buffer.from(chunk).toString()),
      onDrain: () => {},
      onClose: () => reject(new Error("closed before any byte")),
    });
  });
}

test("a relay's forged go does not take the receiver off the direct connection the sender chose", async () => {
  const relay = await transitRelay(true);
  const { sender, receiver } = await race(relay.port, 300);
  expect(relay.forged(), "the relay sent its go before the sender's came on the direct path").toBe(true);
  expect(sender.path).toBe("direct");
  expect(receiver.path, "the receiver took the relay's go").toBe("direct");
  const heard = firstBytes(receiver.connection);
  sender.connection.write(line("hello"));
  expect(await heard).toBe("hello");
});

test("a go on the relay the sender chose is taken once the direct connection closes, not after the grace", async () => {
  const relay = await transitRelay(false);
  // The direct path is slower than the relay: the sender chooses the relay and closes the
  // direct connection, which reaches the receiver a second later. A grace of a minute would
  // outlast the test: the close, not the time, ends the wait.
  const { sender, receiver } = await race(relay.port, 1_000, 60_000);
  expect(sender.path).toBe("relay");
  expect(receiver.path).toBe("relay");
  const heard = firstBytes(receiver.connection);
  sender.connection.write(line("hello"));
  expect(await heard).toBe("hello");
});

test.each([
  ["no record check", {}],
  // A Parley sender that does not lead writes nothing before the receiver's READY (mailbox-rendezvous).
  ["a record check and a sender that writes nothing first", { senderRecord }],
])("a go on the relay is taken after the grace while a direct connection never speaks: %s", async (_, proof) => {
  const relay = await transitRelay(false);
  // The receiver's direct hint is a server that takes the connection and says nothing.
  const silent = await listen(
    createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
    }),
  );
  const relays = [{ host: "127.0.0.1", port: relay.port }];
  const sender = connectTransit({ ...plan, role: "sender", direct: [], relays });
  const receiver = connectTransit({
    ...plan,
    role: "receiver",
    send: RECEIVER,
    expect: SENDER,
    direct: [{ host: "127.0.0.1", port: silent }],
    relays,
    directGraceMs: 200,
    ...proof,
  });
  const both = { sender: await sender, receiver: await receiver };
  won.push(both.sender, both.receiver);
  expect(both.receiver.path).toBe("relay");
  const heard = firstBytes(both.receiver.connection);
  both.sender.connection.write(line("hello"));
  expect(await heard).toBe("hello");
});

test("a go on the relay the sender chose is taken once the sender's sealed record follows it, before the direct connection closes", async () => {
  const relay = await transitRelay(false);
  // The direct path holds each chunk and its close 30 s: the sender chooses the relay and closes
  // the direct connection, whose close the receiver would hear only then (before: the wait).
  const { sender, receiver } = await race(relay.port, 30_000, 60_000, { senderRecord, senderWritesFirst: true });
  expect(sender.path).toBe("relay");
  expect(receiver.path).toBe("relay");
  // The record is the next owner's, whole (the record layer reads it).
  expect(Buffer.from(await firstBytes(receiver.connection), "latin1").length).toBeGreaterThan(0);
}, 10_000);

test("where the sender writes first, a forged go is not taken after the grace: the sender's go on the slow direct path wins", async () => {
  const relay = await transitRelay(true);
  // A grace far shorter than the direct path's round trip: before, the forged go was taken at its end.
  const { sender, receiver } = await race(relay.port, 300, 50, { senderRecord, senderWritesFirst: true });
  expect(relay.forged()).toBe(true);
  expect(sender.path).toBe("direct");
  expect(receiver.path, "the receiver took the relay's go").toBe("direct");
});

test("a forged go followed by bytes that are no sealed record is dropped at once, grace or not", async () => {
  // A record's length and 40 bytes of nothing: it does not open.
  const relay = await transitRelay(true, `\u0000\u0000\u0000\u0028${"x".repeat(40)}`);
  const { sender, receiver } = await race(relay.port, 300, 50, { senderRecord });
  expect(relay.forged()).toBe(true);
  expect(sender.path).toBe("direct");
  expect(receiver.path, "the receiver took the relay's go").toBe("direct");
});

test("where the sender writes first, a forged go followed by a huge record's length and junk is not taken after the grace", async () => {
  // A record length of 1 MiB (a transit record may be 64 MiB) and HELD_PROOF_BYTES and more of
  // nothing: the check cannot decide within what is read while the "go" is held. Before, the
  // grace then took the forged go (50 ms here), as if the sender might not write first.
  const junk = `\u0000\u0010\u0000\u0000${"x".repeat(HELD_PROOF_BYTES + 4096)}`;
  const relay = await transitRelay(true, junk);
  const { sender, receiver } = await race(relay.port, 300, 50, { senderRecord, senderWritesFirst: true });
  expect(relay.forged()).toBe(true);
  expect(sender.path).toBe("direct");
  expect(receiver.path, "the receiver took the relay's go").toBe("direct");
});
