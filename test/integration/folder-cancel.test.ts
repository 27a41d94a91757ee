/**
 * `cancel ID` on a folder's entry cancels the whole folder (two in-process peers on 127.0.0.1):
 * from the sending side and from the receiving side, during the folder's 2nd entry, the entries
 * under way end cancelled, the ones not offered yet are never offered, nothing is stored under a
 * final name but what had arrived whole, both sides count every entry (folderRest), and the
 * session goes on.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { type ControlFrame, encodeMessage, type FolderEntry, parseMessage } from "../../src/protocol/index.ts";
import { connectedPair, type Recorded, rawFollower, TestPeer, writeRandomFile } from "./peers.ts";

const ENTRIES = 24; // more than the 16 offers in flight: the last ones wait their turn
const ENTRY_BYTES = 1024 * 1024;

const peers: TestPeer[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
});

/** Sends `photos` (first.txt, then e02.bin...) from `a`; @returns its entries' names in order */
function sendFolder(a: TestPeer, group: number): string[] {
  const src = join(a.dir, "src");
  mkdirSync(src);
  const names = [
    "first.txt",
    ...Array.from({ length: ENTRIES - 1 }, (_, i) => `e${String(i + 2).padStart(2, "0")}.bin`),
  ];
  const sizes = names.map((_, i) => (i === 0 ? 10 : ENTRY_BYTES));
  const bytes = sizes.reduce((x, y) => x + y, 0);
  names.forEach((name, i) => {
    writeRandomFile(join(src, name), sizes[i] as number);
    const folder: FolderEntry = { group, root: "photos", path: [name], entries: ENTRIES, bytes };
    a.session?.sendFile(join(src, name), folder);
  });
  return names;
}

/** Entries of the folder ended on this side: finished, failed, and those never offered (folderRest). */
function ended(p: TestPeer): number {
  let n = 0;
  for (const e of p.events) {
    if (e.type === "finished" && e.done.folder) n++;
    if (e.type === "failed" && e.info.folder) n += 1 + (e.info.folderRest ?? 0);
  }
  return n;
}

function namesIn(events: Recorded[]): Set<string> {
  const names = new Set<string>();
  for (const e of events) {
    if (e.type === "started" || e.type === "failed") names.add(e.info.name);
    if (e.type === "finished") names.add(e.done.name);
  }
  return names;
}

async function cancelDuringSecond(side: "sender" | "receiver"): Promise<void> {
  const [a, b] = await connectedPair();
  peers.push(a, b);
  const canceller = side === "sender" ? a : b;
  let cancelledId: number | undefined;
  let secondId: number | undefined;
  a.onProgress = (info) => {
    if (info.name === "e02.bin") secondId = info.id;
  };
  canceller.onProgress = (info, bytes) => {
    if (side === "sender" && info.name === "e02.bin") secondId = info.id;
    if (cancelledId !== undefined || info.name !== "e02.bin" || bytes === 0) return;
    cancelledId = info.id;
    expect(canceller.session?.cancel(info.id)).toBe(true);
  };
  const names = sendFolder(a, 1);
  await a.waitFor("failed", () => ended(a) >= ENTRIES);
  await b.waitFor("failed", () => ended(b) >= ENTRIES);
  expect(cancelledId).toBe(secondId as number);
  // Every entry is counted once on each side: none left hanging, none counted twice.
  expect(ended(a)).toBe(ENTRIES);
  expect(ended(b)).toBe(ENTRIES);
  // The last entries were never offered (16 offers in flight, and one more once first.txt is
  // done): neither side saw them.
  expect(namesIn(a.events).size).toBeLessThanOrEqual(17);
  const late = names.slice(17);
  for (const p of [a, b]) for (const name of late) expect(namesIn(p.events).has(name)).toBe(false);
  // The one cancelled says so on both sides, with its whole folder.
  const mine = canceller.events.find((e) => e.type === "failed" && e.info.id === cancelledId);
  const theirs = (side === "sender" ? b : a).events.find((e) => e.type === "failed" && e.info.id === cancelledId);
  expect(mine).toBeDefined();
  expect(theirs).toBeDefined();
  // Nothing half-written under a final name: first.txt whole if it arrived, the marker (unfinished), no .part.
  const stored = readdirSync(join(b.dir, "photos")).sort();
  const allowed = new Set(["first.txt", ".parley-unfinished"]);
  for (const name of stored) expect(allowed.has(name)).toBe(true);
  expect(stored).toContain(".parley-unfinished");
  if (stored.includes("first.txt")) {
    expect(readFileSync(join(b.dir, "photos", "first.txt"))).toEqual(readFileSync(join(a.dir, "src", "first.txt")));
  }
  // The session goes on.
  a.session?.sendChat("still here");
  await b.waitFor("chat", (e) => e.text === "still here");
  expect(b.session?.transferStatus).toEqual([]);
  expect(a.session?.transferStatus).toEqual([]);
}

test("the sender's cancel during a folder's 2nd entry stops the whole folder on both sides", async () => {
  await cancelDuringSecond("sender");
}, 30_000);

test("the receiver's cancel during a folder's 2nd entry stops the whole folder on both sides", async () => {
  await cancelDuringSecond("receiver");
}, 30_000);

test("an older sender that ignores the folder's cancel: its later entries are declined unsaid, nothing stored", async () => {
  const target = new TestPeer("target");
  peers.push(target);
  const raw = await rawFollower(target);
  sockets.push(raw.socket);
  const folder = (name: string): FolderEntry => ({ group: 1, root: "photos", path: [name], entries: 5, bytes: 50 });
  const offer = (id: number, name: string) =>
    raw.send(encodeMessage({ kind: "offer", id, name, size: 10, algo: "xxh3", folder: folder(name) }));
  // The raw peer dialed: its ids are odd. Three entries offered, the 2nd (id 3) cancelled here.
  for (const [id, name] of [
    [1, "a.bin"],
    [3, "b.bin"],
    [5, "c.bin"],
  ] as const)
    offer(id, name);
  await target.waitFor("started", (e) => e.info.id === 5);
  expect(target.session?.cancel(3)).toBe(true);
  // It goes on as an older sender would: the folder's last two entries.
  offer(7, "d.bin");
  offer(9, "e.bin");
  const said = async (id: number) => {
    for (let i = 0; i < 500; i++) {
      for (const f of raw.frames) {
        const m = f.type === undefined ? undefined : tryParse(f as ControlFrame);
        if (m && "id" in m && m.id === id && (m.kind === "cancel" || m.kind === "reject")) return m;
      }
      await Bun.sleep(10);
    }
    throw new Error(`nothing said about ${id}`);
  };
  for (const id of [1, 3, 5])
    expect(await said(id)).toMatchObject({ kind: "cancel", code: "E_CANCELLED", detail: "folder" });
  for (const id of [7, 9])
    expect(await said(id)).toMatchObject({ kind: "reject", code: "E_CANCELLED", detail: "folder" });
  // Every entry counted once: the three cancelled, the two never offered then (folderRest).
  const failed = target.events.filter((e) => e.type === "failed");
  expect(failed.map((e) => (e.type === "failed" ? 1 + (e.info.folderRest ?? 0) : 0)).reduce((x, y) => x + y, 0)).toBe(
    5,
  );
  expect(readdirSync(join(target.dir, "photos"))).toEqual([".parley-unfinished"]);
  raw.send(encodeMessage({ kind: "chat", text: "still here" }));
  await target.waitFor("chat", (e) => e.text === "still here");
});

function tryParse(frame: ControlFrame): ReturnType<typeof parseMessage> | undefined {
  try {
    return parseMessage(frame);
  } catch {
    return undefined;
  }
}

test("the sender's folder cancel leaves an entry it has sent whole (END out) to the receiver's answer: stored there, done here", async () => {
  const sender = new TestPeer("sender");
  peers.push(sender);
  const raw = await rawFollower(sender);
  sockets.push(raw.socket);
  const src = join(sender.dir, "src");
  mkdirSync(src);
  const names = ["a.txt", "b.bin", "c.bin"];
  for (const name of names) {
    writeRandomFile(join(src, name), 10);
    const folder: FolderEntry = { group: 1, root: "photos", path: [name], entries: 3, bytes: 30 };
    sender.session?.sendFile(join(src, name), folder);
  }
  const messages = () => raw.frames.flatMap((f) => (f.type === undefined ? [] : [tryParse(f as ControlFrame)]));
  const said = async (pred: (m: NonNullable<ReturnType<typeof tryParse>>) => boolean) => {
    for (let i = 0; i < 500; i++) {
      const hit = messages().find((m) => m !== undefined && pred(m));
      if (hit) return hit;
      await Bun.sleep(10);
    }
    throw new Error("not said");
  };
  const offerOf = async (name: string) => {
    const m = await said((m) => m.kind === "offer" && m.name === name);
    return (m as { id: number }).id;
  };
  const [a, b, c] = [await offerOf("a.txt"), await offerOf("b.bin"), await offerOf("c.bin")];
  // a.txt accepted and sent whole (its END is out); b.bin and c.bin wait for an answer.
  raw.send(encodeMessage({ kind: "accept", id: a, offset: 0 }));
  await said((m) => m.kind === "end" && m.id === a);
  expect(sender.session?.cancel(b)).toBe(true);
  // The receiver had stored a.txt when the cancel came: it says so.
  raw.send(encodeMessage({ kind: "received", id: a, bytes: 10, ok: true }));
  await sender.waitUntil(() => ended(sender) >= 3);
  expect(sender.events.some((e) => e.type === "finished" && e.done.id === a)).toBe(true);
  expect(sender.events.some((e) => e.type === "failed" && e.info.id === a)).toBe(false);
  for (const id of [b, c]) {
    expect(await said((m) => m.kind === "cancel" && m.id === id)).toMatchObject({
      code: "E_CANCELLED",
      detail: "folder",
    });
  }
  expect(messages().some((m) => m?.kind === "cancel" && m.id === a)).toBe(false);
  expect(ended(sender)).toBe(3);
});

for (const side of ["sender", "receiver"] as const)
  test(`a folder cancelled whole (by the ${side}) lets go of its folder at once: sent again in the same session, it is taken up again`, async () => {
    const [a, b] = await connectedPair();
    peers.push(a, b);
    let cancelled = false;
    const canceller = side === "sender" ? a : b;
    canceller.onProgress = (info, bytes) => {
      if (cancelled || info.name !== "e02.bin" || bytes === 0) return;
      cancelled = true;
      canceller.session?.cancel(info.id);
    };
    const names = sendFolder(a, 1);
    await a.waitUntil(() => ended(a) >= ENTRIES);
    await b.waitUntil(() => ended(b) >= ENTRIES);
    // The same folder again (a new transfer of it): into photos/, not beside it.
    const bytes = (ENTRIES - 1) * ENTRY_BYTES + 10;
    for (const name of names) {
      const folder: FolderEntry = { group: 2, root: "photos", path: [name], entries: ENTRIES, bytes };
      a.session?.sendFile(join(a.dir, "src", name), folder);
    }
    const again = (e: Recorded) => e.type === "finished" && e.done.folder?.group === 2;
    await b.waitUntil(() => b.events.filter(again).length >= ENTRIES, 30_000);
    expect(readdirSync(b.dir)).toEqual(["photos"]);
    expect(readdirSync(join(b.dir, "photos")).sort()).toEqual([...names].sort());
  });
