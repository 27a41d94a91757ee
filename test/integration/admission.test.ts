/**
 * Who gets in, over real sockets: the code is the only way in unless the listener allows the
 * port alone (issue 11.1); a verified candidate never loses to an unverified one (11.2); idle
 * connections cannot lock the real peer out (11.4); a stranger's BYE text never reaches the
 * user before the handshake is confirmed (11.8).
 */

import { afterEach, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { RecordSealer } from "../../src/crypto/index.ts";
import { encodeMessage, makeHello } from "../../src/protocol/index.ts";
import { startAttack } from "../attacks.ts";
import { rawParley } from "../raw-parley.ts";
import { TestPeer } from "./peers.ts";

const peers: TestPeer[] = [];
const sockets: Socket[] = [];
let flooding = false;
afterEach(() => {
  flooding = false;
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
});

test("the port alone is refused by default; allowed only when the listener turned it on", async () => {
  const strict = new TestPeer("strict");
  const lax = new TestPeer("lax", "sha256", { allowPortOnly: true });
  const dialer = new TestPeer("dialer");
  const dialer2 = new TestPeer("dialer2");
  peers.push(strict, lax, dialer, dialer2);
  await dialer.dialTo(strict, "");
  const refused = await strict.waitFor("dropped");
  expect(refused.reason).toBe("refused: the peer gave the port without the code (this listener needs it)");
  const told = await dialer.waitFor("dropped");
  expect(told.reason).toBe("the peer refused the connection (this listener needs its code, not just the port)");
  expect(strict.session).toBeUndefined();

  await dialer2.dialTo(lax, "");
  const session = await lax.waitForSession();
  expect(session.security?.mode).toBe("port");
});

test("a verified peer wins over an unverified one that got there first and holds back READY", async () => {
  const a = new TestPeer("alice", "sha256", { allowPortOnly: true });
  const b = new TestPeer("bob");
  peers.push(a, b);
  // The intruder leads (largest nonce) and never sends READY: a waits on it.
  const intruder = await rawParley(a.listener.port, { leader: true, holdReady: true });
  sockets.push(intruder.socket);
  await a.dialTo(b);
  const [sa, sb] = await Promise.all([a.waitForSession(), b.waitForSession()]);
  expect(sa.security?.mode).toBe("code");
  expect(sb.peer.name).toBe("alice");
  expect(sa.peer.name).toBe("bob");
  const dropped = await a.waitFor("dropped", (e) => e.reason.includes("verified"));
  expect(dropped.reason).toContain("this one was not verified");
});

/** Holds `count` connections that never send a byte, reopening each one the listener drops. */
function idleFlood(port: number, count: number): void {
  flooding = true;
  const open = (): void => {
    if (!flooding) return;
    const s = connect(port, "127.0.0.1");
    sockets.push(s);
    s.on("error", () => {});
    s.on("close", () => setImmediate(open));
  };
  for (let i = 0; i < count; i++) open();
}

test.each([16, 17, 80])(
  "%i idle connections (reopened when dropped) do not lock the real peer out",
  async (count) => {
    const target = new TestPeer("target");
    const real = new TestPeer("real");
    peers.push(target, real);
    idleFlood(target.listener.port, count);
    // Wait until the listener holds the whole flood (no sleep: counted on our side).
    for (let i = 0; i < 10_000 && sockets.filter((s) => s.readyState === "open").length < count; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(sockets.filter((s) => s.readyState === "open").length).toBeGreaterThanOrEqual(count);
    await real.dialTo(target);
    const session = await target.waitForSession();
    expect(session.peer.name).toBe("real");
    expect(session.security?.mode).toBe("code");
  },
  30_000,
);

test("HELLOs that never go on, from another address, do not push out a real peer that is mid-handshake (11.4)", async () => {
  const target = new TestPeer("target");
  peers.push(target);
  let release: () => void = () => {};
  let spoken: () => void = () => {};
  const hasSpoken = new Promise<void>((resolve) => (spoken = resolve));
  // The real peer has sent HELLO and holds back its share until the flood is in.
  const real = rawParley(target.listener.port, {
    leader: true,
    words: target.codeWords,
    beforeShare: () => {
      spoken();
      return new Promise((resolve) => (release = resolve));
    },
  });
  await hasSpoken;
  // 100 connections from 127.0.0.2 that say HELLO and never a share, reopened when dropped.
  const flood = startAttack("half", target.listener.port, 100, "127.0.0.2");
  try {
    for (let i = 0; i < 20_000 && flood.answered() < 150; i++) await new Promise((r) => setTimeout(r, 1));
    expect(flood.answered()).toBeGreaterThanOrEqual(150); // more HELLOs answered than there are places
    release();
    const raw = await real;
    sockets.push(raw.socket);
    const session = await target.waitForSession();
    expect(session.peer.name).toBe("raw");
  } finally {
    flood.stop();
  }
}, 30_000);

test("a stranger's HELLO then BYE: its text never reaches the user, only our words", async () => {
  const target = new TestPeer("target");
  peers.push(target);
  const s = connect(target.listener.port, "127.0.0.1");
  sockets.push(s);
  s.on("error", () => {});
  await new Promise<void>((resolve) => s.once("connect", () => resolve()));
  const sealer = new RecordSealer();
  const text = "NOTICE from Parley: the code changed, use 40999-evil-words";
  s.write(sealer.seal(encodeMessage(makeHello("0000000000000003", "x", [], "code"))));
  s.write(sealer.seal(encodeMessage({ kind: "bye", reason: text })));
  const dropped = await target.waitFor("dropped");
  expect(dropped.reason).not.toContain("NOTICE");
  expect(dropped.reason).not.toContain("evil");
  expect(dropped.reason).toBe("the peer refused the connection (its reason is not shown before it is verified)");
});
