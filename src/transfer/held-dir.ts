/**
 * HeldDir: a folder received files go into, held open, and every call in it made relative to
 * that descriptor (dir-calls.ts): the download folder, each folder of a folder transfer, a zip's
 * working folder. A name is looked up in the folder we hold, one component at a time, never
 * following a symbolic link; so in a download folder other users can change (no sticky bit),
 * renaming our folder away and putting a link in its place sends nothing through the link:
 * what we make, open, link, rename or remove lands in the folder we made, wherever it is now.
 *
 * Where those calls cannot be had (not Linux; a libc without them), the same methods go by path
 * (node:fs), as before: each call looks the path up again. The callers' checks (a folder's
 * device:inode at each entry, a final name against the open file) still run either way; by
 * name they are all there is, and a swap in the microseconds between a check and a call
 * passes them (docs/DESIGN-NOTES.md, "Directory-relative file calls (session 13)").
 *
 * Held folders are counted: each holder calls `release` once, and the last closes it.
 */

import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import { AT_FDCWD, type DirCalls, dirCalls } from "./dir-calls.ts";
import { osReason, TransferError } from "./errors.ts";

/** What a name (not followed) or an open file is: `id` is device and inode. */
export interface NameStats {
  readonly id: string;
  readonly uid: number;
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  readonly isDir: boolean;
  readonly isFile: boolean;
}

/**
 * A folder's status may change this long after it was made and it still counts as just made:
 * ext4, XFS, btrfs and tmpfs give a new folder the same birth and change time; FAT keeps the
 * change in 2 s steps, rounded down (before its birth time); a network file system may set a new
 * folder's mode in a second call.
 */
export const JUST_MADE_SLACK_MS = 1_000;

/**
 * False when the held folder (one mkdir just made, opened) is a folder whose status changed well
 * after it was made: one made earlier and renamed into its place between the mkdir and the open
 * (a rename changes the status; nothing can set it back). True where the file system keeps no
 * birth time (NFS without it, FUSE): there a swap cannot be told, as before. By name the times
 * are node:fs's (and, as every check by name, the calls after it look the path up again).
 */
export function justMade(dir: HeldDir): boolean {
  return (dir.changedAfterMadeMs() ?? 0) <= JUST_MADE_SLACK_MS;
}

const O_DIR_NOFOLLOW = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export class HeldDir {
  private holders = 1;

  private constructor(
    /** Where the folder was when we opened it (for messages and reports). */
    readonly path: string,
    /** Its descriptor; undefined by name; -1 once closed. */
    private fd: number | undefined,
    private readonly calls: DirCalls | null,
  ) {}

  /**
   * Holds the folder `path` (the download folder: links on its way are followed, as the user
   * gave it). @throws a Node-style error when it cannot be opened
   */
  static open(path: string): HeldDir {
    const calls = dirCalls();
    if (calls === null) return new HeldDir(path, undefined, null);
    return new HeldDir(path, calls.openat(AT_FDCWD, path, constants.O_RDONLY | constants.O_DIRECTORY, 0), calls);
  }

  /** True when calls go by path (no directory-relative calls here). */
  get byName(): boolean {
    return this.calls === null;
  }

  /** `name`'s path, for messages and reports. */
  pathOf(name: string): string {
    return join(this.path, name);
  }

  /**
   * The held folder's path now, for a report: `path` while it still names the folder; once another
   * program moved it (or a folder on its way) meanwhile, the path the kernel has for it now
   * (/proc/self/fd), checked to lead to it; undefined when no path does (unmounted with
   * `umount -l`, removed): what is made there can be reached by nobody. By name: `path`.
   */
  pathNow(): string | undefined {
    if (!this.calls || this.fd === undefined || this.fd < 0) return this.path;
    const held = fstatSync(this.fd);
    const leadsHere = (path: string): boolean => {
      try {
        const named = statSync(path); // followed, as the user gave it (a link to the folder)
        return named.dev === held.dev && named.ino === held.ino;
      } catch {
        return false; // nothing there now
      }
    };
    if (leadsHere(this.path)) return this.path;
    let now: string;
    try {
      now = readlinkSync(`/proc/self/fd/${this.fd}`);
    } catch {
      return this.path; // no /proc: as before
    }
    // A lazily unmounted folder reads as a path in its own detached tree ("/"): checked too.
    return now.startsWith("/") && leadsHere(now) ? now : undefined;
  }

  /** Opens (or with O_CREAT makes) the file `name`, never through a link. @returns its descriptor */
  openFile(name: string, flags: number, mode = 0o644): number {
    const nofollow = flags | constants.O_NOFOLLOW;
    return this.calls
      ? this.calls.openat(this.held(), name, nofollow, mode)
      : openSync(this.pathOf(name), nofollow, mode);
  }

  /** mkdir of `name` (mode under the umask). @throws EEXIST when anything has that name */
  makeDir(name: string, mode = 0o777): void {
    if (this.calls) this.calls.mkdirat(this.held(), name, mode);
    else mkdirSync(this.pathOf(name), mode);
  }

  /**
   * Holds the folder `name` in this one: a real directory, not a link (ELOOP, ENOTDIR).
   * By name it is checked with lstat, and later calls look its path up again.
   */
  openDir(name: string): HeldDir {
    const path = this.pathOf(name);
    if (this.calls) return new HeldDir(path, this.calls.openat(this.held(), name, O_DIR_NOFOLLOW, 0), this.calls);
    if (!lstatSync(path).isDirectory()) throw Object.assign(new Error(`ENOTDIR: ${path}`), { code: "ENOTDIR" });
    return new HeldDir(path, undefined, null);
  }

  /** What `name` is (a link is not followed), or undefined when there is nothing of that name. */
  stat(name: string): NameStats | undefined {
    if (this.calls) return this.fd === undefined || this.fd < 0 ? undefined : this.statAt(name);
    try {
      return statsOf(lstatSync(this.pathOf(name)));
    } catch {
      return undefined;
    }
  }

  /**
   * False when the held folder has entries; true when it has none or that cannot be told (no
   * /proc). Read through /proc/self/fd (the held folder, not its name); by name, its path.
   */
  isEmpty(): boolean {
    try {
      return this.names().length === 0;
    } catch {
      return true;
    }
  }

  /** The names in the held folder, read through /proc/self/fd (by name: its path). */
  names(): string[] {
    return readdirSync(this.calls ? `/proc/self/fd/${this.held()}` : this.path);
  }

  /** What the held folder itself is. */
  own(): NameStats {
    return this.calls ? this.statOrThrow("", this.held()) : statsOf(lstatSync(this.path));
  }

  /**
   * How long after the held folder was made its status last changed, ms; undefined where the
   * file system keeps no birth time (justMade).
   */
  changedAfterMadeMs(): number | undefined {
    if (this.calls) return this.calls.changedAfterMade(this.held());
    const s = lstatSync(this.path);
    return s.birthtimeMs > 0 ? s.ctimeMs - s.birthtimeMs : undefined; // 0: none kept
  }

  /** What the open file `fd` is, in the terms `stat` uses (to compare a name with it). */
  openStats(fd: number): NameStats {
    return this.calls ? this.statOrThrow("", fd) : statsOf(fstatSync(fd));
  }

  unlink(name: string): void {
    if (this.calls) this.calls.unlinkat(this.held(), name, false);
    else unlinkSync(this.pathOf(name));
  }

  rmdir(name: string): void {
    if (this.calls) this.calls.unlinkat(this.held(), name, true);
    else rmdirSync(this.pathOf(name));
  }

  /**
   * Gives the open file `fd`, now called `from` here, the new name `to` here (never replacing
   * anything: EEXIST). @returns true when `to` is sure to be that very file (linked by its
   * descriptor); false when it went by `from`'s name, which another process could have
   * swapped meanwhile (the caller compares them)
   */
  link(fd: number, from: string, to: string): boolean {
    if (this.calls) {
      try {
        this.calls.linkFd(fd, this.held(), to);
        return true;
      } catch (err) {
        // No hard links (EPERM...) or no way to link a descriptor (no /proc): by name below.
        if ((err as { code?: string }).code === "EEXIST") throw err;
      }
      this.calls.linkat(this.held(), from, to);
      return false;
    }
    linkSync(this.pathOf(from), this.pathOf(to));
    return false;
  }

  /** rename(2) of `from` here to `to` in `toDir` (this one by default; replaces `to` as rename does). */
  rename(from: string, to: string, toDir: HeldDir = this): void {
    if (this.calls) this.calls.renameat(this.held(), from, toDir.held(), to);
    else renameSync(this.pathOf(from), toDir.pathOf(to));
  }

  /**
   * rename of `from` here to `to` in `toDir` (this one by default) that fails EEXIST rather than
   * replace `to`; ENOSYS (or EINVAL) where it cannot be had.
   */
  renameNoReplace(from: string, to: string, toDir: HeldDir = this): void {
    if (!this.calls) throw Object.assign(new Error("ENOSYS: renameat2"), { code: "ENOSYS" });
    this.calls.renameNoReplace(this.held(), from, toDir.held(), to);
  }

  /** chmod of the held folder itself (by name: opened without following a link, as before). */
  chmod(mode: number): void {
    if (this.calls) return fchmodSync(this.held(), mode);
    const fd = openSync(this.path, O_DIR_NOFOLLOW);
    try {
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
  }

  /** One more holder (each calls `release`). */
  retain(): this {
    this.holders++;
    return this;
  }

  /** This holder is done; the last closes the folder. Calls after that fail (EBADF). */
  release(): void {
    if (--this.holders > 0 || this.fd === undefined || this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private held(): number {
    if (this.fd === undefined || this.fd < 0) throw Object.assign(new Error(`EBADF: ${this.path}`), { code: "EBADF" });
    return this.fd;
  }

  private statAt(name: string, fd = this.held()): NameStats | undefined {
    const s = (this.calls as DirCalls).stat(fd, name);
    return s && { id: `${s.dev}:${s.ino}`, uid: s.uid, mode: s.mode, isDir: s.isDir, isFile: s.isFile };
  }

  private statOrThrow(name: string, fd: number): NameStats {
    const stats = this.statAt(name, fd);
    if (stats === undefined) throw Object.assign(new Error(`statx failed: ${this.path}`), { code: "EIO" });
    return stats;
  }
}

/** Holds the download folder `path`, as HeldDir.open. @throws TransferError E_WRITE ("cannot open PATH: why") */
export function holdDownloadFolder(path: string): HeldDir {
  try {
    return HeldDir.open(path);
  } catch (err) {
    throw new TransferError("E_WRITE", `cannot open ${path}: ${osReason(err)}`, { cause: err });
  }
}

/**
 * The error for a folder or file of ours at `path` that another process moved or replaced (a swap
 * in a download folder, `downloadPath`, other users can change).
 */
export function movedOrReplaced(path: string, downloadPath: string): TransferError {
  return new TransferError(
    "E_WRITE",
    `${path} was moved or replaced by another process (other users can change ${downloadPath})`,
  );
}

function statsOf(s: {
  dev: number;
  ino: number;
  uid: number;
  mode: number;
  isDirectory(): boolean;
  isFile(): boolean;
}): NameStats {
  return { id: `${s.dev}:${s.ino}`, uid: s.uid, mode: s.mode & 0o7777, isDir: s.isDirectory(), isFile: s.isFile() };
}
