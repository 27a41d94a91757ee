/**
 * FOLDER_END (session 14) attacked after it landed (review14), over real sockets on 127.0.0.1: a raw,
 * authenticated sender (test/raw-parley.ts) against a receiving session. What a sender of this
 * build sends, in the order it sends it, must leave every entry it sent whole to the receiver's
 * answer; what a hostile one sends out of place must end the connection with a clear error.
 */

import { afterEach, expect, test } from "bun:test";
import type { Socket } from "node:net";
import { encodeMessage, type FolderEntry, OWN_FEATURES } from "../../src/protocol/index.ts";
import { type RawParley, rawParley } from "../raw-parley.ts";
import { TestPeer } from "./peers.ts";

const peers: TestPeer[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
});

async function rawPeer(target: TestPeer): Promise<RawParley> {
  const raw = await rawParley(target.listener.port, { leader: false, words: target.codeWords, features: OWN_FEATURES });
  sockets.push(raw.socket);
  await target.waitForSession();
  return raw;
}

function folderEnd(group: number): Uint8Array {
  return encodeMessage({ kind: "folderEnd", group, code: "E_CANCELLED", detail: "folder" });
}

/** A receiver and a raw sender that has offered one plain file (id 1, held at the ask) and one folder entry (id 3, group 3). */
async function receiverWithOffers() {
  const receiver = new TestPeer("receiver", "xxh3", { session: { decideOffer: () => new Promise(() => {}) } });
  peers.push(receiver);
  const raw = await rawPeer(receiver);
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "plain.bin", size: 10, algo: "xxh3" }));
  const folder: FolderEntry = { group: 3, root: "photos", path: ["a.bin"], entries: 2, bytes: 20 };
  raw.send(encodeMessage({ kind: "offer", id: 3, name: "a.bin", size: 10, algo: "xxh3", folder }));
  raw.send(encodeMessage({ kind: "chat", text: "offered" }));
  await receiver.waitFor("chat", (e) => e.text === "offered");
  return { receiver, raw };
}

test.each([
  ["a group never offered", 99],
  ["a plain file's id", 1],
  ["an id of the receiver's own parity", 2],
])("FOLDER_END for %s ends the connection with a clear error", async (_what, group) => {
  const { receiver, raw } = await receiverWithOffers();
  raw.send(folderEnd(group));
  const lost = await receiver.waitFor("lost", () => true, 3000);
  expect(lost.reason).toContain("the peer broke the protocol");
  expect(lost.reason).toContain(`FOLDER_END for folder ${group}`);
});

test("FOLDER_END before any OFFER ends the connection with a clear error", async () => {
  const receiver = new TestPeer("receiver", "xxh3");
  peers.push(receiver);
  const raw = await rawPeer(receiver);
  raw.send(folderEnd(1));
  const lost = await receiver.waitFor("lost", () => true, 3000);
  expect(lost.reason).toContain("FOLDER_END for folder 1");
});
