/**
 * The hidden marker of a received folder whose transfer has not finished (folder-target.ts):
 * made in a folder just created, open and locked while this process receives into it (another
 * process skips it), removed once every entry arrived verified. Read again when the same
 * folder is sent once more: an unfinished earlier attempt of ours is taken up, not a new folder
 * made. Every call goes through the held folder (held-dir.ts), never by its path.
 */

import { closeSync, constants, fstatSync, readSync, writeSync } from "node:fs";
import type { FolderEntry } from "../protocol/index.ts";
import { osReason, TransferError } from "./errors.ts";
import { errnoName, LockError, tryLockExclusive } from "./file-lock.ts";
import type { HeldDir } from "./held-dir.ts";
import { lockFailed, ownedByUs } from "./part-files.ts";

/** In a top-level folder whose transfer has not finished: its presence means "unfinished". */
export const UNFINISHED_MARKER = ".parley-unfinished";

/** What the marker says: the folder transfer it belongs to (name, entries, bytes). */
export function unfinishedMarkerText(entry: FolderEntry): string {
  const id = JSON.stringify({ root: entry.root, entries: entry.entries, bytes: entry.bytes });
  return `${id}\nA Parley folder transfer into this folder has not finished. Sending the same folder\nagain continues it; this file goes when it is complete.\n`;
}

/**
 * The marker of the held folder `dir` (a real directory of this user: the caller checked),
 * open and locked, when it is a regular file of this user written for this same folder transfer
 * (name, entries and bytes as offered now) and no other process is using it; undefined
 * otherwise (another folder of that name, this one changed meanwhile, one being received right
 * now, or another user's marker in a shared folder, who could swap its subfolders for links, is
 * not merged into). @throws TransferError E_WRITE when locking fails outright
 */
export function openUnfinishedFor(dir: HeldDir, entry: FolderEntry): number | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a named pipe put in its place (by anyone who can write into the folder: a
    // group-writable one) blocked this open, and with it the whole process, until killed.
    fd = dir.openFile(UNFINISHED_MARKER, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const stats = fstatSync(fd);
  if (!stats.isFile() || !ownedByUs(stats)) {
    closeSync(fd);
    return undefined;
  }
  try {
    const text = Buffer.alloc(4096);
    const n = readSync(fd, text, 0, text.length, 0);
    // Locked: another process is receiving into it right now.
    if (text.subarray(0, n).toString("utf8") === unfinishedMarkerText(entry) && tryLockExclusive(fd)) return fd;
  } catch (err) {
    if (err instanceof LockError) {
      closeSync(fd);
      throw lockFailed(err, dir.path);
    }
    // Unreadable: not one to take up.
  }
  closeSync(fd);
  return undefined;
}

/**
 * Puts the marker into the folder `dir` we just created; returns it open and locked.
 * @throws TransferError E_WRITE (the marker is not left behind; the caller removes the folder)
 */
export function markUnfinished(dir: HeldDir, entry: FolderEntry): number {
  let fd: number | undefined;
  try {
    fd = dir.openFile(UNFINISHED_MARKER, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    writeSync(fd, unfinishedMarkerText(entry));
    tryLockExclusive(fd); // just made, in a folder just made: nobody else can hold it
    return fd;
  } catch (err) {
    // A full disk, or locks failing outright: the marker is not left behind.
    if (fd !== undefined) {
      closeSync(fd);
      try {
        dir.unlink(UNFINISHED_MARKER);
      } catch {
        // Gone already.
      }
    }
    const reason = err instanceof LockError ? errnoName(err.errno) : osReason(err);
    throw new TransferError("E_WRITE", `cannot create a file in ${dir.path}: ${reason}`, { cause: err });
  }
}
