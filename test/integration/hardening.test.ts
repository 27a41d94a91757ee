/**
 * Hostile or unlucky situations found in review: a peer that floods PINGs or OFFERs without
 * reading, bytes that arrive before anyone listens, Ctrl-C after `exit`, a peer that stops
 * reading while we leave, and a leader whose own dial goes nowhere.
 */

import { afterEach, expect, test } from "bun:test";
import type { Socket } from "node:net";
import { dial, listen } from "../../src/net/index.ts";
import { encodeFrame, encodeMessage, FrameType } from "../../src/protocol/index.ts";
import { MAX_INCOMING_TRANSFERS } from "../../src/session/index.ts";
import { type RawParley, rawParley } from "../raw-parley.ts";
import { connectedPair, rawFollower, TestPeer, writeRandomFile } from "./peers.ts";

const peers: TestPeer[] = [];
const sockets: Socket[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
  for (const c of cleanups.splice(0)) c();
});

/** An authenticated raw peer; `read: false` stops reading at once (the kernel buffers fill up). */
async function rawPeer(target: TestPeer, options: { read: boolean }): Promise<RawParley> {
  const raw = await rawFollower(target);
  sockets.push(raw.socket);
  if (!options.read) raw.stopReading();
  return raw;
}

test("a PING flood from a peer that does not read gets few PONGs, and memory stays bounded", async () => {
  const target = new TestPeer("target");
  peers.push(target);
  const raw = await rawPeer(target, { read: false });
  const ping = encodeMessage({ kind: "ping", token: new Uint8Array(8) });
  const burst = new Uint8Array(ping.length * 10_000);
  for (let i = 0; i < 10_000; i++) burst.set(ping, i * ping.length);
  // Memory kept, not garbage not yet collected: the suite runs every file in this one process,
  // and what earlier files or the flood's own frames leave for the collector is not the target's.
  Bun.gc(true);
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < 200; i++) raw.send(burst); // 2,000,000 PINGs, 26 MB
  await new Promise<void>((resolve) => raw.socket.write(new Uint8Array(0), () => resolve()));
  // Let the target read them all; it must still answer a chat line afterwards.
  const { frames } = raw;
  raw.startReading();
  raw.send(encodeMessage({ kind: "chat", text: "still there?" }));
  await target.waitFor("chat", (e) => e.text === "still there?", 30_000);
  const pongs = () => frames.filter((f) => f.type === FrameType.Pong).length;
  expect(pongs()).toBeLessThan(1_000_000); // one PONG waits at a time, the rest are coalesced
  Bun.gc(true);
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
}, 60_000);

test(`more than ${MAX_INCOMING_TRANSFERS} offers at once: the rest are declined`, async () => {
  const target = new TestPeer("target");
  peers.push(target);
  const raw = await rawPeer(target, { read: true });
  const { frames } = raw;
  const total = MAX_INCOMING_TRANSFERS + 6;
  for (let i = 0; i < total; i++) {
    // The raw peer dialed: its ids are odd.
    raw.send(encodeMessage({ kind: "offer", id: 2 * i + 1, name: `f${i}.bin`, size: 10, algo: "xxh3" }));
  }
  const deadline = Date.now() + 10_000;
  const count = (type: number) => frames.filter((f) => f.type === type).length;
  while (count(FrameType.Accept) + count(FrameType.Reject) < total && Date.now() < deadline) await Bun.sleep(10);
  expect(count(FrameType.Accept)).toBe(MAX_INCOMING_TRANSFERS);
  expect(count(FrameType.Reject)).toBe(6);
});

test("bytes that arrive before the handshake code listens are not lost", async () => {
  const a = new TestPeer("alice");
  const b = new TestPeer("bob");
  peers.push(a, b);
  const conn = await dial("127.0.0.1", b.listener.port);
  // Wait until b's HELLO is in, before anything reads the connection (no sleep: the case is reached).
  const early = () => (conn as unknown as { early?: Uint8Array[] }).early?.length ?? 0;
  for (let i = 0; i < 10_000 && early() === 0; i++) await new Promise((r) => setTimeout(r, 1));
  expect(early()).toBeGreaterThan(0);
  await a.rendezvous.dialed(conn, b.codeWords);
  await Promise.all([a.waitForSession(), b.waitForSession()]);
});

test("Ctrl-C after exit, during a transfer: one BYE, saying interrupted", async () => {
  const [a, b] = await connectedPair();
  peers.push(a, b);
  writeRandomFile(`${a.dir}/big.bin`, 64 << 20);
  a.session?.sendFile(`${a.dir}/big.bin`);
  await b.waitFor("started");
  a.session?.exit();
  a.session?.abort("interrupted");
  const left = await b.waitFor("peerLeft");
  expect(left.reason).toBe("interrupted");
  await a.waitFor("closed");
});

test("leaving when the peer has stopped reading still closes within about a second", async () => {
  const target = new TestPeer("target");
  peers.push(target);
  await rawPeer(target, { read: false });
  const line = "x".repeat(60_000);
  // 6 MB: more than the kernel buffers of a peer that never read (they grow only as it reads),
  // less than the 8 MiB of unsent control frames that would make us hang up on it.
  for (let i = 0; i < 100; i++) target.session?.sendChat(line);
  const started = Date.now();
  target.session?.abort("interrupted");
  await target.waitFor("closed", undefined, 5_000);
  expect(Date.now() - started).toBeLessThan(3_000);
});

test("a leader whose own dial hangs still takes the peer that connected to it", async () => {
  const a = new TestPeer("alice");
  const b = new TestPeer("bob");
  peers.push(a, b);
  // Force roles: a leads.
  (a.rendezvous as unknown as { nonce: string }).nonce = "ffffffffffffffff";
  (b.rendezvous as unknown as { nonce: string }).nonce = "0000000000000002";
  // A listener that accepts and then says nothing: a's dial there stays in its handshake.
  const silent = listen("127.0.0.1", 0, () => {});
  cleanups.push(() => silent.stop());
  const hanging = a.rendezvous.dialStarted("ribbon-walnut");
  // Connected and in its handshake before b dials (no sleep).
  void hanging(await dial("127.0.0.1", silent.port));
  const started = Date.now();
  await b.dialTo(a);
  await Promise.all([a.waitForSession(), b.waitForSession()]);
  expect(Date.now() - started).toBeLessThan(3_000);
});

// Before: the leader's wait for its own dial (pickTimer, DIAL_WAIT_MS) was cleared only when the
// leader picked; a session that started on a peer's READY left it to fire a second later, for nothing.
test("a session started on the peer's READY leaves no wait for a dial of ours behind", async () => {
  const a = new TestPeer("alice", "sha256", { allowPortOnly: true });
  const lower = new TestPeer("lower", "sha256", { allowPortOnly: true });
  const higher = new TestPeer("higher");
  peers.push(a, lower, higher);
  const nonce = (p: TestPeer, n: string): void => {
    (p.rendezvous as unknown as { nonce: string }).nonce = n;
  };
  nonce(lower, "0000000000000001");
  nonce(a, "8000000000000000");
  nonce(higher, "ffffffffffffffff");
  // The leader's wait for its dial (own-dials.ts), read from the rendezvous' own.
  const pickTimer = () => (a.rendezvous as unknown as { dials: { waitTimer?: unknown } }).dials.waitTimer;
  // a's own dial hangs in its handshake; an unverified peer a leads connects: a waits for its dial.
  const silent = listen("127.0.0.1", 0, () => {});
  cleanups.push(() => silent.stop());
  void a.rendezvous.dialStarted()(await dial("127.0.0.1", silent.port));
  void lower.dialTo(a, "");
  for (const end = Date.now() + 5_000; pickTimer() === undefined && Date.now() < end; ) await Bun.sleep(10);
  expect(pickTimer()).toBeDefined();
  // A verified peer that leads a displaces it and sends READY: the session starts on it.
  await higher.dialTo(a);
  await Promise.all([a.waitForSession(), higher.waitForSession()]);
  expect(a.session?.peer.nonce).toBe("ffffffffffffffff");
  expect(pickTimer()).toBeUndefined();
});

test("an oversized frame hidden behind a good one still ends only that connection", async () => {
  const target = new TestPeer("target");
  peers.push(target);
  const raw = await rawPeer(target, { read: true });
  const bad = encodeFrame(FrameType.Chat, new Uint8Array(0)).fill(0xff, 0, 4);
  raw.send(Buffer.concat([encodeMessage({ kind: "chat", text: "first" }), bad]));
  await target.waitFor("chat", (e) => e.text === "first");
  const lost = await target.waitFor("lost");
  expect(lost.reason).toContain("exceeds the limit");
});

test("parallel guessing: at most 3 wrong codes are ever judged, then nothing more is tried", async () => {
  const target = new TestPeer("target", "sha256", { codeWords: "ribbon-walnut" });
  peers.push(target);
  const guesses = ["abandon-zoo", "ability-zoo", "able-zoo", "about-zoo", "above-zoo", "absent-zoo"];
  const attempts = [];
  for (let round = 0; round < 3; round++) {
    // Bursts of parallel attempts, each a full handshake with a wrong code.
    attempts.push(
      ...guesses.map((words) =>
        rawParley(target.listener.port, { leader: false, words }).then(
          (raw) => raw.socket.destroy(),
          () => {},
        ),
      ),
    );
    await Promise.all(attempts);
  }
  const judged = target.events.filter((e) => e.type === "wrongCode");
  expect(judged.length).toBe(3);
  expect(target.session).toBeUndefined();
  // Even the right code is not judged any more at this listener.
  await rawParley(target.listener.port, { leader: false, words: "ribbon-walnut" }).then(
    () => {
      throw new Error("a session after three wrong codes");
    },
    () => {},
  );
  expect(target.session).toBeUndefined();
});

test("frames riding behind CONFIRM in its plain record end the connection; none of them is used", async () => {
  const target = new TestPeer("target", "sha256", { codeWords: "ribbon-walnut" });
  peers.push(target);
  const injected = encodeMessage({ kind: "chat", text: "INJECTED" });
  await rawParley(target.listener.port, { leader: false, words: "ribbon-walnut", appendToConfirm: injected }).then(
    (raw) => raw.socket.destroy(),
    () => {},
  );
  const dropped = await target.waitFor("dropped");
  expect(dropped.reason).toContain("data after the key confirmation");
  expect(target.session).toBeUndefined();
  expect(target.events.some((e) => e.type === "chat")).toBe(false);
});

test("a dialer that sends its share and leaves has spent a guess: three of those and nothing more is judged", async () => {
  const target = new TestPeer("target", "sha256", { codeWords: "ribbon-walnut" });
  peers.push(target);
  for (let i = 0; i < 3; i++) {
    await rawParley(target.listener.port, { leader: false, words: "abandon-zoo", closeAfterShare: true }).catch(
      () => {},
    );
    await target.waitFor("wrongCode", (e) => e.attempts === i + 1);
  }
  // The right code now gets nowhere: the listener judges no more guesses.
  const outcome = await rawParley(target.listener.port, { leader: false, words: "ribbon-walnut" }).then(
    () => "session",
    () => "refused",
  );
  expect(outcome).toBe("refused");
  expect(target.session).toBeUndefined();
});
