/**
 * Opening a receiver's `.part` file: created exclusively and locked (so another Parley process
 * receiving into the same folder leaves it alone), or an earlier attempt's reopened to resume
 * if it is Parley's, marked for this offer, and no process holds it. FileReceiver's helpers.
 */

import { closeSync, constants, fstatSync, lstatSync, openSync, unlinkSync } from "node:fs";
import { osReason, TransferError } from "./errors.ts";
import { errnoName, LockError, tryLockExclusive } from "./file-lock.ts";
import { isMarkedFor } from "./part-mark.ts";

/**
 * Opens an existing `.part` for resuming, if it is a regular file of this user no bigger than
 * the offer, no other process holds it (locked: being written right now) and it is Parley's
 * (marked). Another user's is never taken, however marked: our bytes would go into an inode
 * they own and can change after it was verified.
 */
export function openResumable(
  partPath: string,
  offered: number | null,
  dir: string,
  token: string | undefined,
): number | undefined {
  let fd: number;
  try {
    fd = openSync(partPath, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch {
    return undefined; // a symlink, a directory, unreadable: leave it alone
  }
  const stats = fstatSync(fd);
  const usable = stats.isFile() && ownedByUs(stats) && (offered === null || stats.size <= offered);
  try {
    // Locked: another process is writing it. Not marked for this offer's token: another
    // sender's (never probed, truncated or deleted), or not Parley's (a browser's download...).
    if (usable && tryLockExclusive(fd) && isMarkedFor(fd, token) === true) return fd;
  } catch (err) {
    closeSync(fd);
    throw lockFailed(err, dir);
  }
  closeSync(fd);
  return undefined;
}

/**
 * Creates `partPath` exclusively. @returns its descriptor, or undefined when the name exists
 * @throws TransferError E_WRITE when it cannot be created
 */
export function createExclusive(partPath: string, dir: string): number | undefined {
  try {
    return openSync(partPath, "wx", 0o644);
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return undefined;
    throw new TransferError("E_WRITE", `cannot create a file in ${dir}: ${osReason(err)}`, { cause: err });
  }
}

/**
 * Locks the `.part` just created. @returns false when another process took it meanwhile
 * @throws TransferError E_WRITE when locking fails outright; the `.part` is removed then
 */
export function lockNewPart(fd: number, partPath: string, dir: string): boolean {
  try {
    return tryLockExclusive(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(partPath);
    } catch {
      // Gone already: nothing left behind either way.
    }
    throw lockFailed(err, dir);
  }
}

/** A flock failure other than "held by someone else", as the offer's failure. */
function lockFailed(err: unknown, dir: string): TransferError {
  if (!(err instanceof LockError)) throw err;
  return new TransferError("E_WRITE", `cannot lock files in ${dir}: ${errnoName(err.errno)}`, { cause: err });
}

/** The file is this process's user's (always true where there are no user ids). */
export function ownedByUs(stats: { uid: number }): boolean {
  const uid = process.getuid?.();
  return uid === undefined || stats.uid === uid;
}

export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
