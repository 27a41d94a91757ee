/**
 * Lists what `transfer <folder>` sends: every regular file and every empty directory under the
 * folder, with their paths relative to it. Symbolic links are never followed (a link could
 * point anywhere, inside the folder or out of it): they are listed as skipped, as are
 * sockets, FIFOs and devices, each with its kind. A folder that holds only skipped entries is
 * sent as an empty folder (it exists on the receiver too).
 */

import { lstatSync, readdirSync, type Stats } from "node:fs";
import { basename, join, resolve } from "node:path";
import { osReason, TransferError } from "./errors.ts";

export interface FolderItem {
  readonly kind: "file" | "dir";
  readonly path: string;
  /** Components relative to the folder; the last one is the item's own name. */
  readonly rel: readonly string[];
  readonly size: number;
}

/**
 * Why an entry was left out: a symbolic link, a FIFO, a socket, a device, a name that is not
 * UTF-8 (the peer is sent names as text), gone before it could be looked at; (when zipped for a
 * plain wormhole peer, zip-build.ts) unreadable or changed since the listing, or a name with a
 * backslash.
 */
export type SkipKind = "link" | "fifo" | "socket" | "device" | "name" | "gone" | "unreadable" | "backslash";

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

/** @throws TransferError E_READ when a directory cannot be read */
export function walkFolder(folder: string): FolderListing {
  const walk = folderWalk(folder);
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
  }
}

/** How long walkFolderSoon lists before it hands the event loop back (chat lines, PINGs, signals). */
export const WALK_SLICE_MS = 4;

/**
 * walkFolder in slices of WALK_SLICE_MS, handing the event loop back between them: a home
 * folder takes seconds to list (100,000 entries ~0.3 s here), and the chat must not freeze meanwhile.
 * @param listed - told between slices how many entries are listed so far
 * @param now - the slices' clock, milliseconds (tests pass their own)
 * @throws TransferError E_READ when a directory cannot be read
 */
export async function walkFolderSoon(
  folder: string,
  listed?: (entries: number) => void,
  now: () => number = () => performance.now(),
): Promise<FolderListing> {
  const walk = folderWalk(folder);
  let sliceStart = now();
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
    if (now() - sliceStart < WALK_SLICE_MS) continue;
    listed?.(step.value);
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = now();
  }
}

/** The walk, one step an entry looked at: each step yields the entries listed so far. */
function* folderWalk(folder: string): Generator<number, FolderListing> {
  const items: FolderItem[] = [];
  const skipped: SkippedEntry[] = [];
  let bytes = 0;
  const visit = function* (dir: string, rel: string[]): Generator<number> {
    let raw: Buffer[];
    try {
      raw = readdirSync(dir, { encoding: "buffer" });
    } catch (err) {
      throw new TransferError("E_READ", `cannot read the folder ${dir}: ${osReason(err)}`, { cause: err });
    }
    const names: string[] = [];
    for (const bytes of raw) {
      const name = utf8Name(bytes);
      // Not UTF-8: as a string it names another path (U+FFFD for the bad bytes), never this file.
      if (name === undefined) skipped.push({ rel: [...rel, bytes.toString("utf8")].join("/"), kind: "name" });
      else names.push(name);
    }
    names.sort();
    const itemsBefore = items.length;
    for (const name of names) {
      yield items.length + skipped.length;
      const path = join(dir, name);
      let stats: Stats;
      try {
        stats = lstatSync(path);
      } catch (err) {
        // Deleted between the listing and now (or no longer reachable): left out, said.
        const gone = (err as { code?: string }).code === "ENOENT";
        skipped.push({ rel: [...rel, name].join("/"), kind: gone ? "gone" : "unreadable" });
        continue;
      }
      if (stats.isDirectory()) yield* visit(path, [...rel, name]);
      else if (stats.isFile()) {
        items.push({ kind: "file", path, rel: [...rel, name], size: stats.size });
        bytes += stats.size;
      } else skipped.push({ rel: [...rel, name].join("/"), kind: skipKind(stats) });
    }
    // Empty, or only links and special files inside: the folder itself still goes.
    if (items.length === itemsBefore && rel.length > 0) items.push({ kind: "dir", path: dir, rel, size: 0 });
  };
  yield* visit(folder, []);
  // The folder's own name, also for "." or "..": its name from the path as given would be "."
  // or "..", which the receiver cannot store (it became "received-file").
  const root = basename(resolve(folder)) || "folder";
  if (items.length === 0) items.push({ kind: "dir", path: folder, rel: [], size: 0 }); // the folder itself, empty
  return { root, items, bytes, skipped };
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
