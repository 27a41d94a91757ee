/**
 * The folder a received zip is extracted into (zip-extract.ts): a folder made inside a hidden
 * working folder of the download directory made for this zip alone (mode 0700), its directories
 * and files made through held folders (held-dir.ts: each level opened relative to the one above,
 * never following a link), and once complete opened up to the umask's mode and moved to its
 * final name in the download directory without replacing anything. The move is named from the
 * working folder held, which only we can change: another user of the download folder who puts
 * something under the working folder's name meanwhile is not what gets the final name.
 */

import { randomBytes } from "node:crypto";
import { constants, fchmodSync } from "node:fs";
import { osReason, TransferError } from "./errors.ts";
import { numberedName, sanitizeFolderName } from "./file-names.ts";
import { type HeldDir, justMade, movedOrReplaced } from "./held-dir.ts";
import { ownedByUsAs } from "./part-files.ts";

/** Prefix of the working folder (hidden) that a zip is inflated into before it gets its name. */
export const UNZIP_WORK_PREFIX = ".parley-unzip-";
/** The folder inside the working folder that gets the final name. */
const UNZIPPED = "folder";
const MAX_ROOT_TRIES = 1_000;

export class ZipFolder {
  /** The working folder's id (device:inode), as made. */
  readonly id: string;
  /** The id of the folder inside it that gets the final name. */
  private readonly folderId: string;
  /** The last directory a file went in (zips list a folder's files together), held. */
  private parent: { readonly at: number; readonly dir: HeldDir } | undefined;
  private closed = false;
  /** The folder was moved to its final name: the working folder is empty. */
  private moved = false;

  private constructor(
    private readonly download: HeldDir,
    /** The working folder's name in the download folder. */
    readonly workName: string,
    /** The working folder, held. */
    private readonly outer: HeldDir,
    /** The folder inside it the zip goes into, held. */
    private readonly work: HeldDir,
  ) {
    this.id = outer.own().id;
    this.folderId = work.own().id;
  }

  /** The working folder's path (for removing it if the run ends early). */
  get path(): string {
    return this.outer.path;
  }

  /**
   * A new hidden folder in `download`, ours alone (mode 0700), held. `owner`: the owner this file
   * system gives what we make (the zip's `.part`'s; sshfs or NFS may show another than our uid).
   * @throws TransferError E_WRITE
   */
  static make(download: HeldDir, owner?: number): ZipFolder {
    for (let n = 0; n < MAX_ROOT_TRIES; n++) {
      const name = `${UNZIP_WORK_PREFIX}${randomBytes(6).toString("base64url")}`;
      try {
        download.makeDir(name, 0o700);
        const outer = madeNow(download, name, owner);
        let inner: HeldDir;
        try {
          // In a folder only we can change: the folder made here is the one opened.
          outer.makeDir(UNZIPPED, 0o700);
          inner = outer.openDir(UNZIPPED);
        } catch (err) {
          outer.release();
          throw err;
        }
        return new ZipFolder(download, name, outer, inner);
      } catch (err) {
        if ((err as { code?: string }).code === "EEXIST") continue;
        if (err instanceof TransferError) throw err;
        throw new TransferError("E_WRITE", `cannot create a folder in ${download.path}: ${osReason(err)}`, {
          cause: err,
        });
      }
    }
    throw new TransferError("E_WRITE", `no free working folder name in ${download.path}`);
  }

  /**
   * The working folder's name still names it, or the final name `name` the folder moved there.
   * @throws TransferError E_WRITE when it does not: in a download folder other users can change,
   *   one could rename it and put a link in its place (what is held takes nothing through it,
   *   but its name would no longer name it)
   */
  check(name?: string): void {
    const id = name === undefined ? this.id : this.folderId;
    if (this.download.stat(name ?? this.workName)?.id === id) return;
    throw movedOrReplaced(this.download.pathOf(name ?? this.workName), this.download.path);
  }

  /** Makes the directory `components` (its parents made before it, in the plan's order). */
  makeDir(components: readonly string[], parentAt: number, parentComponents: readonly string[]): void {
    const name = components.at(-1) as string;
    try {
      this.dirAt(parentAt, parentComponents).makeDir(name, 0o755);
    } catch (err) {
      throw new TransferError("E_WRITE", `cannot create ${components.join("/")}: ${osReason(err)}`, { cause: err });
    }
  }

  /**
   * A new file, never an existing one and never through a link, its mode under the umask (as
   * Parley's own files: umask 077 gives rw-------). @returns its descriptor
   */
  createFile(
    components: readonly string[],
    parentAt: number,
    parentComponents: readonly string[],
    mode: number,
  ): number {
    const name = components.at(-1) as string;
    try {
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
      const fd = this.dirAt(parentAt, parentComponents).openFile(name, flags, mode);
      fchmodSync(fd, mode & ~process.umask());
      return fd;
    } catch (err) {
      throw new TransferError("E_WRITE", `cannot create ${components.join("/")}: ${osReason(err)}`, { cause: err });
    }
  }

  /**
   * Gives the filled folder its final mode, under the umask (0700 while it was filled), through
   * its descriptor: by name, after the rename, a link another user put in its place (no sticky
   * bit) had its target's mode changed. @throws TransferError E_WRITE
   */
  openUp(): void {
    this.check();
    try {
      this.work.chmod(0o755 & ~process.umask());
    } catch (err) {
      throw new TransferError("E_WRITE", `cannot open up ${this.path}: ${osReason(err)}`, { cause: err });
    }
  }

  /**
   * Moves the finished folder to its final name in the download directory: the offered name
   * sanitised, or "name (1)", ... if taken; never replacing anything (rename's no-replace flag,
   * else an empty folder made first with mkdir, which rename may replace only while it is empty).
   */
  giveFinalName(offered: string): { path: string; name: string } {
    const base = sanitizeFolderName(offered);
    for (let n = 0; n < MAX_ROOT_TRIES; n++) {
      const name = numberedName(base, n);
      if (!this.renamed(name)) continue;
      this.moved = true;
      this.removeWorkingFolder();
      return { path: this.download.pathOf(name), name };
    }
    throw new TransferError("E_WRITE", `no free folder name for ${base} in ${this.download.path}`);
  }

  /** Lets go of the folders held. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parent?.dir.release();
    this.parent = undefined;
    this.work.release();
    this.outer.release();
  }

  /**
   * An unfinished run: removes what it made through the folder held, then the working folder's
   * name if it still names that folder (rmdir: only an empty one). Not by path: another user who
   * can change the download folder could rename a folder of ours there (one received earlier)
   * to the working folder's name, and rm -r of that name would empty it. Never throws.
   */
  remove(): void {
    if (this.closed || this.moved) return;
    try {
      // By name (no directory-relative calls) its path is all there is: only while it names ours.
      if (this.work.byName && this.download.stat(this.workName)?.id !== this.id) return;
      emptyOut(this.work);
      this.outer.rmdir(UNZIPPED);
      this.removeWorkingFolder();
    } catch {
      // Gone, or not ours to remove: left as it is.
    }
  }

  /** The working folder, empty now, goes if its name still names it (rmdir: only an empty one). */
  private removeWorkingFolder(): void {
    try {
      if (this.download.stat(this.workName)?.id === this.id) this.download.rmdir(this.workName);
    } catch {
      // Gone, or not ours to remove: left as it is.
    }
  }

  /** @returns false when `name` is taken */
  private renamed(name: string): boolean {
    const path = this.download.pathOf(name);
    try {
      this.outer.renameNoReplace(UNZIPPED, name, this.download);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EEXIST") return false;
      if (code !== "ENOSYS" && code !== "EINVAL") {
        throw new TransferError("E_WRITE", `cannot rename to ${path}: ${osReason(err)}`, { cause: err });
      }
    }
    try {
      this.download.makeDir(name);
    } catch (err) {
      if ((err as { code?: string }).code === "EEXIST") return false;
      throw new TransferError("E_WRITE", `cannot create ${path}: ${osReason(err)}`, { cause: err });
    }
    try {
      this.outer.rename(UNZIPPED, name, this.download);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOTEMPTY" || code === "EEXIST") return false; // someone filled it meanwhile
      try {
        this.download.rmdir(name);
      } catch {
        // Not ours any more, or gone: leave it.
      }
      throw new TransferError("E_WRITE", `cannot rename to ${path}: ${osReason(err)}`, { cause: err });
    }
  }

  /** The directory of item `at` (-1: the working folder), held: the last one is kept for the next file. */
  private dirAt(at: number, components: readonly string[]): HeldDir {
    if (at < 0) return this.work;
    if (this.parent?.at === at) return this.parent.dir;
    this.parent?.dir.release();
    this.parent = undefined;
    let dir = this.work.retain();
    try {
      for (const component of components) {
        const next = dir.openDir(component);
        dir.release();
        dir = next;
      }
    } catch (err) {
      dir.release();
      throw err;
    }
    this.parent = { at, dir };
    return dir;
  }
}

/** Removes everything in the held folder `dir`, each level opened without following a link (MAX_ZIP_DEPTH deep at most). */
function emptyOut(dir: HeldDir): void {
  for (const name of dir.names()) {
    if (dir.stat(name)?.isDir !== true) {
      dir.unlink(name);
      continue;
    }
    const sub = dir.openDir(name);
    try {
      emptyOut(sub);
    } finally {
      sub.release();
    }
    dir.rmdir(name);
  }
}

/**
 * The folder `name` just made, held: ours, empty, writable by us alone and not renamed since it
 * was made (justMade), as mkdir made it. Another user who can change the download folder could
 * have renamed a folder of ours into its place before it was opened (an earlier received one,
 * or an empty one of ours): filled, or removed on a failure, it would be ours that is changed.
 * @throws TransferError E_WRITE when it is not the folder made
 */
function madeNow(download: HeldDir, name: string, owner: number | undefined): HeldDir {
  const dir = download.openDir(name);
  const own = dir.own();
  if (ownedByUsAs(own, owner) && (own.mode & 0o077) === 0 && justMade(dir) && dir.isEmpty()) return dir;
  dir.release();
  throw movedOrReplaced(download.pathOf(name), download.path);
}
