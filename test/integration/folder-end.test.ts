/**
 * FOLDER_END (session 14), over real sockets on 127.0.0.1: a sender's `cancel` on a folder's entry
 * when every entry still open had been sent whole (END out, the receiver's answer awaited) used to
 * reach no live entry at the receiver, which then called the folder incomplete at the session's
 * end. The sender now tells the folder's end by its group to a receiver whose HELLO says
 * "folder-end", leaves the entries sent whole to the receiver's answers, and both sides count the
 * entries never offered. Old/new pairs both ways: a receiver without the feature gets what it got
 * before (a CANCEL for the entry, no unknown frame); a sender without it never sends FOLDER_END.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import {
  encodeDataHeader,
  encodeFrame,
  encodeMessage,
  Feature,
  type FolderEntry,
  FrameType,
  type Message,
  OWN_FEATURES,
} from "../../src/protocol/index.ts";
import type { TransferError } from "../../src/transfer/index.ts";
import { dataAndEnd, messagesOf, until as pollUntil, type RawParley, rawParley } from "../raw-parley.ts";
import { type Recorded, TestPeer, writeRandomFile } from "./peers.ts";

const ENTRIES = 20; // 16 offers in flight: 4 wait their turn
const OLD_FEATURES = OWN_FEATURES.filter((f) => f !== Feature.FolderEnd);

const peers: TestPeer[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
});

/** A raw peer that dials `target` with these HELLO features (authenticated, as the follower). */
async function rawPeer(target: TestPeer, features: readonly string[]): Promise<RawParley> {
  const raw = await rawParley(target.listener.port, { leader: false, words: target.codeWords, features });
  sockets.push(raw.socket);
  await target.waitForSession();
  return raw;
}

/**
 * FOLDER_END for `group` (E_CANCELLED "folder"), its bytes made here (tag 0x12 and the JSON body):
 * what a sender of this build sends (the unit tests pin encodeMessage to the same bytes).
 */
function folderEnd(group: number): Uint8Array {
  const body = JSON.stringify({ group, code: "E_CANCELLED", detail: "folder" });
  return encodeFrame(0x12 as never, new TextEncoder().encode(body));
}

/** A poll of 5 s for what this file's tests wait on. */
const until = <T>(what: string, get: () => T | undefined) => pollUntil(what, get, 1000);

/** Entries of folders ended on this side: finished, failed (an entry and its folderRest; a folderOnly failure, only those). */
function ended(p: TestPeer): number {
  let n = 0;
  for (const e of p.events) {
    if (e.type === "finished" && e.done.folder) n++;
    if (e.type === "failed" && e.info.folder) n += (e.info.folderOnly ? 0 : 1) + (e.info.folderRest ?? 0);
  }
  return n;
}

/**
 * `sender` sends photos/ (ENTRIES files of 10 bytes) to `raw`, which accepts every offer and
 * answers none: once the 16 in flight are sent whole, the test's `cancel` is typed on the 2nd.
 * @returns the ids offered (in order) and the ENDs
 */
async function allSentWholeThenCancel(sender: TestPeer, raw: RawParley) {
  const src = join(sender.dir, "src");
  mkdirSync(src);
  for (let i = 0; i < ENTRIES; i++) {
    const name = `f${String(i).padStart(2, "0")}.bin`;
    writeRandomFile(join(src, name), 10);
    const folder: FolderEntry = { group: 1, root: "photos", path: [name], entries: ENTRIES, bytes: 10 * ENTRIES };
    sender.session?.sendFile(join(src, name), folder);
  }
  const accepted = new Set<number>();
  const ends = await until("16 entries sent whole", () => {
    for (const m of messagesOf(raw)) {
      if (m.kind !== "offer" || accepted.has(m.id)) continue;
      accepted.add(m.id);
      raw.send(encodeMessage({ kind: "accept", id: m.id, offset: 0 }));
    }
    const ends = messagesOf(raw).filter((m) => m.kind === "end");
    return ends.length === 16 ? ends : undefined;
  });
  const offered = messagesOf(raw).flatMap((m) => (m.kind === "offer" ? [m.id] : []));
  expect(offered.length).toBe(16);
  expect(sender.session?.cancel(offered[1] as number)).toBe(true);
  return { offered, ends };
}

/** The receiver stores every entry sent whole: RECEIVED ok for each END. */
function answerAll(raw: RawParley, ends: Message[]): void {
  for (const e of ends)
    if (e.kind === "end") raw.send(encodeMessage({ kind: "received", id: e.id, bytes: e.bytes, ok: true }));
}

test("a sender's folder cancel with every open entry sent whole tells the receiver by FOLDER_END and waits for its answers", async () => {
  const sender = new TestPeer("sender", "xxh3");
  peers.push(sender);
  const raw = await rawPeer(sender, OWN_FEATURES);
  const { offered, ends } = await allSentWholeThenCancel(sender, raw);
  const end = await until("FOLDER_END", () => messagesOf(raw).find((m) => m.kind === "folderEnd"));
  expect(end).toEqual({ kind: "folderEnd", group: 1, code: "E_CANCELLED", detail: "folder" });
  // The four never offered fail here at once, said of the folder; no entry sent whole is cancelled.
  const own = await sender.waitFor("failed", (e) => e.info.folderOnly === true);
  expect(own.info).toMatchObject({ direction: "send", name: "photos", folderRest: ENTRIES - 16 });
  expect(messagesOf(raw).filter((m) => m.kind === "cancel")).toEqual([]);
  answerAll(raw, ends);
  await sender.waitUntil(() => ended(sender) >= ENTRIES);
  const done = sender.events.flatMap((e) => (e.type === "finished" ? [e.done.id] : []));
  expect(done.sort((x, y) => x - y)).toEqual([...offered].sort((x, y) => x - y));
  expect(ended(sender)).toBe(ENTRIES);
  expect(sender.session?.transferStatus).toEqual([]);
});

test("to an older receiver (no folder-end) the sender cancels as before: a CANCEL for the entry, no FOLDER_END", async () => {
  const sender = new TestPeer("sender", "xxh3");
  peers.push(sender);
  const raw = await rawPeer(sender, OLD_FEATURES);
  const { offered, ends } = await allSentWholeThenCancel(sender, raw);
  const cancel = await until("CANCEL", () => messagesOf(raw).find((m) => m.kind === "cancel"));
  expect(cancel).toEqual({ kind: "cancel", id: offered[1] as number, code: "E_CANCELLED", detail: "folder" });
  answerAll(raw, ends);
  await sender.waitUntil(() => ended(sender) >= ENTRIES);
  raw.send(encodeMessage({ kind: "chat", text: "still here" }));
  await sender.waitFor("chat", (e) => e.text === "still here");
  expect(raw.frames.some((f) => f.type === FrameType.FolderEnd)).toBe(false);
  const failed = sender.events.filter((e): e is Extract<Recorded, { type: "failed" }> => e.type === "failed");
  expect(failed.map((e) => [e.info.id, e.info.folderRest, e.info.folderOnly])).toEqual([
    [offered[1], ENTRIES - 16, undefined],
  ]);
});

/** A raw sender (an authenticated peer) offers `names` of photos/ (of `entries`), each 10 bytes, sent whole. */
async function rawSendsWhole(target: TestPeer, raw: RawParley, names: string[], entries: number) {
  const files = new Map<string, Buffer>();
  const folder = (name: string): FolderEntry => ({
    group: 1,
    root: "photos",
    path: [name],
    entries,
    bytes: 10 * entries,
  });
  for (const [i, name] of names.entries()) {
    const id = 2 * i + 1; // the dialer's ids are odd
    const bytes = Buffer.from(`${name}`.padEnd(10, "#"));
    files.set(name, bytes);
    raw.send(encodeMessage({ kind: "offer", id, name, size: 10, algo: "xxh3", folder: folder(name) }));
    await until(`ACCEPT ${id}`, () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === id));
    raw.send(dataAndEnd(id, bytes));
    await until(`RECEIVED ${id}`, () => messagesOf(raw).find((m) => m.kind === "received" && m.id === id));
  }
  expect(target.events.filter((e) => e.type === "finished").length).toBe(names.length);
  return files;
}

test("a receiver told FOLDER_END with every entry of it stored fails the folder's rest at once, not at the session's end", async () => {
  const receiver = new TestPeer("receiver", "xxh3");
  peers.push(receiver);
  const raw = await rawPeer(receiver, OWN_FEATURES);
  const files = await rawSendsWhole(receiver, raw, ["a.txt", "b.txt", "c.txt"], 5);
  raw.send(folderEnd(1));
  const failed = await receiver.waitFor("failed", (e) => e.info.folderOnly === true);
  expect(failed.info).toMatchObject({ id: 1, direction: "receive", name: "photos", folderRest: 2 });
  expect(ended(receiver)).toBe(5);
  // Told twice: nothing more (one of a folder never offered ends the connection: folder-end-review.test.ts).
  raw.send(folderEnd(1));
  raw.send(encodeMessage({ kind: "chat", text: "still here" }));
  await receiver.waitFor("chat", (e) => e.text === "still here");
  expect(ended(receiver)).toBe(5);
  // What arrived is stored byte for byte; the folder stays marked unfinished; a later entry is declined unsaid.
  const dir = join(receiver.dir, "photos");
  expect(readdirSync(dir).sort()).toEqual([".parley-unfinished", "a.txt", "b.txt", "c.txt"]);
  for (const [name, bytes] of files) expect(readFileSync(join(dir, name)).equals(bytes)).toBe(true);
  raw.send(
    encodeMessage({
      kind: "offer",
      id: 7,
      name: "d.txt",
      size: 10,
      algo: "xxh3",
      folder: { group: 1, root: "photos", path: ["d.txt"], entries: 5, bytes: 50 },
    }),
  );
  const reject = await until("REJECT 7", () => messagesOf(raw).find((m) => m.kind === "reject" && m.id === 7));
  expect(reject).toMatchObject({ code: "E_CANCELLED", detail: "folder" });
  expect(ended(receiver)).toBe(5);
  expect(receiver.session?.transferStatus).toEqual([]);
});

test("FOLDER_END with an entry still under way ends that entry, which carries the rest", async () => {
  const receiver = new TestPeer("receiver", "xxh3");
  peers.push(receiver);
  const raw = await rawPeer(receiver, OWN_FEATURES);
  await rawSendsWhole(receiver, raw, ["a.txt"], 4);
  const folder: FolderEntry = { group: 1, root: "photos", path: ["b.bin"], entries: 4, bytes: 40 };
  raw.send(encodeMessage({ kind: "offer", id: 3, name: "b.bin", size: 10, algo: "xxh3", folder }));
  await until("ACCEPT 3", () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === 3));
  raw.send(Buffer.concat([encodeDataHeader(3, 4), Buffer.from("half")]));
  raw.send(folderEnd(1));
  const failed = await receiver.waitFor("failed", (e) => e.info.id === 3);
  expect(failed.info.folderRest).toBe(2);
  expect(failed.info.folderOnly).toBeUndefined();
  expect(ended(receiver)).toBe(4);
  expect(readdirSync(join(receiver.dir, "photos")).sort()).toEqual([".parley-unfinished", "a.txt"]);
});

test("an older sender (no folder-end) cancels the folder with a CANCEL for an entry stored here: the folder ends as if told FOLDER_END", async () => {
  const receiver = new TestPeer("receiver", "xxh3");
  peers.push(receiver);
  const raw = await rawPeer(receiver, OLD_FEATURES);
  await rawSendsWhole(receiver, raw, ["a.txt", "b.txt", "c.txt"], 5);
  // A session-13 sender's cancel typed on b.txt once it was sent whole: a CANCEL for it, nothing else.
  raw.send(encodeMessage({ kind: "cancel", id: 3, code: "E_CANCELLED", detail: "folder" }));
  const failed = await receiver.waitFor("failed", (e) => e.info.folderOnly === true);
  expect(failed.info).toMatchObject({ id: 1, name: "photos", folderRest: 2 });
  // A plain CANCEL (no "folder") for a stored entry is still ignored.
  raw.send(encodeMessage({ kind: "cancel", id: 5, code: "E_CANCELLED" }));
  raw.send(encodeMessage({ kind: "chat", text: "still here" }));
  await receiver.waitFor("chat", (e) => e.text === "still here");
  expect(ended(receiver)).toBe(5);
  expect(receiver.events.filter((e) => e.type === "failed")).toHaveLength(1);
});

/** A sink that holds back every byte written until `release()`: an entry whose END came while its bytes are still on their way to the disk. */
class HeldBackSink {
  received = 0;
  backlog = 0;
  onFlushed?: () => void;
  onFailed?: (err: TransferError) => void;
  aborted = false;
  constructor(readonly name: string) {}
  write(bytes: Uint8Array): void {
    this.received += bytes.length;
    this.backlog += bytes.length;
  }
  release(): void {
    this.backlog = 0;
    this.onFlushed?.();
  }
  finish(trailer: { bytes: number; algo: string; digest: string }) {
    return {
      path: `/nowhere/photos/${this.name}`,
      bytes: trailer.bytes,
      algo: "xxh3" as const,
      digest: trailer.digest,
    };
  }
  abort(): void {
    this.aborted = true;
  }
}

test("FOLDER_END while an entry sent whole is still being written: that entry is stored and answered, the rest fail", async () => {
  let sink: HeldBackSink | undefined;
  const receiver = new TestPeer("receiver", "xxh3", {
    session: { openSink: (offer) => (sink = new HeldBackSink(offer.name)) },
  });
  peers.push(receiver);
  const raw = await rawPeer(receiver, OWN_FEATURES);
  const folder: FolderEntry = { group: 1, root: "photos", path: ["b.bin"], entries: 3, bytes: 30 };
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "b.bin", size: 10, algo: "xxh3", folder }));
  await until("ACCEPT 1", () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === 1));
  const bytes = Buffer.from("0123456789");
  raw.send(Buffer.concat([dataAndEnd(1, bytes), folderEnd(1)]));
  const failed = await receiver.waitFor("failed", (e) => e.info.folderOnly === true);
  expect(failed.info.folderRest).toBe(2);
  expect(sink?.aborted).toBe(false);
  sink?.release();
  const received = await until("RECEIVED 1", () => messagesOf(raw).find((m) => m.kind === "received" && m.id === 1));
  expect(received).toMatchObject({ ok: true, bytes: 10 });
  await receiver.waitFor("finished", (e) => e.done.id === 1);
  expect(ended(receiver)).toBe(3);
});
