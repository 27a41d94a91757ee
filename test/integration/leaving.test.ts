/**
 * LEAVING (session 28), over real sockets on 127.0.0.1: a side whose `exit` waits for transfers
 * under way tells a peer whose HELLO says "leaving" at once (its user saw nothing until the
 * transfer ended: new offers declined "the receiver is leaving", lines answered by no one). An
 * older peer (no such feature) gets no LEAVING (it would end the connection on an unknown tag),
 * and an exit with nothing under way says BYE alone. The receiving side emits peerLeaving.
 */

import { afterEach, expect, test } from "bun:test";
import type { Socket } from "node:net";
import { join } from "node:path";
import { encodeMessage, Feature, FrameType, OWN_FEATURES } from "../../src/protocol/index.ts";
import { messagesOf, until as pollUntil, type RawParley, rawParley } from "../raw-parley.ts";
import { TestPeer, writeRandomFile } from "./peers.ts";

const OLD_FEATURES = OWN_FEATURES.filter((f) => f !== Feature.Leaving);

const peers: TestPeer[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
});

/** A poll of 5 s for what this file's tests wait on. */
const until = <T>(what: string, get: () => T | undefined) => pollUntil(what, get, 1000);

/** A TestPeer dialed by a raw peer with these HELLO features (authenticated, as the follower). */
async function withRawPeer(features: readonly string[]): Promise<[TestPeer, RawParley]> {
  const peer = new TestPeer("alice", "xxh3");
  peers.push(peer);
  const raw = await rawParley(peer.listener.port, { leader: false, words: peer.codeWords, features });
  sockets.push(raw.socket);
  await peer.waitForSession();
  return [peer, raw];
}

/** `peer` offers a file that `raw` never answers: a transfer under way that holds its exit. */
async function offerUnanswered(peer: TestPeer, raw: RawParley): Promise<void> {
  const src = join(peer.dir, "held.bin");
  writeRandomFile(src, 1000);
  peer.session?.sendFile(src);
  await until("OFFER", () => messagesOf(raw).find((m) => m.kind === "offer"));
}

test("exit with a transfer under way tells a peer that reads LEAVING at once, with BYE's word; BYE only once it ends", async () => {
  const [peer, raw] = await withRawPeer(OWN_FEATURES);
  await offerUnanswered(peer, raw);
  peer.session?.exit();
  const leaving = await until("LEAVING", () => messagesOf(raw).find((m) => m.kind === "leaving"));
  expect(leaving).toEqual({ kind: "leaving", reason: "exit" });
  expect(raw.frames.filter((f) => f.type === FrameType.Leaving)).toHaveLength(1);
  expect(messagesOf(raw).some((m) => m.kind === "bye")).toBe(false); // the offer still holds it
  const offer = messagesOf(raw).find((m) => m.kind === "offer");
  if (offer?.kind !== "offer") throw new Error("no offer");
  raw.send(encodeMessage({ kind: "reject", id: offer.id, code: "E_REJECTED" }));
  const bye = await until("BYE", () => messagesOf(raw).find((m) => m.kind === "bye"));
  expect(bye).toEqual({ kind: "bye", reason: "exit" });
});

test("to an older peer (no leaving feature) exit sends no LEAVING, which it would not know", async () => {
  const [peer, raw] = await withRawPeer(OLD_FEATURES);
  await offerUnanswered(peer, raw);
  peer.session?.exit();
  raw.send(encodeMessage({ kind: "chat", text: "still here" }));
  await peer.waitFor("chat", (e) => e.text === "still here");
  const offer = messagesOf(raw).find((m) => m.kind === "offer");
  if (offer?.kind !== "offer") throw new Error("no offer");
  raw.send(encodeMessage({ kind: "reject", id: offer.id, code: "E_REJECTED" }));
  await until("BYE", () => messagesOf(raw).find((m) => m.kind === "bye"));
  expect(raw.frames.some((f) => f.type === FrameType.Leaving)).toBe(false);
});

test("exit with nothing under way says BYE alone (no LEAVING)", async () => {
  const [peer, raw] = await withRawPeer(OWN_FEATURES);
  peer.session?.exit();
  await until("BYE", () => messagesOf(raw).find((m) => m.kind === "bye"));
  expect(raw.frames.some((f) => f.type === FrameType.Leaving)).toBe(false);
});

test("LEAVING from the peer is the session's peerLeaving event, and the session goes on until its BYE", async () => {
  const [peer, raw] = await withRawPeer(OWN_FEATURES);
  raw.send(encodeMessage({ kind: "chat", text: "before it" }));
  raw.send(encodeMessage({ kind: "leaving", reason: "exit" }));
  const event = await peer.waitFor("peerLeaving", () => true);
  expect(event).toEqual({ type: "peerLeaving", reason: "exit" });
  raw.send(encodeMessage({ kind: "bye", reason: "exit" }));
  await peer.waitFor("peerLeft", (e) => e.reason === "exit");
  expect(peer.events.filter((e) => e.type === "chat")).toEqual([{ type: "chat", text: "before it" }]);
});

test("a chat line after the peer's LEAVING (a Parley sends none) is not delivered: the first is told once, the rest dropped too", async () => {
  const [peer, raw] = await withRawPeer(OWN_FEATURES);
  raw.send(encodeMessage({ kind: "leaving", reason: "exit" }));
  await peer.waitFor("peerLeaving", () => true);
  for (let i = 0; i < 3; i++) raw.send(encodeMessage({ kind: "chat", text: `after it ${i}` }));
  raw.send(encodeMessage({ kind: "bye", reason: "exit" }));
  await peer.waitFor("peerLeft", (e) => e.reason === "exit");
  // Before (session 30's decision): each shown as the peer's line, under "sends no more lines".
  expect(peer.events.filter((e) => e.type === "chat")).toEqual([]);
  expect(peer.events.filter((e) => e.type === "chatAfterLeaving")).toHaveLength(1);
});

test("LEAVING sent again is told once: a peer's repeats are not a line each", async () => {
  const [peer, raw] = await withRawPeer(OWN_FEATURES);
  // Before: 200 LEAVING frames from a hand-made peer printed the chat's "is leaving" line 200 times.
  for (let i = 0; i < 5; i++) raw.send(encodeMessage({ kind: "leaving", reason: i === 0 ? "exit" : `again ${i}` }));
  raw.send(encodeMessage({ kind: "bye", reason: "exit" }));
  await peer.waitFor("peerLeft", (e) => e.reason === "exit");
  expect(peer.events.filter((e) => e.type === "peerLeaving")).toEqual([{ type: "peerLeaving", reason: "exit" }]);
});

/*
 * Session 30 (attack30) asked whether a peer's new offers after its LEAVING should be refused. No:
 * a real Parley offers after its own LEAVING whatever waited for a place when its user typed
 * `exit` (MAX_OUTGOING_TRANSFERS live, the rest queued, whole commands among them), and nothing on
 * the wire tells those from new ones. These two cases hold that reason and that answer.
 */
test("a real leaving Parley still offers what waited for a place: OFFERs come after its LEAVING", async () => {
  const [peer, raw] = await withRawPeer(OWN_FEATURES);
  for (let i = 0; i < 20; i++) {
    const src = join(peer.dir, `queued-${i}.bin`);
    writeRandomFile(src, 100);
    peer.session?.sendFile(src);
  }
  await until("16 OFFERs", () => (messagesOf(raw).filter((m) => m.kind === "offer").length >= 16 ? true : undefined));
  peer.session?.exit();
  await until("LEAVING", () => messagesOf(raw).find((m) => m.kind === "leaving"));
  for (const m of messagesOf(raw))
    if (m.kind === "offer") raw.send(encodeMessage({ kind: "reject", id: m.id, code: "E_REJECTED" }));
  // Each reject frees a place: the four that waited are offered now, behind the LEAVING.
  await until("20 OFFERs", () => (messagesOf(raw).filter((m) => m.kind === "offer").length === 20 ? true : undefined));
  const kinds = messagesOf(raw).map((m) => m.kind);
  expect(kinds.lastIndexOf("offer")).toBeGreaterThan(kinds.indexOf("leaving"));
  for (const m of messagesOf(raw).slice(kinds.indexOf("leaving"))) {
    if (m.kind === "offer") raw.send(encodeMessage({ kind: "reject", id: m.id, code: "E_REJECTED" }));
  }
  await until("BYE", () => messagesOf(raw).find((m) => m.kind === "bye"));
});

test("so an OFFER after the peer's LEAVING is taken as before (ACCEPT), not a protocol error", async () => {
  const [peer, raw] = await withRawPeer(OWN_FEATURES);
  raw.send(encodeMessage({ kind: "leaving", reason: "exit" }));
  await peer.waitFor("peerLeaving", () => true);
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "late.bin", size: 3, algo: "xxh3" }));
  const answer = await until("ACCEPT", () => messagesOf(raw).find((m) => m.kind === "accept" || m.kind === "reject"));
  expect(answer).toMatchObject({ kind: "accept", id: 1 });
});
