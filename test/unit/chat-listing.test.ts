/**
 * The chat's `transfer <folder>` lists the folder a slice at a time (ChatWithPeer, walkFolderSoon).
 * When the session ends meanwhile (the peer left, the connection was lost) the process exits at
 * once, before the listing ends: the commands still waiting for it are said not sent then, not
 * after (when nothing would be left to print them).
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatWithPeer } from "../../src/cli/chat-connected.ts";
import type { Session } from "../../src/session/index.ts";
import type { Terminal } from "../../src/ui/terminal.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A terminal that keeps the lines printed (anything else it is asked does nothing). */
function recordingTerminal(lines: string[]): Terminal {
  const print = (line: string) => lines.push(line);
  return new Proxy({ print }, { get: (target, key) => (key === "print" ? target.print : () => {}) }) as never;
}

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
