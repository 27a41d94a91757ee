/**
 * Where the entries of an incoming folder go: a top-level folder in the download directory,
 * named after the sender's folder (or "name (1)", ... if that exists: created with mkdir,
 * which fails rather than reuse an existing folder), and inside it the sender's tree, each
 * component sanitised like a file name. Nothing is ever written outside that folder: every
 * directory on the way is one we created or checked, a real directory of ours (not a link),
 * and held open (held-dir.ts): each level is opened relative to the one above it, so a folder
 * renamed away and replaced by a link meanwhile takes nothing through the link.
 *
 * Resume: a new top-level folder gets a hidden marker file (folder-marker.ts), removed once
 * every entry of the folder transfer has arrived verified. A folder of the same name that still
 * has its marker is an unfinished earlier attempt: the same folder sent again goes into it,
 * where a `.part` resumes and a file already stored whole is checked instead of sent again
 * (ExistingCopy).
 */

import { closeSync, fstatSync } from "node:fs";
import type { FolderEntry } from "../protocol/index.ts";
import { osReason, TransferError } from "./errors.ts";
import { numberedName, sanitizeFileName, sanitizeFolderName } from "./file-names.ts";
import { markUnfinished, openUnfinishedFor, UNFINISHED_MARKER } from "./folder-marker.ts";
import { type HeldDir, holdDownloadFolder, justMade, movedOrReplaced } from "./held-dir.ts";
import { ownedByUsAs } from "./part-files.ts";
import { SpaceClaim } from "./space-claims.ts";

export { DirReceiver } from "./dir-receiver.ts";
export { UNFINISHED_MARKER, unfinishedMarkerText } from "./folder-marker.ts";

const MAX_ROOT_TRIES = 1_000;
/** Folder transfers one session may have under way at once (each holds descriptors and a folder). */
export const MAX_OPEN_FOLDERS = 32;

interface Root {
  /** Its name in the download folder, and the path that was then. */
  readonly name: string;
  readonly path: string;
  /** The folder, held until its last entry ends; undefined after. */
  dir: HeldDir | undefined;
  /** The folder as made or taken up (device:inode): its name is checked to still be it at each entry. */
  readonly id: string;
  /** An unfinished earlier attempt's folder, taken up again. */
  readonly resumed: boolean;
  /** The owner this file system gives what we make in it (its marker's): not always our uid (sshfs, NFS). */
  readonly owner: number;
  readonly entries: number;
  ended: number;
  failed: number;
  /** The marker, open and locked while this session uses the folder (another process skips it). */
  markerFd: number | undefined;
  /** A new folder's promise of its announced bytes, until its last entry ends; none when taken up again. */
  space?: SpaceClaim | undefined;
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
  private download: HeldDir | undefined;
  private readonly downloadPath: string;

  /** `downloadDir`: its path (held on first use), or the held folder (one more holder). */
  constructor(downloadDir: string | HeldDir) {
    if (typeof downloadDir !== "string") this.download = downloadDir.retain();
    this.downloadPath = typeof downloadDir === "string" ? downloadDir : downloadDir.path;
  }

  /** The path of the directory the entry's file goes in (created as needed). @throws TransferError E_WRITE */
  parentFor(entry: FolderEntry): string {
    const dir = this.parentDirFor(entry);
    dir.release();
    return dir.path;
  }

  /**
   * The directory the entry's file goes in (created as needed), held for the caller, who
   * releases it. @throws TransferError E_WRITE
   */
  parentDirFor(entry: FolderEntry): HeldDir {
    let dir = this.rootFor(entry);
    const owner = this.roots.get(entry.group)?.owner;
    for (const component of entry.path.slice(0, -1)) {
      const parent = dir;
      try {
        dir = this.subdir(parent, component, owner);
      } finally {
        parent.release();
      }
    }
    return dir;
  }

  /**
   * An empty-directory entry: the directory itself, created; `parent` is held for the caller
   * (it removes the directory again through it when cancelled). @throws TransferError E_WRITE
   */
  dirFor(entry: FolderEntry): { parent: HeldDir; name: string } {
    const last = entry.path.at(-1);
    if (last === undefined) {
      this.rootFor(entry).release();
      return { parent: this.held().retain(), name: (this.roots.get(entry.group) as Root).name };
    }
    const parent = this.parentDirFor(entry);
    try {
      this.subdir(parent, last, this.roots.get(entry.group)?.owner).release();
    } catch (err) {
      parent.release();
      throw err;
    }
    return { parent, name: sanitizeFileName(last) };
  }

  /** The name the top-level folder of `group` is stored under, once made or taken up. */
  rootName(group: number): string | undefined {
    return this.roots.get(group)?.name;
  }

  /** True when the entry's top-level folder is an unfinished earlier attempt, taken up again. */
  isResumed(entry: FolderEntry): boolean {
    return this.roots.get(entry.group)?.resumed ?? false;
  }

  /**
   * One entry of a folder transfer ended (`ok`: stored and verified), or `count` of them (one
   * ended with the entries that will never be offered: a folder cancelled whole). Once all have
   * ended well, the folder's marker goes: it is finished; once all have ended, it is let go.
   */
  entryEnded(entry: FolderEntry, ok: boolean, count = 1): void {
    const root = this.roots.get(entry.group);
    if (!root) {
      if (this.refused.has(entry.group)) return;
      if (this.endedEarly.size >= MAX_REFUSED_FOLDERS) this.forgetOldest(this.endedEarly);
      this.endedEarly.set(entry.group, (this.endedEarly.get(entry.group) ?? 0) + count);
      return;
    }
    root.ended += count;
    if (!ok) root.failed += count;
    if (root.ended < root.entries) return;
    root.space?.release();
    if (root.failed === 0) {
      try {
        root.dir?.unlink(UNFINISHED_MARKER); // in the folder we made, wherever it is now
      } catch {
        // Already gone: nothing to do.
      }
    }
    // Ended, well or not: another attempt (this process or another) may take it up now.
    if (root.markerFd !== undefined) closeSync(root.markerFd);
    root.markerFd = undefined;
    root.dir?.release();
    root.dir = undefined;
  }

  /**
   * The top-level folder of this entry's group, made (or taken up) on its first entry; held
   * for the caller, who releases it. @throws TransferError E_WRITE
   */
  rootFor(entry: FolderEntry): HeldDir {
    const root = this.roots.get(entry.group) ?? this.makeRoot(entry);
    // In a download folder other users can change (no sticky bit), one could rename ours and put
    // a link to anywhere in its place: what is held takes nothing through it, but the entry's
    // path would no longer say where it is, so the entry fails.
    const now = root.dir && this.held().stat(root.name);
    if (root.dir === undefined || !now?.isDir || now.id !== root.id) throw this.moved(root.path);
    return root.dir.retain();
  }

  /** The folder transfers are over (the connection ended): the folders and markers still held are let go. */
  close(): void {
    for (const root of this.roots.values()) {
      root.dir?.release();
      root.dir = undefined;
      // Unlocked: another attempt (this process or another) may take the folder up now.
      if (root.markerFd !== undefined) closeSync(root.markerFd);
      root.markerFd = undefined;
    }
    this.download?.release();
    this.download = undefined;
  }

  /** Makes (or takes up) the top-level folder of a group's first entry. */
  private makeRoot(entry: FolderEntry): Root {
    const refused = this.refused.get(entry.group);
    if (refused) throw refused;
    const download = this.held();
    const safe = sanitizeFolderName(entry.root);
    // Folders of this session's transfers still under way (an ended one may be taken up again).
    const taken = new Set([...this.roots.values()].filter((r) => r.ended < r.entries).map((r) => r.name));
    // Each holds its marker open: a peer opening folder after folder would run us out of descriptors.
    if (taken.size >= MAX_OPEN_FOLDERS) {
      throw new TransferError("E_TOO_MANY_FOLDERS", `more than ${MAX_OPEN_FOLDERS} folders under way at once`);
    }
    for (let n = 0; n < MAX_ROOT_TRIES; n++) {
      const name = numberedName(safe, n);
      if (taken.has(name)) continue;
      const root = this.makeOrTakeUp(download, name, entry);
      if (root === undefined) continue;
      this.roots.set(entry.group, root);
      return root;
    }
    throw new TransferError("E_WRITE", `no free folder name for ${safe} in ${download.path}`);
  }

  /** The folder `name` made new, or taken up (ours, unfinished, for this transfer); else undefined. */
  private makeOrTakeUp(download: HeldDir, name: string, entry: FolderEntry): Root | undefined {
    const path = download.pathOf(name);
    try {
      download.makeDir(name);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") {
        throw new TransferError("E_WRITE", `cannot create ${path}: ${osReason(err)}`, { cause: err });
      }
      const dir = ownDir(download, name);
      const id = dir?.own().id; // at once: by name, `own` looks the path up again
      const markerFd = dir && openUnfinishedFor(dir, entry);
      if (dir === undefined || id === undefined || markerFd === undefined) {
        dir?.release();
        return undefined;
      }
      return {
        name,
        path,
        dir,
        id,
        resumed: true,
        owner: fstatSync(markerFd).uid,
        entries: entry.entries,
        ...this.early(entry),
        markerFd,
      };
    }
    // Held at once: swapped for a link before this, it is refused here (another's folder: below,
    // once the marker shows who owns what we make here); after this, the marker and every entry
    // go into the folder made, wherever it is moved.
    const dir = ownDir(download, name, "any");
    if (dir === undefined) throw this.moved(path);
    const id = dir.own().id; // at once: by name, `own` looks the path up again
    // Swapped before it was opened for another folder of ours (one the other user can move): a
    // folder just made is empty, and was not renamed since it was made (justMade), so one with
    // anything in it, or an empty one of ours from before, is not ours to fill.
    if (!justMade(dir) || !dir.isEmpty()) {
      dir.release();
      throw this.moved(path);
    }
    let space: SpaceClaim | undefined;
    try {
      space = this.claimRoom(download, name, entry);
      const markerFd = markUnfinished(dir, entry);
      const owner = fstatSync(markerFd).uid;
      if (dir.own().uid !== owner) {
        // Another user's folder, swapped in before it was opened: nothing of ours goes into it.
        closeSync(markerFd);
        dir.unlink(UNFINISHED_MARKER);
        throw this.moved(path);
      }
      return {
        name,
        path,
        dir,
        id,
        resumed: false,
        owner,
        entries: entry.entries,
        ...this.early(entry),
        markerFd,
        space,
      };
    } catch (err) {
      dir.release();
      if (space === undefined) throw err;
      space.release();
      removeEmpty(download, name);
      throw err;
    }
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
  private claimRoom(download: HeldDir, name: string, entry: FolderEntry): SpaceClaim {
    try {
      return SpaceClaim.forFolder(download.path, entry.bytes, `the folder ${sanitizeFolderName(entry.root)}`);
    } catch (err) {
      removeEmpty(download, name);
      if (this.refused.size >= MAX_REFUSED_FOLDERS) this.forgetOldest(this.refused);
      this.refused.set(entry.group, err as TransferError);
      throw err;
    }
  }

  /** Entries of the group that ended before its folder was made (a peer's, declined), each failed. */
  private early(entry: FolderEntry): { ended: number; failed: number } {
    const ended = this.endedEarly.get(entry.group) ?? 0;
    this.endedEarly.delete(entry.group);
    return { ended, failed: ended };
  }

  private forgetOldest(map: Map<number, unknown>): void {
    map.delete(map.keys().next().value as number);
  }

  /** The download folder, held on first use. @throws TransferError E_WRITE */
  private held(): HeldDir {
    this.download ??= holdDownloadFolder(this.downloadPath);
    return this.download;
  }

  /** `parent/component`, created if missing; it must be a real directory of ours (not a link): held. */
  private subdir(parent: HeldDir, component: string, owner: number | undefined): HeldDir {
    const name = sanitizeFileName(component);
    const path = parent.pathOf(name);
    let dir = ownDir(parent, name, owner);
    if (dir !== undefined) return dir;
    try {
      parent.makeDir(name);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") {
        throw new TransferError("E_WRITE", `cannot create ${path}: ${osReason(err)}`, { cause: err });
      }
    }
    dir = ownDir(parent, name, owner);
    if (dir === undefined) throw new TransferError("E_WRITE", `${path} exists and is not a folder of ours`);
    return dir;
  }

  private moved(path: string): TransferError {
    return movedOrReplaced(path, this.downloadPath);
  }
}

/**
 * The folder `name` in `parent`, held, when it is a real directory (not a link) of this user, or
 * of `owner` (what the file system makes ours show as), or of anyone ("any": checked after).
 */
function ownDir(parent: HeldDir, name: string, owner?: number | "any"): HeldDir | undefined {
  let dir: HeldDir;
  try {
    dir = parent.openDir(name);
  } catch {
    return undefined; // missing, a link, not a folder
  }
  if (owner === "any" || ownedByUsAs(dir.own(), owner)) return dir;
  dir.release();
  return undefined;
}

/** Removes the folder `name` we made if it is still empty (another process may have written in it). */
function removeEmpty(parent: HeldDir, name: string): void {
  try {
    parent.rmdir(name);
  } catch {
    // Another local process wrote into it meanwhile: its files stay, and so does the folder.
  }
}
