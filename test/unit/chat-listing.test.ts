/**
 * The chat's `transfer <folder>` lists the folder a slice at a time (ChatWithPeer, walkFolderSoon).
 * When the session ends meanwhile (the peer left, the connection was lost) the process exits at
 * once, before the listing ends: the commands still waiting for it are said not sent then, not
 * after (when nothing would be left to print them). A listing over a second says how far it
 * got, then every 5 s (the chat's clock injected): while a directory's names are still read or
 * sorted, that, not "0 entries so far".
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatWithPeer } from "../../src/cli/chat-connected.ts";
import { listingWords } from "../../src/cli/listing-notes.ts";
import type { Session } from "../../src/session/index.ts";
import { recordingTerminal } from "./helpers.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder holding "album/a.jpg": the folder's path, and its parent's. */
function album(): { folder: string; parent: string } {
  const parent = mkdtempSync(join(tmpdir(), "parley-chat-listing-"));
  made.push(parent);
  const folder = join(parent, "album");
  mkdirSync(folder);
  closeSync(openSync(join(folder, "a.jpg"), "w"));
  return { folder, parent };
}

test("the session ending while a folder is listed says at once which commands were not sent, and only once", async () => {
  const { folder, parent } = album();
  const file = join(parent, "notes.txt");
  closeSync(openSync(file, "w"));
  const lines: string[] = [];
  const chat = new ChatWithPeer(recordingTerminal(lines));
  const session = { isOpen: true } as { isOpen: boolean };
  chat.startTransfers(session as unknown as Session, folder);
  chat.startTransfers(session as unknown as Session, file); // typed behind the listing: waits its turn
  session.isOpen = false;
  chat.sessionEnded();
  expect(lines).toEqual([
    `Not sent: transfer ${folder} (the session ended while a folder was being listed).`,
    `Not sent: transfer ${file} (the session ended while a folder was being listed).`,
  ]);
  await new Promise<void>((resolve) => chat.afterListing(resolve));
  expect(lines.filter((line) => line.startsWith("Not sent"))).toHaveLength(2);
});

test("transfers while a folder is listed names the commands waiting for it (not 'No transfers in progress')", async () => {
  const { folder } = album();
  const lines: string[] = [];
  const chat = new ChatWithPeer(recordingTerminal(lines));
  const fake = { isOpen: true, transferStatus: [] };
  const session = fake as unknown as Session;
  chat.startTransfers(session, folder);
  chat.listTransfers(session);
  expect(lines).toEqual([`transfer ${folder}: not offered yet (a folder is being listed)`]);
  fake.isOpen = false; // the listing then ends without planning (the fake session cannot send)
  chat.sessionEnded();
  await new Promise<void>((resolve) => chat.afterListing(resolve));
});

test("a wildcard's folder being read is said as that, not as a folder being listed (transfers, exit, the session's end)", async () => {
  const { folder, parent } = album();
  const file = join(parent, "notes.txt");
  closeSync(openSync(file, "w"));
  const lines: string[] = [];
  const chat = new ChatWithPeer(recordingTerminal(lines));
  const fake = { isOpen: true, transferStatus: [] };
  const session = fake as unknown as Session;
  chat.startTransfers(session, `${folder}/*.jpg`); // its folder is read off the chat's turn
  chat.startTransfers(session, file); // typed behind it: waits its turn
  chat.listTransfers(session);
  chat.afterListing(() => {});
  fake.isOpen = false;
  chat.sessionEnded();
  // Before: "(a folder is being listed)", "Waiting for the folder being listed ...": no folder was named.
  expect(lines).toEqual([
    `transfer ${folder}/*.jpg: not offered yet (a wildcard's folder is being read)`,
    `transfer ${file}: not offered yet (a wildcard's folder is being read)`,
    "Waiting for the names a wildcard matches to be offered before leaving...",
    `Not sent: transfer ${folder}/*.jpg (the session ended while a wildcard's folder was being read).`,
    `Not sent: transfer ${file} (the session ended while a wildcard's folder was being read).`,
  ]);
  await new Promise<void>((resolve) => chat.afterListing(resolve));
});

test("transfer typed while the session is leaving (exit waits for transfers) is refused at once, in one line", async () => {
  const { folder } = album();
  const lines: string[] = [];
  const chat = new ChatWithPeer(recordingTerminal(lines));
  const session = { isOpen: false, transferStatus: [] } as unknown as Session;
  chat.startTransfers(session, folder);
  // Not after listing the whole folder (a home folder: seconds), nor as if the session had closed meanwhile.
  expect(lines).toEqual(["Not sent: the session is closing."]);
  expect(chat.afterListing(() => {})).toBe(false); // nothing listed
});

test("a folder listed for over a second says so, then every 5 s (on the chat's own clock)", async () => {
  const { folder } = album();
  for (let i = 0; i < 150; i++) closeSync(openSync(join(folder, `f${i}`), "w"));
  // Each look at the clock is 100 ms later: the listing's 151 entries take about 30 s on it.
  let clock = 0;
  const tick = () => (clock += 100);
  const lines: string[] = [];
  const saidAt: number[] = [];
  const terminal = recordingTerminal(lines);
  const print = terminal.print.bind(terminal);
  terminal.print = (line: string) => {
    if (line.startsWith("Listing")) saidAt.push(clock);
    print(line);
  };
  const chat = new ChatWithPeer(terminal, tick);
  const send = () => {};
  const session = { isOpen: true, transferStatus: [], sendFile: send, sendEmptyDir: send } as unknown as Session;
  const started = clock;
  chat.startTransfers(session, folder);
  await new Promise<void>((resolve) => chat.afterListing(resolve));
  const notes = lines.filter((line) => line.startsWith("Listing"));
  expect(notes.length, lines.join("\n")).toBeGreaterThanOrEqual(4);
  const counts = notes.map((line) => {
    const m = /^Listing (.+): (\d+) entries so far \(chat goes on; the folder is offered once it is listed\)\.$/.exec(
      line,
    );
    expect(m?.[1], line).toBe(folder);
    return Number(m?.[2]);
  });
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
  expect(counts.at(-1)).toBeLessThanOrEqual(151);
  // The first once a second has gone by (not before), each next one 5 s after the one before (not sooner, nor much later).
  expect((saidAt[0] as number) - started).toBeGreaterThanOrEqual(1_000);
  expect((saidAt[0] as number) - started).toBeLessThan(1_500);
  for (let i = 1; i < saidAt.length; i++) {
    const gap = (saidAt[i] as number) - (saidAt[i - 1] as number);
    expect(gap).toBeGreaterThanOrEqual(5_000);
    expect(gap).toBeLessThan(5_500);
  }
});

test("while a folder's names are still read and sorted, the note says so, not '0 entries so far'", async () => {
  const { folder } = album();
  // 3,000 names in one directory: read in steps of 1,024 names, sorted in runs, before any entry is looked at.
  for (let i = 0; i < 2_999; i++) closeSync(openSync(join(folder, `f${i}`), "w"));
  let clock = 0;
  const lines: string[] = [];
  const chat = new ChatWithPeer(recordingTerminal(lines), () => (clock += 100));
  const send = () => {};
  const session = { isOpen: true, transferStatus: [], sendFile: send, sendEmptyDir: send } as unknown as Session;
  chat.startTransfers(session, folder);
  await new Promise<void>((resolve) => chat.afterListing(resolve));
  const notes = lines.filter((line) => line.startsWith("Listing"));
  const tail = " (chat goes on; the folder is offered once it is listed).";
  expect(notes[0], lines.join("\n")).toMatch(
    new RegExp(`^Listing ${folder}: (reading the names in ${folder}, \\d+ so far|sorting the 3000 names in ${folder})`),
  );
  expect(
    notes.some((line) => line.includes(": 0 entries so far")),
    notes.join("\n"),
  ).toBe(false);
  expect(notes.at(-1)).toMatch(new RegExp(`^Listing ${folder}: [1-9]\\d* entries so far \\(`));
  for (const line of notes) expect(line.endsWith(tail), line).toBe(true);
}, 30_000); // 3,000 files made and listed: past bun's 5 s at load 17 (f3d8ab3's run), 0.9-1 s idle

test("a listing's words: entries so far, or the names being read or sorted in which folder, after how many entries", () => {
  expect(listingWords("big", 12)).toBe("big: 12 entries so far");
  expect(listingWords("big", 0, { dir: "big", names: 3072, sorting: false })).toBe(
    "big: reading the names in big, 3072 so far",
  );
  expect(listingWords("big", 12, { dir: "big/raw", names: 5000, sorting: true })).toBe(
    "big: sorting the 5000 names in big/raw, after 12 entries",
  );
  expect(listingWords("b\x1big", 0, { dir: "b\x1big/r", names: 1, sorting: false })).not.toContain("\x1b");
});

test("transfers names a folder's entry with its folder, as the other lines do", () => {
  // Before: "#3 receiving a.jpg: ...", with nothing to tell which folder (or a file of that name) it was.
  const lines: string[] = [];
  const chat = new ChatWithPeer(recordingTerminal(lines));
  const folder = { group: 1, root: "photos", path: ["2024", "a.jpg"], entries: 9, bytes: 9 };
  const status = [
    { info: { id: 3, direction: "receive", name: "a.jpg", size: 1000, folder }, bytes: 250, checking: false },
    { info: { id: 4, direction: "send", name: "notes.txt", size: 10, folder: undefined }, bytes: 10, checking: false },
  ];
  chat.listTransfers({ transferStatus: status } as unknown as Session);
  expect(lines).toEqual([
    "#3 receiving photos/2024/a.jpg: 250 B of 1000 B (25%)",
    "#4 sending notes.txt: 10 B of 10 B (100%)",
  ]);
});
