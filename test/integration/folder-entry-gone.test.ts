/**
 * A folder entry deleted after the folder was handed to the session but before its turn to be
 * offered (at most MAX_OUTGOING_TRANSFERS entries are offered at once; a big folder's later
 * entries wait). The peer was promised the entry (the folder's count), so it must hear which
 * entry will not come and why, as it does for an entry gone before the hand-over: before, the
 * sender only failed it locally and the receiver was left with "1 never came".
 */

import { afterEach, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FolderEntry } from "../../src/protocol/index.ts";
import { MAX_OUTGOING_TRANSFERS } from "../../src/session/limits.ts";
import { connectedPair, type TestPeer } from "./peers.ts";

const peers: TestPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

/** The waiting folder's entry names (sendWaitingFolder). */
function entryNames(): string[] {
  return Array.from({ length: MAX_OUTGOING_TRANSFERS + 1 }, (_, i) => `f${String(i).padStart(2, "0")}.bin`);
}

/**
 * Hands alice's session a folder `d` of one entry more than are offered at once
 * (MAX_OUTGOING_TRANSFERS + 1 small files, under `under` in it), so the last waits its turn;
 * `listed`: each with its identity (device, inode) as the walk gives it.
 */
function sendWaitingFolder(alice: TestPeer, under: readonly string[] = [], listed = false) {
  const folderPath = join(alice.dir, "d");
  const where = join(folderPath, ...under);
  mkdirSync(where, { recursive: true });
  const names = entryNames();
  const entries = names.length;
  for (const name of names) writeFileSync(join(where, name), `entry ${name}`);
  const bytes = names.reduce((sum, name) => sum + `entry ${name}`.length, 0);
  for (const name of names) {
    const path = join(where, name);
    const folder: FolderEntry = { group: 1, root: "d", path: [...under, name], entries, bytes };
    if (!listed) alice.session?.sendFile(path, folder);
    else {
      const { dev, ino } = lstatSync(path);
      alice.session?.sendFile(path, folder, undefined, { dev, ino });
    }
  }
  return { folderPath, names, last: names.at(-1) as string };
}

test("an entry gone before its turn to be offered: the receiver is told which and why", async () => {
  const [alice, bob] = await connectedPair();
  peers.push(alice, bob);
  const { folderPath, names, last } = sendWaitingFolder(alice);
  // The last entry waits for one of the first ones to end: it is gone when its turn comes.
  unlinkSync(join(folderPath, last));

  const failed = await bob.waitFor("failed", (e) => e.info.name === last, 10_000);
  // The CLI words E_NOT_FOUND from the peer as "the sender's file is gone".
  expect(failed.reason).toContain("E_NOT_FOUND");
  await alice.waitFor("failed", (e) => e.info.name === last);
  for (const name of names.slice(0, -1)) await bob.waitFor("finished", (e) => e.done.name === name);
}, 30_000);

test("an entry swapped for a symbolic link before its turn: the link is not followed, the receiver is told why", async () => {
  // Before, the link was followed: the first `size` bytes of its target (a file outside the
  // folder, another user's pick where they can write the folder) were stored under the entry's
  // name and verified, though the walk lists links as skipped and never follows one.
  const [alice, bob] = await connectedPair();
  peers.push(alice, bob);
  const secret = join(alice.dir, "secret.txt");
  writeFileSync(secret, "a secret outside the folder");
  const { folderPath, names, last } = sendWaitingFolder(alice);
  // The last entry waits for one of the first ones to end: a link when its turn comes.
  unlinkSync(join(folderPath, last));
  symlinkSync(secret, join(folderPath, last));

  const failed = await bob.waitFor("failed", (e) => e.info.name === last, 10_000);
  // Worded "the sender's file was replaced ... since its folder was listed", not "is not a regular file".
  expect(failed.reason).toBe("E_NOT_A_FILE replaced");
  const told = await alice.waitFor("failed", (e) => e.info.name === last);
  expect(told.reason).toContain("became a symbolic link after the folder was listed");
  for (const name of names.slice(0, -1)) await bob.waitFor("finished", (e) => e.done.name === name);
  expect(existsSync(join(bob.dir, "d", last))).toBe(false);
}, 30_000);

test("a folder on an entry's way swapped for a link to another with the same names: the entry listed is not that file, not sent", async () => {
  // O_NOFOLLOW guards the last name only: before, sub/ renamed away and a link to elsewhere/ put
  // in its place sent elsewhere/f16.bin under the entry's name, verified.
  const [alice, bob] = await connectedPair();
  peers.push(alice, bob);
  const elsewhere = join(alice.dir, "elsewhere");
  mkdirSync(elsewhere);
  for (const name of entryNames()) writeFileSync(join(elsewhere, name), `other ${name}`);
  const { folderPath, last } = sendWaitingFolder(alice, ["sub"], true);
  renameSync(join(folderPath, "sub"), join(alice.dir, "sub-away"));
  symlinkSync(elsewhere, join(folderPath, "sub"));

  const failed = await bob.waitFor("failed", (e) => e.info.name === last, 10_000);
  expect(failed.reason).toBe("E_NOT_A_FILE replaced");
  const told = await alice.waitFor("failed", (e) => e.info.name === last);
  expect(told.reason).toContain("is not the file listed in its folder");
  expect(existsSync(join(bob.dir, "d", "sub", last))).toBe(false);
}, 30_000);
