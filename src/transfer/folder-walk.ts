/**
 * Lists what `transfer <folder>` sends: every regular file and every empty directory under the
 * folder, with their paths relative to it. Symbolic links are never followed (a link could
 * point anywhere, inside the folder or out of it): they are listed as skipped, as are
 * sockets, FIFOs and devices, each with its kind. A folder that holds only skipped entries is
 * sent as an empty folder (it exists on the receiver too).
 */

import { lstatSync, readdirSync, type Stats, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { osReason, TransferError } from "./errors.ts";

/** A file's device and inode, as lstat gave them when it was listed. */
export interface FileId {
  readonly dev: number;
  readonly ino: number;
}

export interface FolderItem {
  readonly kind: "file" | "dir";
  readonly path: string;
  /** A file's identity when listed: the one opened to be sent must be it (FileSender). */
  readonly id?: FileId;
  /** Components relative to the folder; the last one is the item's own name. */
  readonly rel: readonly string[];
  readonly size: number;
}

/**
 * Why an entry was left out: a symbolic link, a FIFO, a socket, a device, a name that is not
 * UTF-8 (the peer is sent names as text), gone before it could be looked at, a folder whose
 * entries would be deeper than the walk's `maxDepth` (OFFER names at most MAX_PATH_DEPTH
 * components), a path longer than the system opens (ENAMETOOLONG: a folder whose path is past
 * PATH_MAX, found with what it holds); (when zipped for a plain wormhole peer, zip-build.ts)
 * unreadable or changed since the listing, or a name with a backslash.
 */
export type SkipKind =
  | "link"
  | "fifo"
  | "socket"
  | "device"
  | "name"
  | "gone"
  | "unreadable"
  | "unreadable-folder"
  | "backslash"
  | "deep"
  | "long-path";

export interface SkippedEntry {
  /** Path relative to the folder ("sub/link"). */
  readonly rel: string;
  readonly kind: SkipKind;
}

export interface FolderListing {
  /** The folder's own name. */
  readonly root: string;
  readonly items: readonly FolderItem[];
  readonly bytes: number;
  /** Entries left out (links, special files), for the user to hear about. */
  readonly skipped: readonly SkippedEntry[];
}

/** Why an entry that could not be looked at is left out: gone (ENOENT), its path too long (ENAMETOOLONG), or `otherwise`. */
function failedKind(err: unknown, otherwise: "unreadable" | "unreadable-folder"): SkipKind {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === "ENOENT" ? "gone" : code === "ENAMETOOLONG" ? "long-path" : otherwise;
}

/**
 * @param maxDepth - most components in an entry's path: a folder whose entries would have more is
 *   left out with all it holds ("deep")
 * @throws TransferError E_READ when a directory cannot be read
 */
export function walkFolder(folder: string, maxDepth = Number.POSITIVE_INFINITY): FolderListing {
  const walk = folderWalk(folder, {}, maxDepth);
  let step = walk.next();
  for (;;) {
    if (step.done) return step.value;
    step = typeof step.value === "number" ? walk.next() : readNow(walk, step.value.read);
  }
}

/** Reads the directory `dir` the walk asked for, sending it its names (or the error). */
function readNow(walk: ReturnType<typeof folderWalk>, dir: string): ReturnType<typeof walk.next> {
  let names: Buffer[];
  try {
    names = readdirSync(dir, { encoding: "buffer" });
  } catch (err) {
    return walk.throw(err);
  }
  return walk.next(names);
}

/**
 * A directory's names being read and sorted, before any of its entries is looked at (a million
 * names in one directory take seconds): what walkFolderSoon's listener is told meanwhile, as
 * the count of entries stands still.
 */
export interface NamesRead {
  /** The directory's path. */
  readonly dir: string;
  /** Its names read so far; all of them once sorting. */
  readonly names: number;
  readonly sorting: boolean;
}

/**
 * A directory this big (its size as stat gives it: ~10,000 names on ext4 or tmpfs) is read off
 * the event loop by walkFolderSoon; a smaller one at once (reading it elsewhere costs more than
 * it: /usr's 20,000 directories all read off the loop took 2.1-2.8 s to list instead of 0.8).
 */
export const BIG_DIR_BYTES = 256 * 1024;

/** How long walkFolderSoon lists before it hands the event loop back (chat lines, PINGs, signals). */
export const WALK_SLICE_MS = 4;

/**
 * walkFolder in slices of WALK_SLICE_MS, handing the event loop back between them: a home
 * folder takes seconds to list (100,000 entries ~0.3 s here), and the chat must not freeze
 * meanwhile. A big directory (BIG_DIR_BYTES) is read off the event loop (readdir of a million
 * names: 0.7 s here), its names checked and sorted a slice at a time.
 * @param listed - told between slices how many entries are listed so far, and while a
 *   directory's names are read or sorted, which and how many (NamesRead)
 * @param now - the slices' clock, milliseconds (tests pass their own)
 * @param maxDepth - as walkFolder's
 * @throws TransferError E_READ when a directory cannot be read
 */
export async function walkFolderSoon(
  folder: string,
  listed?: (entries: number, reading?: NamesRead) => void,
  now: () => number = () => performance.now(),
  maxDepth = Number.POSITIVE_INFINITY,
): Promise<FolderListing> {
  const progress: WalkProgress = {};
  const walk = folderWalk(folder, progress, maxDepth);
  let sliceStart = now();
  let step = walk.next();
  for (;;) {
    if (step.done) return step.value;
    if (typeof step.value !== "number") {
      if (step.value.bytes < BIG_DIR_BYTES) {
        step = readNow(walk, step.value.read);
        continue;
      }
      let names: Array<string | Buffer>;
      try {
        // As text: a million names as Buffers take the event loop 0.46 s to hand over, as text 0.09 s.
        names = await readdir(step.value.read, { encoding: "utf8" });
        // A name that is not UTF-8 came as U+FFFD: its bytes tell (walkFolder's way), rare enough.
        if (names.some((name) => (name as string).includes("\uFFFD")))
          names = await readdir(step.value.read, { encoding: "buffer" });
      } catch (err) {
        step = walk.throw(err);
        continue;
      }
      step = walk.next(names);
      continue;
    }
    const entries = step.value;
    step = walk.next();
    if (now() - sliceStart < WALK_SLICE_MS) continue;
    listed?.(entries, progress.reading);
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = now();
  }
}

/**
 * A step of the walk: the entries listed so far, or a directory whose names it needs next (sent
 * back as Buffers, or as text when none holds U+FFFD).
 */
type WalkStep = number | { readonly read: string; readonly bytes: number };

/** Where the walk is, beyond its steps' count: set while a directory's names are read or sorted. */
interface WalkProgress {
  reading?: NamesRead | undefined;
}

/** Names decoded, or runs sorted or merged, between two steps of the walk. */
const NAMES_A_STEP = 1_024;

/**
 * The walk, one step an entry looked at (or NAMES_A_STEP names decoded or sorted): each step
 * yields the entries listed so far, or asks for a directory's names (its reader sends them back).
 */
function* folderWalk(
  folder: string,
  progress: WalkProgress,
  maxDepth: number,
): Generator<WalkStep, FolderListing, ReadonlyArray<string | Buffer> | undefined> {
  const items: FolderItem[] = [];
  const skipped: SkippedEntry[] = [];
  let bytes = 0;
  const visit = function* (
    dir: string,
    rel: string[],
    dirBytes: number,
  ): Generator<WalkStep, void, ReadonlyArray<string | Buffer> | undefined> {
    let raw: ReadonlyArray<string | Buffer>;
    try {
      raw = (yield { read: dir, bytes: dirBytes }) ?? [];
    } catch (err) {
      // The folder sent must be readable; a subfolder that is not (another user's, mode 0700; or
      // gone meanwhile) is left out with what it holds and said, as an entry that cannot be
      // looked at: one such folder in a home folder made the whole send fail.
      if (rel.length === 0) {
        throw new TransferError("E_READ", `cannot read the folder ${dir}: ${osReason(err)}`, { cause: err });
      }
      skipped.push({ rel: rel.join("/"), kind: failedKind(err, "unreadable-folder") });
      return;
    }
    const names: string[] = [];
    const reading = (sorting: boolean) => {
      progress.reading = { dir, names: names.length, sorting };
      return items.length + skipped.length;
    };
    for (const bytes of raw) {
      if (typeof bytes === "string") {
        names.push(bytes); // read as text: no U+FFFD in any (walkFolderSoon)
        if (names.length % NAMES_A_STEP === 0) yield reading(false);
        continue;
      }
      const name = utf8Name(bytes);
      // Not UTF-8: as a string it names another path (U+FFFD for the bad bytes), never this file.
      if (name === undefined) skipped.push({ rel: [...rel, bytes.toString("utf8")].join("/"), kind: "name" });
      else names.push(name);
      if (names.length % NAMES_A_STEP === 0) yield reading(false);
    }
    const sorted = yield* sortSoon(names, reading(true));
    progress.reading = undefined; // its entries are looked at now: the count moves
    const itemsBefore = items.length;
    for (const name of sorted) {
      yield items.length + skipped.length;
      const path = join(dir, name);
      let stats: Stats;
      try {
        stats = lstatSync(path);
      } catch (err) {
        // Deleted between the listing and now (or no longer reachable, or its path too long): left out, said.
        skipped.push({ rel: [...rel, name].join("/"), kind: failedKind(err, "unreadable") });
        continue;
      }
      if (stats.isDirectory() && rel.length + 1 >= maxDepth) atDepth(path, [...rel, name]);
      else if (stats.isDirectory()) yield* visit(path, [...rel, name], stats.size);
      else if (stats.isFile()) {
        items.push({
          kind: "file",
          path,
          rel: [...rel, name],
          size: stats.size,
          id: { dev: stats.dev, ino: stats.ino },
        });
        bytes += stats.size;
      } else skipped.push({ rel: [...rel, name].join("/"), kind: skipKind(stats) });
    }
    // Empty, or only links and special files inside: the folder itself still goes.
    if (items.length === itemsBefore && rel.length > 0) items.push({ kind: "dir", path: dir, rel, size: 0 });
  };
  // A folder `maxDepth` deep: its own path fits, its entries' would not. Empty, it goes (as any
  // empty folder); holding anything, it is left out with it all, said.
  const atDepth = (path: string, rel: string[]): void => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (err) {
      skipped.push({ rel: rel.join("/"), kind: failedKind(err, "unreadable-folder") });
      return;
    }
    if (names.length === 0) items.push({ kind: "dir", path, rel, size: 0 });
    else skipped.push({ rel: rel.join("/"), kind: "deep" });
  };
  yield* visit(folder, [], sizeOf(folder));
  // The folder's own name, also for "." or "..": its name from the path as given would be "."
  // or "..", which the receiver cannot store (it became "received-file").
  const root = basename(resolve(folder)) || "folder";
  if (items.length === 0) items.push({ kind: "dir", path: folder, rel: [], size: 0 }); // the folder itself, empty
  return { root, items, bytes, skipped };
}

/**
 * `names` in the order Array.prototype.sort gives them (UTF-16 code units), sorted in runs of
 * NAMES_A_STEP and merged, a step between runs and every NAMES_A_STEP merged: one sort of a
 * million names is 130 ms without a break here. Steps yield `entries`.
 */
function* sortSoon(names: string[], entries: number): Generator<WalkStep, string[], unknown> {
  if (names.length <= NAMES_A_STEP) return names.sort();
  let runs: string[][] = [];
  for (let at = 0; at < names.length; at += NAMES_A_STEP) {
    runs.push(names.slice(at, at + NAMES_A_STEP).sort());
    yield entries;
  }
  while (runs.length > 1) {
    const merged: string[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const a = runs[i] as string[];
      const b = runs[i + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const out: string[] = [];
      let ia = 0;
      let ib = 0;
      while (ia < a.length || ib < b.length) {
        const x = a[ia];
        const y = b[ib];
        // Taking from `a` on ties keeps equal names in order (there are none in one directory).
        if (y === undefined || (x !== undefined && x <= y)) {
          out.push(x as string);
          ia++;
        } else {
          out.push(y);
          ib++;
        }
        if (out.length % NAMES_A_STEP === 0) yield entries;
      }
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0] as string[];
}

/** The size stat gives `path` (following a link: the folder as typed), or 0 when it cannot be told. */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // its read says why
  }
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The name as text, or undefined when its bytes are not UTF-8. */
function utf8Name(bytes: Buffer): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function skipKind(stats: Stats): SkipKind {
  if (stats.isSymbolicLink()) return "link";
  if (stats.isFIFO()) return "fifo";
  if (stats.isSocket()) return "socket";
  return "device";
}
