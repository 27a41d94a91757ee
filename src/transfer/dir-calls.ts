/**
 * File calls relative to an open directory (openat, mkdirat, linkat, renameat, unlinkat, statx)
 * through bun:ffi, for held-dir.ts: Node's fs has none of them, and by name a path is looked up
 * again at each call, so another user who can change a folder on the way (no sticky bit) can
 * swap a directory for a symbolic link between two calls and send the second one elsewhere.
 *
 * Linux only: the AT_* numbers, statx's layout and a variadic openat called with a fixed list
 * (safe where variadic integers travel like fixed ones, as on Linux x86-64 and arm64; not on
 * macOS arm64) are Linux's. Elsewhere, or where libc lacks a symbol, `dirCalls()` is null and
 * held-dir.ts goes by name with the checks it had before.
 *
 * Each call throws an Error shaped like Node's (`code` "EEXIST", `errno`, `syscall`), so the
 * callers' `code` tests and osReason's words are the same either way.
 */

import { FFIType, ptr, read } from "bun:ffi";
import { constants } from "node:os";
import { lazyLibrary } from "../native/library.ts";

const LINUX = process.platform === "linux";
export const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_EMPTY_PATH = 0x1000;
/** O_CLOEXEC (the same on x86-64 and arm64): a child process never inherits a held folder. */
export const O_CLOEXEC = 0o2000000;
const RENAME_NOREPLACE = 1;
/** STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO. */
const STATX_MASK = 0x1 | 0x2 | 0x8 | 0x100;
const STATX_CTIME = 0x80;
const STATX_BTIME = 0x800;
/** struct statx: stx_btime and stx_ctime (each tv_sec i64, tv_nsec u32, 4 spare bytes). */
const BTIME_AT = 80;
const CTIME_AT = 96;
const STATX_BYTES = 256;

const i32 = FFIType.i32;
const p = FFIType.ptr;
const SYMBOLS = {
  openat: { args: [i32, p, i32, FFIType.u32], returns: i32 },
  mkdirat: { args: [i32, p, FFIType.u32], returns: i32 },
  unlinkat: { args: [i32, p, i32], returns: i32 },
  linkat: { args: [i32, p, i32, p, i32], returns: i32 },
  renameat: { args: [i32, p, i32, p], returns: i32 },
  statx: { args: [i32, p, i32, FFIType.u32, p], returns: i32 },
  __errno_location: { args: [], returns: p },
} as const;
/** Optional (glibc 2.28+; some libcs lack it): a rename that never replaces. */
const RENAME2 = { renameat2: { args: [i32, p, i32, p, FFIType.u32], returns: i32 } } as const;
const LIBC_NAMES = ["libc.so.6", "libc.so"];
const loadAt = lazyLibrary(LINUX ? LIBC_NAMES : [], SYMBOLS);
const loadRename2Once = lazyLibrary(LINUX ? LIBC_NAMES : [], RENAME2);
let rename2Tried = false;
function loadRename2(): ReturnType<typeof loadRename2Once> {
  rename2Tried = true;
  return loadRename2Once();
}

/** What statx says of a name (not followed when a link) or of an open descriptor. */
export interface AtStats {
  readonly dev: string;
  readonly ino: bigint;
  readonly uid: number;
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  readonly isDir: boolean;
  readonly isFile: boolean;
}

/** The directory-relative calls; each throws a Node-style error (`code`). */
export interface DirCalls {
  openat(dirfd: number, name: string, flags: number, mode: number): number;
  mkdirat(dirfd: number, name: string, mode: number): void;
  unlinkat(dirfd: number, name: string, dir: boolean): void;
  /** Gives the open file `fd` the name `dirfd/name` (never a name lookup for the file itself). */
  linkFd(fd: number, dirfd: number, name: string): void;
  /** link(2) of `from` to `to`, both in `dirfd`, the source not followed when a link. */
  linkat(dirfd: number, from: string, to: string): void;
  renameat(dirfd: number, from: string, toDirfd: number, to: string): void;
  /** rename that fails EEXIST rather than replace; throws ENOSYS where libc lacks it. */
  renameNoReplace(dirfd: number, from: string, toDirfd: number, to: string): void;
  /** statx of `dirfd/name` (links not followed), or of `dirfd` itself when `name` is ""; undefined when it fails. */
  stat(dirfd: number, name: string): AtStats | undefined;
  /**
   * statx of the open `fd` itself: how long after it was made its status last changed (a rename,
   * a chmod, an entry added...), ms; undefined where the file system keeps no birth time.
   */
  changedAfterMade(fd: number): number | undefined;
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** Bytes of `name` for C, with its NUL. */
function cString(name: string): Buffer {
  return Buffer.from(`${name}\0`, "utf8");
}

let calls: DirCalls | null | undefined;
let forcedByName = false;
/** How an open file gets a name: by its descriptor (root, or Linux 6.10+), else through /proc; learned once. */
let linkByEmptyPath = true;

/** The calls, or null where they cannot be had (not Linux, a libc without them). */
export function dirCalls(): DirCalls | null {
  if (forcedByName) return null;
  if (calls !== undefined) return calls;
  const libc = loadAt();
  calls = libc === null ? null : makeCalls(libc);
  return calls;
}

/**
 * Opens libc for these calls (and the optional renameat2) ahead of need: session/preload.ts
 * calls it once the code is shown. Else the dlopens (about 1 ms each here) fall in a transfer's
 * first OFFER and its first stored file, while the event loop holds the chat lines that came
 * with them.
 */
export function preloadDirCalls(): void {
  if (dirCalls() !== null) loadRename2();
}

/** Whether preloadDirCalls (or a first use) has opened what it opens; for tests. */
export function dirCallsLoaded(): boolean {
  return calls !== undefined && (calls === null || rename2Tried);
}

/**
 * Tests: "by-name" makes folders held from now on go by name (the fallback); "proc-links" names
 * open files through /proc (as without AT_EMPTY_PATH); undefined restores both.
 */
export function forceForTests(mode: "by-name" | "proc-links" | undefined): void {
  forcedByName = mode === "by-name";
  linkByEmptyPath = mode !== "proc-links";
}

type AtLibc = NonNullable<ReturnType<typeof loadAt>>;

/**
 * From a struct statx filled for STATX_BTIME | STATX_CTIME: its change time less its birth time,
 * ms; undefined when stx_mask says no birth time, or gives the epoch (a file system that says it
 * keeps one but does not). Pure (tests give it a buffer).
 */
export function changedAfterMadeIn(view: DataView): number | undefined {
  const times = STATX_BTIME | STATX_CTIME;
  if ((view.getUint32(0, true) & times) !== times) return undefined;
  const made = msAt(view, BTIME_AT);
  return made === 0 ? undefined : msAt(view, CTIME_AT) - made;
}

/** A struct statx_timestamp at `at`, in ms since the epoch. */
function msAt(view: DataView, at: number): number {
  return (view.getInt32(at + 4, true) * 2 ** 32 + view.getUint32(at, true)) * 1000 + view.getUint32(at + 8, true) / 1e6;
}

function makeCalls(libc: AtLibc): DirCalls {
  const errno = (): number => {
    const at = libc.__errno_location();
    return at === null ? 0 : read.i32(at, 0);
  };
  const fail = (syscall: string, name: string, number = errno()): never => {
    const code = ERRNO_NAMES.get(number) ?? `errno ${number}`;
    throw Object.assign(new Error(`${code}: ${syscall} '${name}'`), { code, errno: number, syscall, path: name });
  };
  const statBuffer = new Uint8Array(STATX_BYTES);
  const view = new DataView(statBuffer.buffer);
  return {
    openat(dirfd, name, flags, mode) {
      const fd = libc.openat(dirfd, cString(name), flags | O_CLOEXEC, mode);
      return fd >= 0 ? fd : fail("openat", name);
    },
    mkdirat(dirfd, name, mode) {
      if (libc.mkdirat(dirfd, cString(name), mode) !== 0) fail("mkdirat", name);
    },
    unlinkat(dirfd, name, dir) {
      if (libc.unlinkat(dirfd, cString(name), dir ? AT_REMOVEDIR : 0) !== 0) fail("unlinkat", name);
    },
    linkFd(fd, dirfd, name) {
      const to = cString(name);
      if (linkByEmptyPath) {
        if (libc.linkat(fd, cString(""), dirfd, to, AT_EMPTY_PATH) === 0) return;
        // ENOENT: AT_EMPTY_PATH needs a capability before Linux 6.10; go through /proc instead.
        const number = errno();
        if (number !== constants.errno.ENOENT) fail("linkat", name, number);
      }
      if (libc.linkat(AT_FDCWD, cString(`/proc/self/fd/${fd}`), dirfd, to, AT_SYMLINK_FOLLOW) === 0) {
        linkByEmptyPath = false;
        return;
      }
      fail("linkat", name);
    },
    linkat(dirfd, from, to) {
      if (libc.linkat(dirfd, cString(from), dirfd, cString(to), 0) !== 0) fail("linkat", to);
    },
    renameat(dirfd, from, toDirfd, to) {
      if (libc.renameat(dirfd, cString(from), toDirfd, cString(to)) !== 0) fail("renameat", to);
    },
    renameNoReplace(dirfd, from, toDirfd, to) {
      const rename2 = loadRename2();
      if (rename2 === null) throw Object.assign(new Error("ENOSYS: renameat2"), { code: "ENOSYS" });
      if (rename2.renameat2(dirfd, cString(from), toDirfd, cString(to), RENAME_NOREPLACE) !== 0) fail("renameat2", to);
    },
    stat(dirfd, name) {
      const flags = name === "" ? AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW : AT_SYMLINK_NOFOLLOW;
      // No error built for a name that is not there: the usual answer when a free name is looked for.
      if (libc.statx(dirfd, cString(name), flags, STATX_MASK, ptr(statBuffer)) !== 0) return undefined;
      const type = view.getUint16(28, true) & 0o170000;
      return {
        // stx_dev_major:stx_dev_minor; stx_ino
        dev: `${view.getUint32(136, true)}:${view.getUint32(140, true)}`,
        ino: view.getBigUint64(32, true),
        uid: view.getUint32(20, true),
        mode: view.getUint16(28, true) & 0o7777,
        isDir: type === 0o040000,
        isFile: type === 0o100000,
      };
    },
    changedAfterMade(fd) {
      const flags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW;
      if (libc.statx(fd, cString(""), flags, STATX_BTIME | STATX_CTIME, ptr(statBuffer)) !== 0) return undefined;
      return changedAfterMadeIn(view);
    },
  };
}
