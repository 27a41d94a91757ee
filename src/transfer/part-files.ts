/**
 * Opening a receiver's `.part` file: created exclusively and locked (so another Parley process
 * receiving into the same folder leaves it alone), or an earlier attempt's reopened to resume
 * if it is Parley's, marked for this offer, and no process holds it; and, once verified, given
 * its final name. Helpers of run-parts.ts and FileReceiver.
 */

import { closeSync, constants, fstatSync } from "node:fs";
import { isNoHardLinksErrno, osReason, TransferError } from "./errors.ts";
import { errnoName, LockError, tryLockExclusive } from "./file-lock.ts";
import { numberedName } from "./file-names.ts";
import type { HeldDir } from "./held-dir.ts";
import { isMarkedFor } from "./part-mark.ts";

/**
 * Opens an existing `.part` (`partName` in `dir`) for resuming, if it is a regular file of this
 * user no bigger than the offer, no other process holds it (locked: being written right now) and
 * it is Parley's (marked). Another user's is never taken, however marked: our bytes would go into
 * an inode they own and can change after it was verified.
 */
export function openResumable(
  dir: HeldDir,
  partName: string,
  offered: number | null,
  token: string | undefined,
): number | undefined {
  let fd: number;
  try {
    fd = dir.openFile(partName, constants.O_RDWR);
  } catch {
    return undefined; // a symlink, a directory, unreadable: leave it alone
  }
  try {
    const stats = fstatSync(fd);
    const usable = stats.isFile() && ownedByUs(stats) && (offered === null || stats.size <= offered);
    // Locked: another process is writing it. Not marked for this offer's token: another
    // sender's (never probed, truncated or deleted), or not Parley's (a browser's download...).
    if (usable && tryLockExclusive(fd) && isMarkedFor(fd, token) === true) return fd;
  } catch (err) {
    closeSync(fd);
    throw lockFailed(err, dir.path);
  }
  closeSync(fd);
  return undefined;
}

/**
 * Creates `partName` in `dir` exclusively. @returns its descriptor, or undefined when the name exists
 * @throws TransferError E_WRITE when it cannot be created
 */
export function createExclusive(dir: HeldDir, partName: string): number | undefined {
  try {
    return dir.openFile(partName, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return undefined;
    throw new TransferError("E_WRITE", `cannot create a file in ${dir.path}: ${osReason(err)}`, { cause: err });
  }
}

/**
 * Locks the `.part` just created. @returns false when another process took it meanwhile
 * @throws TransferError E_WRITE when locking fails outright; the `.part` is removed then
 */
export function lockNewPart(fd: number, dir: HeldDir, partName: string): boolean {
  try {
    return tryLockExclusive(fd);
  } catch (err) {
    closeSync(fd);
    try {
      dir.unlink(partName);
    } catch {
      // Gone already: nothing left behind either way.
    }
    throw lockFailed(err, dir.path);
  }
}

/** A flock failure other than "held by someone else", as the offer's failure. */
export function lockFailed(err: unknown, dir: string): TransferError {
  if (!(err instanceof LockError)) throw err;
  return new TransferError("E_WRITE", `cannot lock files in ${dir}: ${errnoName(err.errno)}`, { cause: err });
}

/** The file is this process's user's (always true where there are no user ids). */
export function ownedByUs(stats: { uid: number }): boolean {
  const uid = process.getuid?.();
  return uid === undefined || stats.uid === uid;
}

/**
 * Made by us where the file system shows what we make under `owner` (sshfs, NFS: the owner of
 * a file we just made there); this user's when that is not known.
 */
export function ownedByUsAs(stats: { uid: number }, owner: number | undefined): boolean {
  return owner === undefined ? ownedByUs(stats) : stats.uid === owner;
}

/** Names tried before giving up ("name (1).ext" ... "name (999).ext"): each try is a file system call. */
export const MAX_NAME_TRIES = 1_000;

/**
 * The names a received file `safe` may be written under, in the order they are tried: for each
 * numbered variant not taken in `dir` ("name", "name (1)", ...), its `.part`'s name and path, and
 * the variant's index. openFreePart and earlierPartBytes (run-parts.ts) walk the same list.
 */
export function* partCandidates(
  dir: HeldDir,
  safe: string,
): Generator<{ readonly index: number; readonly partName: string; readonly partPath: string }> {
  for (let index = 0; index < MAX_NAME_TRIES; index++) {
    const name = numberedName(safe, index);
    if (dir.stat(name) !== undefined) continue;
    const partName = `${name}.part`;
    yield { index, partName, partPath: dir.pathOf(partName) };
  }
}

/**
 * The bytes of the earlier attempt's `.part` that FileReceiver.open would resume for this offer
 * (partCandidates' names, each `.part` checked by openResumable), 0 when it would make a new one.
 * Nothing is made, and nothing stays open. `mine(partPath)`: a `.part` this process is writing or
 * stored this run (openFreePart passes those by too).
 */
export function earlierPartBytes(
  dir: HeldDir,
  safe: string,
  offered: number | null,
  token: string | undefined,
  mine: (partPath: string) => boolean,
): number {
  for (const { partName, partPath } of partCandidates(dir, safe)) {
    if (mine(partPath)) continue;
    if (dir.stat(partName) === undefined) return 0; // a new `.part` would be made under this name
    const fd = openResumable(dir, partName, offered, token);
    if (fd === undefined) continue;
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  }
  return 0;
}

/**
 * Gives the verified `.part` (open as `fd`, called `partName` in `dir`) the first free name
 * from `baseName`'s `index`th variant on. link(2) never replaces an existing name, so a name
 * taken meanwhile just moves us on. The link is made from the descriptor where it can be
 * (held-dir.ts): the name made is then the file written and verified, whatever another process
 * did to the `.part`'s name meanwhile. Else (by name; file systems without hard links, FAT,
 * exFAT, some network mounts, which get a rename that never replaces, or an exclusively created
 * placeholder renamed over) the name made is checked to be that file: in a folder other users
 * can change (no sticky bit), another process could have put its own file under the `.part`'s name.
 * @returns the final path
 * @throws TransferError E_WRITE when no name is free or the `.part` was replaced (its name is removed then)
 */
export function linkToFreeName(fd: number, dir: HeldDir, partName: string, baseName: string, index: number): string {
  for (let n = index; n < MAX_NAME_TRIES; n++) {
    const name = numberedName(baseName, n);
    try {
      if (!dir.link(fd, partName, name)) checkSameFile(fd, dir, name, partName);
      removePart(fd, dir, partName);
      return dir.pathOf(name);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EEXIST") continue;
      if (!isNoHardLinksErrno(code)) throw err;
    }
    if (!renamedWithoutReplacing(dir, partName, name)) continue;
    checkSameFile(fd, dir, name, partName);
    return dir.pathOf(name);
  }
  throw new TransferError("E_WRITE", `no free name for ${numberedName(baseName, index)} in ${dir.path}`);
}

/** The `.part`'s name goes once the file has its own, if it still names our file (else it is another's). */
function removePart(fd: number, dir: HeldDir, partName: string): void {
  try {
    if (dir.stat(partName)?.id === dir.openStats(fd).id) dir.unlink(partName);
  } catch {
    // The file is stored and verified under its name; a leftover .part is only clutter.
  }
}

/**
 * Renames the `.part` to `name` without replacing anything: rename's no-replace flag, or an
 * exclusively created placeholder it is renamed over. @returns false when `name` is taken
 */
function renamedWithoutReplacing(dir: HeldDir, partName: string, name: string): boolean {
  try {
    dir.renameNoReplace(partName, name);
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EEXIST") return false;
    if (code !== "ENOSYS" && code !== "EINVAL") throw err;
  }
  try {
    closeSync(dir.openFile(name, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL));
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST") return false;
    throw err;
  }
  dir.rename(partName, name);
  return true;
}

/** `name` in `dir` holds the file open as `fd`, else it is removed. @throws TransferError E_WRITE */
function checkSameFile(fd: number, dir: HeldDir, name: string, partName: string): void {
  if (dir.stat(name)?.id === dir.openStats(fd).id) return;
  try {
    dir.unlink(name);
  } catch {
    // Gone already.
  }
  throw new TransferError(
    "E_WRITE",
    `another process replaced ${dir.pathOf(partName)} before it got its name (other users can change the folder it is in): nothing was stored`,
  );
}
