/**
 * Where the entries of an incoming folder go: a top-level folder in the download directory,
 * named after the sender's folder (or "name (1)", ... if that exists: created with mkdir,
 * which fails rather than reuse an existing folder), and inside it the sender's tree, each
 * component sanitised like a file name. Nothing is ever written outside that folder: every
 * directory on the way is one we created, and is checked to be a real directory.
 *
 * Resume: a new top-level folder gets a hidden marker file, removed once every entry of the
 * folder transfer has arrived verified. A folder of the same name that still has its marker
 * is an unfinished earlier attempt: the same folder sent again goes into it, where a `.part`
 * resumes and a file already stored whole is checked instead of sent again (ExistingCopy).
 */

import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { FolderEntry } from "../protocol/index.ts";
import type { ChecksumAlgo } from "./checksum.ts";
import { createDigest } from "./checksum.ts";
import { osReason, TransferError } from "./errors.ts";
import { errnoName, LockError, tryLockExclusive } from "./file-lock.ts";
import { numberedName, sanitizeFileName } from "./file-names.ts";
import { ownedByUs } from "./part-files.ts";
import type { IncomingSink, ReceivedFile } from "./source.ts";
import { SpaceClaim } from "./space-claims.ts";

const MAX_ROOT_TRIES = 1_000;
/** Folder transfers one session may have under way at once (each holds a descriptor and a folder). */
export const MAX_OPEN_FOLDERS = 32;
/** In a top-level folder whose transfer has not finished: its presence means "unfinished". */
export const UNFINISHED_MARKER = ".parley-unfinished";

interface Root {
  readonly path: string;
  /** The folder as made or taken up (device:inode): checked again at each entry. */
  readonly id: string;
  /** An unfinished earlier attempt's folder, taken up again. */
  readonly resumed: boolean;
  readonly entries: number;
  ended: number;
  failed: number;
  /** The marker, open and locked while this session uses the folder (another process skips it). */
  markerFd: number | undefined;
  /** A new folder's promise of its announced bytes, until its last entry ends; none when taken up again. */
  space?: SpaceClaim | undefined;
}

/** What the marker says: the folder transfer it belongs to (name, entries, bytes). */
export function unfinishedMarkerText(entry: FolderEntry): string {
  const id = JSON.stringify({ root: entry.root, entries: entry.entries, bytes: entry.bytes });
  return `${id}\nA Parley folder transfer into this folder has not finished. Sending the same folder\nagain continues it; this file goes when it is complete.\n`;
}

/**
 * Folders refused for want of space remembered (each later entry is refused the same way), and
 * folders with entries ended before they were made; oldest forgotten.
 */
const MAX_REFUSED_FOLDERS = 1_024;

export class FolderTargets {
  /** group -> the top-level folder made or taken up for it. */
  private readonly roots = new Map<number, Root>();
  /** group -> why a new folder was refused up front (not enough space for all of it). */
  private readonly refused = new Map<number, TransferError>();
  /** group -> its entries that ended (declined) before its folder was made: they count when it is. */
  private readonly endedEarly = new Map<number, number>();

  constructor(private readonly downloadDir: string) {}

  /** The directory the entry's file goes in (created as needed). @throws TransferError E_WRITE */
  parentFor(entry: FolderEntry): string {
    let dir = this.rootFor(entry);
    for (const component of entry.path.slice(0, -1)) dir = this.subdir(dir, component);
    return dir;
  }

  /** An empty-directory entry: the directory itself, created. @throws TransferError E_WRITE */
  dirFor(entry: FolderEntry): string {
    const last = entry.path.at(-1);
    const parent = this.parentFor(entry);
    return last === undefined ? parent : this.subdir(parent, last);
  }

  /** True when the entry's top-level folder is an unfinished earlier attempt, taken up again. */
  isResumed(entry: FolderEntry): boolean {
    return this.roots.get(entry.group)?.resumed ?? false;
  }

  /**
   * One entry of a folder transfer ended (`ok`: stored and verified). Once all have ended
   * well, the folder's marker goes: it is finished.
   */
  entryEnded(entry: FolderEntry, ok: boolean): void {
    const root = this.roots.get(entry.group);
    if (!root) {
      if (this.refused.has(entry.group)) return;
      if (this.endedEarly.size >= MAX_REFUSED_FOLDERS) this.forgetOldest(this.endedEarly);
      this.endedEarly.set(entry.group, (this.endedEarly.get(entry.group) ?? 0) + 1);
      return;
    }
    root.ended++;
    if (!ok) root.failed++;
    if (root.ended < root.entries) return;
    root.space?.release();
    if (root.failed === 0) {
      try {
        unlinkSync(join(root.path, UNFINISHED_MARKER));
      } catch {
        // Already gone: nothing to do.
      }
    }
    // Ended, well or not: another attempt (this process or another) may take it up now.
    if (root.markerFd !== undefined) closeSync(root.markerFd);
    root.markerFd = undefined;
  }

  /** The top-level folder of this entry's group: made (or taken up) on its first entry. */
  rootFor(entry: FolderEntry): string {
    const root = this.roots.get(entry.group) ?? this.makeRoot(entry);
    // In a download folder other users can change (no sticky bit), one could rename ours and put
    // a link to anywhere in its place (also while we make it): the entries would follow it.
    checkSameFolder(root.path, root.id, this.downloadDir);
    return root.path;
  }

  /** Makes (or takes up) the top-level folder of a group's first entry. */
  private makeRoot(entry: FolderEntry): Root {
    const refused = this.refused.get(entry.group);
    if (refused) throw refused;
    const name = sanitizeFileName(entry.root);
    // Folders of this session's transfers still under way (an ended one may be taken up again).
    const taken = new Set([...this.roots.values()].filter((r) => r.ended < r.entries).map((r) => r.path));
    // Each holds its marker open: a peer opening folder after folder would run us out of descriptors.
    if (taken.size >= MAX_OPEN_FOLDERS) {
      throw new TransferError("E_TOO_MANY_FOLDERS", `more than ${MAX_OPEN_FOLDERS} folders under way at once`);
    }
    for (let n = 0; n < MAX_ROOT_TRIES; n++) {
      const path = join(this.downloadDir, numberedName(name, n));
      if (taken.has(path)) continue;
      try {
        mkdirSync(path);
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") {
          throw new TransferError("E_WRITE", `cannot create ${path}: ${osReason(err)}`, { cause: err });
        }
        const id = folderId(path);
        const markerFd = openUnfinishedFor(path, entry);
        if (markerFd === undefined) continue;
        const early = this.takeEndedEarly(entry);
        const root = { path, id, resumed: true, entries: entry.entries, ...early, markerFd };
        this.roots.set(entry.group, root);
        return root;
      }
      const id = folderId(path); // at once: rootFor checks it is still this folder once it is made
      const space = this.claimRoom(path, entry);
      let markerFd: number;
      try {
        markerFd = markUnfinished(path, entry);
      } catch (err) {
        space.release();
        throw err;
      }
      const root = { path, id, resumed: false, entries: entry.entries, ...this.takeEndedEarly(entry), markerFd, space };
      this.roots.set(entry.group, root);
      return root;
    }
    throw new TransferError("E_WRITE", `no free folder name for ${name} in ${this.downloadDir}`);
  }

  /**
   * A file entry of `bytes` is about to claim them: the folder's promise gives them up first,
   * so the entry is not checked against its own folder's promise.
   */
  passSpaceOn(entry: FolderEntry, bytes: number): void {
    this.roots.get(entry.group)?.space?.passOn(bytes);
  }

  /** The connection is gone: folders not finished promise nothing more (their entries will not come). */
  releaseSpace(): void {
    for (const root of this.roots.values()) root.space?.release();
  }

  /**
   * A new folder must fit whole in the free space (less what is promised to transfers under way),
   * as a file's offer must, and its announced size is promised to it until its entries have
   * ended: else it is removed again (unless another local process wrote into it meanwhile: then it
   * stays, with their files) and every entry of it is refused, with the same words, before
   * a byte is written. A folder taken up again is not checked here: what it already holds needs
   * no new space, and each entry still checks what it needs.
   */
  private claimRoom(path: string, entry: FolderEntry): SpaceClaim {
    try {
      return SpaceClaim.forFolder(this.downloadDir, entry.bytes, `the folder ${sanitizeFileName(entry.root)}`);
    } catch (err) {
      try {
        rmdirSync(path);
      } catch {
        // Another local process wrote into it meanwhile: its files stay, and so does the folder.
      }
      if (this.refused.size >= MAX_REFUSED_FOLDERS) this.forgetOldest(this.refused);
      this.refused.set(entry.group, err as TransferError);
      throw err;
    }
  }

  /** Entries of the group that ended before its folder was made (a peer's, declined), each failed. */
  private takeEndedEarly(entry: FolderEntry): { ended: number; failed: number } {
    const ended = this.endedEarly.get(entry.group) ?? 0;
    this.endedEarly.delete(entry.group);
    return { ended, failed: ended };
  }

  private forgetOldest(map: Map<number, unknown>): void {
    map.delete(map.keys().next().value as number);
  }

  /** `parent/component`, created if missing; it must be a real directory (not a link). */
  subdir(parent: string, component: string): string {
    const path = join(parent, sanitizeFileName(component));
    try {
      mkdirSync(path);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") {
        throw new TransferError("E_WRITE", `cannot create ${path}: ${osReason(err)}`, { cause: err });
      }
      if (!lstatSync(path).isDirectory()) throw new TransferError("E_WRITE", `${path} exists and is not a folder`);
    }
    return path;
  }
}

/**
 * `path` is still the folder we made or took up (`id`, folderId): in a download folder other
 * users can change (no sticky bit), one could rename ours and put a link in its place, and what
 * we write next would follow it. @throws TransferError E_WRITE when it is not
 */
export function checkSameFolder(path: string, id: string, downloadDir: string): void {
  if (id !== "" && folderId(path) === id) return;
  throw new TransferError(
    "E_WRITE",
    `${path} was moved or replaced by another process (other users can change ${downloadDir})`,
  );
}

/** `path`'s device and inode when it is a real directory (not a link), else "" (never matches). */
export function folderId(path: string): string {
  try {
    const stats = lstatSync(path);
    return stats.isDirectory() ? `${stats.dev}:${stats.ino}` : "";
  } catch {
    return ""; // gone, or no longer reachable
  }
}

/**
 * The marker of `path`, open and locked, when `path` is a real directory (not a link) of this
 * user holding it as a regular file of this user written for this same folder transfer (name,
 * entries and bytes as offered now) and no other process is using it; undefined otherwise
 * (another folder of that name, this one changed meanwhile, one being received right now, or
 * another user's in a shared folder, who could swap its subfolders for links, is not merged into).
 */
function openUnfinishedFor(path: string, entry: FolderEntry): number | undefined {
  let fd: number;
  try {
    const dir = lstatSync(path);
    if (!dir.isDirectory() || !ownedByUs(dir)) return undefined;
    fd = openSync(join(path, UNFINISHED_MARKER), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  if (!ownedByUs(fstatSync(fd))) {
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
      throw new TransferError("E_WRITE", `cannot lock files in ${path}: ${errnoName(err.errno)}`, { cause: err });
    }
    // Unreadable: not one to take up.
  }
  closeSync(fd);
  return undefined;
}

/** Puts the marker into a folder we just created; returns it open and locked. @throws TransferError E_WRITE */
function markUnfinished(path: string, entry: FolderEntry): number {
  let fd: number | undefined;
  try {
    fd = openSync(join(path, UNFINISHED_MARKER), "wx", 0o644);
    writeSync(fd, unfinishedMarkerText(entry));
    tryLockExclusive(fd); // just made, in a folder just made: nobody else can hold it
    return fd;
  } catch (err) {
    // A full disk, or locks failing outright: neither the marker nor the folder is left behind.
    if (fd !== undefined) closeSync(fd);
    for (const remove of [() => unlinkSync(join(path, UNFINISHED_MARKER)), () => rmdirSync(path)]) {
      try {
        remove();
      } catch {
        // Never made, or not empty: leave it.
      }
    }
    const reason = err instanceof LockError ? errnoName(err.errno) : osReason(err);
    throw new TransferError("E_WRITE", `cannot create a file in ${path}: ${reason}`, { cause: err });
  }
}

/** An empty directory of a folder transfer: made when accepted; no data; verified by END of 0 bytes. */
export class DirReceiver implements IncomingSink {
  readonly received = 0;

  constructor(
    readonly path: string,
    readonly name: string,
    private readonly algo: ChecksumAlgo,
  ) {}

  write(): void {
    throw new TransferError("E_SIZE_MISMATCH", "data for an empty folder");
  }

  finish(trailer: { bytes: number }): ReceivedFile {
    if (trailer.bytes !== 0) throw new TransferError("E_SIZE_MISMATCH", "data for an empty folder");
    return { path: this.path, bytes: 0, algo: this.algo, digest: createDigest(this.algo).hex() };
  }

  abort(): void {
    try {
      rmdirSync(this.path); // only if still empty
    } catch {
      // Not empty or gone: leave it.
    }
  }
}
