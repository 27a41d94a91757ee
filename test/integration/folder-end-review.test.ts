/**
 * FOLDER_END (session 14) attacked after it landed (review14), over real sockets on 127.0.0.1: a raw,
 * authenticated sender (test/raw-parley.ts) against a receiving session. What a sender of this
 * build sends, in the order it sends it, must leave every entry it sent whole to the receiver's
 * answer; what a hostile one sends out of place must end the connection with a clear error.
 */

import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import {
  write as fsWrite,
  writeSync as fsWriteSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import {
  encodeDataHeader,
  encodeFrame,
  encodeMessage,
  type FolderEntry,
  FrameType,
  OWN_FEATURES,
} from "../../src/protocol/index.ts";
import { FileReceiver, resumeTokenFor, UNFINISHED_MARKER, unfinishedMarkerText } from "../../src/transfer/index.ts";
import type { FileWrites } from "../../src/transfer/write-behind.ts";
import { dataAndEnd, messagesOf, until as pollUntil, type RawParley, rawParley } from "../raw-parley.ts";
import { markAsParleyPart, TestPeer } from "./peers.ts";

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

/** A poll of 5 s for what this file's tests wait on. */
const until = <T>(what: string, get: () => T | undefined) => pollUntil(what, get, 1000);

function folderEnd(group: number): Uint8Array {
  return encodeMessage({ kind: "folderEnd", group, code: "E_CANCELLED", detail: "folder" });
}

/**
 * File writes that go to the thread pool and are held there until `release()`: the receiver's
 * bytes are "on their way to the disk" (write-behind.ts) for as long as the test wants.
 */
function heldWrites() {
  const held: Array<() => void> = [];
  const io: FileWrites = {
    writeSync: (fd, bytes, offset, length, position) => fsWriteSync(fd, bytes, offset, length, position),
    write: (fd, bytes, offset, length, position, done) =>
      held.push(() => fsWrite(fd, bytes, offset, length, position, done)),
    now: () => performance.now(),
  };
  const release = () => {
    for (const run of held.splice(0)) run();
  };
  return { io, held, release };
}

test("FOLDER_END right behind an entry's END, its bytes still on their way to the disk: that entry is stored and answered, not cancelled", async () => {
  const writes = heldWrites();
  let dir = "";
  const receiver = new TestPeer("receiver", "xxh3", {
    session: {
      // Every write goes to the (held) pool: END finds bytes not yet in the file ("finishing").
      openSink: (offer, algo) =>
        FileReceiver.open(dir, offer.name, offer.id, offer.size, algo, {}, { writeBehind: writes.io, slowWriteMs: 0 }),
    },
  });
  dir = receiver.dir;
  peers.push(receiver);
  const raw = await rawPeer(receiver);
  const folder: FolderEntry = { group: 1, root: "photos", path: ["a.bin"], entries: 3, bytes: 30 };
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "a.bin", size: 10, algo: "xxh3", folder }));
  await until("ACCEPT 1", () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === 1));
  const bytes = Buffer.from("0123456789");
  // What a sender of this build sends when `cancel` is typed once a.bin is sent whole: its END,
  // then (no entry left under way) FOLDER_END, in that order, here in one record.
  raw.send(Buffer.concat([dataAndEnd(1, bytes), folderEnd(1), encodeMessage({ kind: "chat", text: "after" })]));
  await receiver.waitFor("chat", (e) => e.text === "after");
  expect(writes.held.length).toBeGreaterThan(0); // the case: END came while bytes were held
  writes.release();
  const received = await until("RECEIVED 1", () => messagesOf(raw).find((m) => m.kind === "received" && m.id === 1));
  expect(received).toMatchObject({ ok: true, bytes: 10 });
  expect(readFileSync(join(dir, "a.bin")).equals(bytes)).toBe(true);
  expect(readdirSync(dir).filter((n) => n.endsWith(".part"))).toEqual([]);
  // The two entries never offered fail with the folder; a.bin is not among the failures.
  await receiver.waitFor("failed", (e) => e.info.folderOnly === true && e.info.folderRest === 2);
  expect(receiver.events.filter((e) => e.type === "failed" && e.info.id === 1 && !e.info.folderOnly)).toEqual([]);
  expect(receiver.session?.transferStatus).toEqual([]);
}, 20_000);

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

/** A FOLDER_END frame (tag 0x12) around `body` as given, whatever it is. */
function folderEndBody(body: string): Uint8Array {
  return encodeFrame(FrameType.FolderEnd, new TextEncoder().encode(body));
}

test.each([
  ["group 0", '{"group":0,"code":"E_CANCELLED","detail":"folder"}'],
  ["a negative group", '{"group":-3,"code":"E_CANCELLED","detail":"folder"}'],
  ["a group past the largest id", '{"group":4294967297,"code":"E_CANCELLED","detail":"folder"}'],
  ["a group as text", '{"group":"3","code":"E_CANCELLED","detail":"folder"}'],
  ["no code", '{"group":3}'],
  ["a code that is a sentence", '{"group":3,"code":"you lost"}'],
  ["a detail with a path", '{"group":3,"code":"E_CANCELLED","detail":"/home/me"}'],
  ["a detail of 65 characters", `{"group":3,"code":"E_CANCELLED","detail":"${"x".repeat(65)}"}`],
  ["not JSON", "group=3"],
  ["a JSON list", "[3]"],
  ["a body past the control limit", `{"group":3,"code":"E_CANCELLED","pad":"${"x".repeat(16 * 1024)}"}`],
])(
  "a malformed FOLDER_END (%s) ends the connection with a clear error; nothing of the folder is touched",
  async (_what, body) => {
    const { receiver, raw } = await receiverWithOffers();
    raw.send(folderEndBody(body));
    const lost = await receiver.waitFor("lost", () => true, 3000);
    expect(lost.reason).toContain("the peer broke the protocol");
    // The two offers (held at the ask) end as the connection's, not as a folder's cancel.
    const failed = receiver.events.flatMap((e) => (e.type === "failed" ? [e.info] : []));
    expect(failed.map((i) => [i.id, i.folderRest, i.folderOnly])).toEqual([
      [1, undefined, undefined],
      [3, undefined, undefined],
    ]);
  },
);

/** Entries of folders ended on `p`'s side: finished, failed (an entry and its folderRest; a folderOnly failure, only those). */
function endedEntries(p: TestPeer): number {
  let n = 0;
  for (const e of p.events) {
    if (e.type === "finished" && e.done.folder) n++;
    if (e.type === "failed" && e.info.folder) n += (e.info.folderOnly ? 0 : 1) + (e.info.folderRest ?? 0);
  }
  return n;
}

test("a plain CANCEL of an entry under way, then FOLDER_END: each entry counted once, the folder let go, only the marker left", async () => {
  const receiver = new TestPeer("receiver", "xxh3");
  peers.push(receiver);
  const raw = await rawPeer(receiver);
  const folder: FolderEntry = { group: 1, root: "photos", path: ["a.bin"], entries: 3, bytes: 30 };
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "a.bin", size: 10, algo: "xxh3", folder }));
  await until("ACCEPT 1", () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === 1));
  raw.send(
    Buffer.concat([
      encodeDataHeader(1, 4),
      Buffer.from("half"),
      encodeMessage({ kind: "cancel", id: 1, code: "E_CANCELLED" }),
      folderEnd(1),
      folderEnd(1),
      encodeMessage({ kind: "chat", text: "after" }),
    ]),
  );
  await receiver.waitFor("chat", (e) => e.text === "after");
  expect(endedEntries(receiver)).toBe(3);
  const failed = receiver.events.flatMap((e) => (e.type === "failed" ? [e.info] : []));
  expect(failed.map((i) => [i.id, i.folderRest, i.folderOnly])).toEqual([
    [1, undefined, undefined],
    [1, 2, true],
  ]);
  expect(readdirSync(join(receiver.dir, "photos"))).toEqual([".parley-unfinished"]);
  expect(receiver.session?.transferStatus).toEqual([]);
  // Let go: the same folder sent again in this session is taken up (no "photos (1)").
  const again: FolderEntry = { group: 3, root: "photos", path: ["a.bin"], entries: 3, bytes: 30 };
  raw.send(encodeMessage({ kind: "offer", id: 3, name: "a.bin", size: 10, algo: "xxh3", folder: again }));
  await until("ACCEPT 3", () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === 3));
  expect(readdirSync(receiver.dir).filter((n) => n.startsWith("photos"))).toEqual(["photos"]);
});

test("the receiver's own folder cancel crossing the sender's FOLDER_END: each entry counted once, nothing more sent", async () => {
  const receiver = new TestPeer("receiver", "xxh3");
  peers.push(receiver);
  const raw = await rawPeer(receiver);
  const folder: FolderEntry = { group: 1, root: "photos", path: ["a.bin"], entries: 4, bytes: 40 };
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "a.bin", size: 10, algo: "xxh3", folder }));
  await until("ACCEPT 1", () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === 1));
  expect(receiver.session?.cancel(1)).toBe(true);
  await until("CANCEL 1", () => messagesOf(raw).find((m) => m.kind === "cancel" && m.id === 1));
  // The sender's own cancel crossed it: a CANCEL of the entry, then FOLDER_END.
  raw.send(
    Buffer.concat([
      encodeMessage({ kind: "cancel", id: 1, code: "E_CANCELLED", detail: "folder" }),
      folderEnd(1),
      encodeMessage({ kind: "chat", text: "after" }),
    ]),
  );
  await receiver.waitFor("chat", (e) => e.text === "after");
  expect(endedEntries(receiver)).toBe(4);
  expect(receiver.events.filter((e) => e.type === "lost")).toEqual([]);
  expect(
    messagesOf(raw).filter((m) => m.kind === "cancel" || m.kind === "reject" || m.kind === "received").length,
  ).toBe(1);
});

test("FOLDER_END while a folder taken up again is checking its copies: the stored copy and the earlier .part stay as they were", async () => {
  const receiver = new TestPeer("receiver", "xxh3");
  peers.push(receiver);
  const raw = await rawPeer(receiver);
  const KiB = 1024;
  const sizes = { "a.bin": 600 * KiB, "b.bin": 1500 * KiB, "c.bin": 300 * KiB };
  const bytes = 2400 * KiB;
  // What an interrupted first attempt left: a.bin whole, b.bin 700 KiB in its .part, the marker.
  const dir = join(receiver.dir, "photos");
  mkdirSync(dir);
  writeFileSync(
    join(dir, UNFINISHED_MARKER),
    unfinishedMarkerText({ group: 0, root: "photos", path: [], entries: 3, bytes }),
  );
  const a = randomBytes(sizes["a.bin"]);
  const bPart = randomBytes(700 * KiB);
  writeFileSync(join(dir, "a.bin"), a);
  markAsParleyPart(join(dir, "a.bin"), "/src/photos/a.bin");
  writeFileSync(join(dir, "b.bin.part"), bPart);
  markAsParleyPart(join(dir, "b.bin.part"), "/src/photos/b.bin");
  const offer = (id: number, name: "a.bin" | "b.bin") =>
    encodeMessage({
      kind: "offer",
      id,
      name,
      size: sizes[name],
      algo: "xxh3",
      token: resumeTokenFor(`/src/photos/${name}`),
      folder: { group: 1, root: "photos", path: [name], entries: 3, bytes },
    });
  // Both offers and, out of place (a sender of this build cancels each first), FOLDER_END at once.
  raw.send(Buffer.concat([offer(1, "a.bin"), offer(3, "b.bin"), folderEnd(1)]));
  raw.send(encodeMessage({ kind: "chat", text: "after" }));
  await receiver.waitFor("chat", (e) => e.text === "after");
  await receiver.waitUntil(() => endedEntries(receiver) >= 3);
  expect(endedEntries(receiver)).toBe(3);
  expect(receiver.events.filter((e) => e.type === "lost")).toEqual([]);
  expect(readdirSync(dir).sort()).toEqual([UNFINISHED_MARKER, "a.bin", "b.bin.part"]);
  expect(readFileSync(join(dir, "a.bin")).equals(a)).toBe(true);
  expect(readFileSync(join(dir, "b.bin.part")).equals(bPart)).toBe(true);
  // The case: both were taken up (a copy to check, a .part to resume) before FOLDER_END ended them.
  const started = receiver.events.flatMap((e) => (e.type === "started" ? [e.info.id] : []));
  expect(started).toEqual([1, 3]);
  expect(messagesOf(raw).filter((m) => m.kind === "reject")).toEqual([]);
  expect(receiver.session?.transferStatus).toEqual([]);
});
