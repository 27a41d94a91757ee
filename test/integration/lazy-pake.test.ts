/**
 * The PAKE code loads lazily (kept out of start-up). A handshake whose frames arrive before it
 * has loaded holds them and goes on once it is there; a BYE held that way still says why the
 * peer closed (issue 11.24). The loader is a gate the test opens, so both cases are reached
 * every time, with no sleep.
 */

import { afterEach, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { loadPake, RecordSealer } from "../../src/crypto/index.ts";
import { dial } from "../../src/net/index.ts";
import { encodeMessage, makeHello } from "../../src/protocol/index.ts";
import { Refusal } from "../../src/session/index.ts";
import { TestPeer } from "./peers.ts";

const peers: TestPeer[] = [];
const servers: Server[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
  for (const s of servers.splice(0)) s.close();
});

/** A loader that resolves when the test says so, and says when it was first asked. */
function gate(): { load: () => Promise<void>; asked: Promise<void>; open: () => void } {
  let open = (): void => {};
  let asked = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const askedPromise = new Promise<void>((resolve) => {
    asked = resolve;
  });
  return {
    // Once opened, the real module too: the gate holds frames, it does not stand in for the code.
    load: () => {
      asked();
      return opened.then(() => loadPake());
    },
    asked: askedPromise,
    open,
  };
}

test("frames that arrive before the PAKE code has loaded are held, and the handshake completes", async () => {
  const target = new TestPeer("target");
  const pake = gate();
  const dialer = new TestPeer("dialer", "sha256", { loadPake: pake.load });
  peers.push(target, dialer);
  const handshake = dialer.dialTo(target);
  await pake.asked; // the target's HELLO is in and held
  expect(dialer.session).toBeUndefined();
  pake.open();
  await handshake;
  await Promise.all([dialer.waitForSession(), target.waitForSession()]);
  expect(dialer.session?.security?.mode).toBe("code");
  dialer.session?.sendChat("hello after a lazy load");
  await target.waitFor("chat", (e) => e.text === "hello after a lazy load");
});

test("a refusal (HELLO, BYE, close) held while the PAKE code loads still says why", async () => {
  // A listener that answers our HELLO with its own HELLO and a BYE, then closes at once.
  let closedOnServer: () => void = () => {};
  const serverClosed = new Promise<void>((resolve) => {
    closedOnServer = resolve;
  });
  const server = createServer((socket: Socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      const sealer = new RecordSealer();
      const hello = encodeMessage(makeHello("0123456789abcdef", "strict", [], "listen"));
      socket.write(sealer.seal(hello));
      socket.end(sealer.seal(encodeMessage({ kind: "bye", reason: Refusal.CodeRequired })));
      socket.on("close", () => closedOnServer());
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const pake = gate();
  const dialer = new TestPeer("dialer", "sha256", { loadPake: pake.load });
  peers.push(dialer);
  const conn = await dial("127.0.0.1", port);
  const handshake = dialer.rendezvous.dialed(conn, "ribbon-walnut");
  await pake.asked;
  await serverClosed;
  // The close reaches the dialer while the frames are still held.
  for (let i = 0; i < 1000 && !conn.closed; i++) await new Promise((r) => setImmediate(r));
  expect(conn.closed).toBe(true);
  expect(dialer.events.filter((e) => e.type === "dropped")).toEqual([]);
  pake.open();
  await handshake;
  const dropped = await dialer.waitFor("dropped");
  expect(dropped.reason).toBe("the peer refused the connection (this listener needs its code, not just the port)");
});
