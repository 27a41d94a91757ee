/**
 * FOLDER_END (session 14) attacked after it landed (review14), over real sockets on 127.0.0.1: a raw,
 * authenticated sender (test/raw-parley.ts) against a receiving session. What a sender of this
 * build sends, in the order it sends it, must leave every entry it sent whole to the receiver's
 * answer; what a hostile one sends out of place must end the connection with a clear error.
 */

import { afterEach, expect, test } from "bun:test";
import { write as fsWrite, writeSync as fsWriteSync, readdirSync, readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import {
  type ControlFrame,
  encodeDataHeader,
  encodeFrame,
  encodeMessage,
  type FolderEntry,
  FrameType,
  type Message,
  OWN_FEATURES,
  parseMessage,
} from "../../src/protocol/index.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { FileReceiver } from "../../src/transfer/index.ts";
import type { FileWrites } from "../../src/transfer/write-behind.ts";
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

function messages(raw: RawParley): Message[] {
  return raw.frames.flatMap((f) => (f.type === FrameType.Data ? [] : [parseMessage(f as ControlFrame)]));
}

async function until<T>(what: string, get: () => T | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = get();
    if (v !== undefined) return v;
    await Bun.sleep(5);
  }
  throw new Error(`never: ${what}`);
}

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
  await until("ACCEPT 1", () => messages(raw).find((m) => m.kind === "accept" && m.id === 1));
  const bytes = Buffer.from("0123456789");
  const digest = createDigest("xxh3");
  digest.update(bytes);
  // What a sender of this build sends when `cancel` is typed once a.bin is sent whole: its END,
  // then (no entry left under way) FOLDER_END, in that order, here in one record.
  raw.send(
    Buffer.concat([
      encodeDataHeader(1, 10),
      bytes,
      encodeMessage({ kind: "end", id: 1, bytes: 10, algo: "xxh3", digest: digest.hex() }),
      folderEnd(1),
      encodeMessage({ kind: "chat", text: "after" }),
    ]),
  );
  await receiver.waitFor("chat", (e) => e.text === "after");
  expect(writes.held.length).toBeGreaterThan(0); // the case: END came while bytes were held
  writes.release();
  const received = await until("RECEIVED 1", () => messages(raw).find((m) => m.kind === "received" && m.id === 1));
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
