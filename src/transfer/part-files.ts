/**
 * Opening a receiver's `.part` file: created exclusively and locked (so another Parley process
 * receiving into the same folder leaves it alone), or an earlier attempt's reopened to resume
 * if it is Parley's, marked for this offer, and no process holds it; and, once verified, given
 * its final name. FileReceiver's helpers.
 */

import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { osReason, TransferError } from "./errors.ts";
import { errnoName, LockError, tryLockExclusive } from "./file-lock.ts";
import { numberedName } from "./file-names.ts";
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

/** Names tried before giving up ("name (1).ext" ... "name (999).ext"): each try is a file system call. */
export const MAX_NAME_TRIES = 1_000;

/**
 * Gives the verified `.part` (open as `fd`) the first free name from `baseName`'s `index`th
 * variant on. link(2) never replaces an existing name, so a name taken meanwhile just moves us
 * on. File systems without hard links (FAT, exFAT, some network mounts) get an exclusively
 * created placeholder that the .part is then renamed over: still no existing file is ever
 * replaced. Both go by the `.part`'s name, so the name made is checked to be the file written
 * and verified: in a folder other users can change (no sticky bit), another process could have
 * put its own file under the `.part`'s name meanwhile.
 * @returns the final path
 * @throws TransferError E_WRITE when no name is free or the `.part` was replaced (its name is removed then)
 */
export function linkToFreeName(fd: number, partPath: string, dir: string, baseName: string, index: number): string {
  for (let n = index; n < MAX_NAME_TRIES; n++) {
    const path = join(dir, numberedName(baseName, n));
    try {
      linkSync(partPath, path);
      checkSameFile(fd, path, partPath);
      try {
        unlinkSync(partPath);
      } catch {
        // The file is stored and verified under its name; a leftover .part is only clutter.
      }
      return path;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EEXIST") continue;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
    }
    try {
      closeSync(openSync(path, "wx"));
    } catch (err) {
      if ((err as { code?: string }).code === "EEXIST") continue;
      throw err;
    }
    renameSync(partPath, path);
    checkSameFile(fd, path, partPath);
    return path;
  }
  throw new TransferError("E_WRITE", `no free name for ${numberedName(baseName, index)} in ${dir}`);
}

/** The name just made holds the file open as `fd`, else it is removed. @throws TransferError E_WRITE */
function checkSameFile(fd: number, path: string, partPath: string): void {
  const ours = fstatSync(fd);
  let named: { dev: number; ino: number } | undefined;
  try {
    named = lstatSync(path);
  } catch {
    // Gone already: not ours either.
  }
  if (named && named.dev === ours.dev && named.ino === ours.ino) return;
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
  throw new TransferError(
    "E_WRITE",
    `another process replaced ${partPath} before it got its name (other users can change the folder it is in): nothing was stored`,
  );
}
