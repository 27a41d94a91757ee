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

test("an entry gone before its turn to be offered: the receiver is told which and why", async () => {
  const [alice, bob] = await connectedPair();
  peers.push(alice, bob);
  const entries = MAX_OUTGOING_TRANSFERS + 1;
  const folderPath = join(alice.dir, "d");
  mkdirSync(folderPath);
  const names = Array.from({ length: entries }, (_, i) => `f${String(i).padStart(2, "0")}.bin`);
  for (const name of names) writeFileSync(join(folderPath, name), `entry ${name}`);
  const bytes = names.reduce((sum, name) => sum + `entry ${name}`.length, 0);
  for (const name of names) {
    const folder: FolderEntry = { group: 1, root: "d", path: [name], entries, bytes };
    alice.session?.sendFile(join(folderPath, name), folder);
  }
  // The last entry waits for one of the first ones to end: it is gone when its turn comes.
  const last = names.at(-1) as string;
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
  const entries = MAX_OUTGOING_TRANSFERS + 1;
  const folderPath = join(alice.dir, "d");
  mkdirSync(folderPath);
  const names = Array.from({ length: entries }, (_, i) => `f${String(i).padStart(2, "0")}.bin`);
  for (const name of names) writeFileSync(join(folderPath, name), `entry ${name}`);
  const bytes = names.reduce((sum, name) => sum + `entry ${name}`.length, 0);
  const secret = join(alice.dir, "secret.txt");
  writeFileSync(secret, "a secret outside the folder");
  for (const name of names) {
    const folder: FolderEntry = { group: 1, root: "d", path: [name], entries, bytes };
    alice.session?.sendFile(join(folderPath, name), folder);
  }
  // The last entry waits for one of the first ones to end: a link when its turn comes.
  const last = names.at(-1) as string;
  unlinkSync(join(folderPath, last));
  symlinkSync(secret, join(folderPath, last));

  const failed = await bob.waitFor("failed", (e) => e.info.name === last, 10_000);
  expect(failed.reason).toContain("E_NOT_A_FILE");
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
  const entries = MAX_OUTGOING_TRANSFERS + 1;
  const folderPath = join(alice.dir, "d");
  mkdirSync(join(folderPath, "sub"), { recursive: true });
  const elsewhere = join(alice.dir, "elsewhere");
  mkdirSync(elsewhere);
  const names = Array.from({ length: entries }, (_, i) => `f${String(i).padStart(2, "0")}.bin`);
  for (const name of names) {
    writeFileSync(join(folderPath, "sub", name), `entry ${name}`);
    writeFileSync(join(elsewhere, name), `other ${name}`);
  }
  const bytes = names.reduce((sum, name) => sum + `entry ${name}`.length, 0);
  for (const name of names) {
    const path = join(folderPath, "sub", name);
    const { dev, ino } = lstatSync(path);
    const folder: FolderEntry = { group: 1, root: "d", path: ["sub", name], entries, bytes };
    alice.session?.sendFile(path, folder, undefined, { dev, ino });
  }
  const last = names.at(-1) as string;
  renameSync(join(folderPath, "sub"), join(alice.dir, "sub-away"));
  symlinkSync(elsewhere, join(folderPath, "sub"));

  const failed = await bob.waitFor("failed", (e) => e.info.name === last, 10_000);
  expect(failed.reason).toContain("E_NOT_A_FILE");
  const told = await alice.waitFor("failed", (e) => e.info.name === last);
  expect(told.reason).toContain("is not the file listed in its folder");
  expect(existsSync(join(bob.dir, "d", "sub", last))).toBe(false);
}, 30_000);
