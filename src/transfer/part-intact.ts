/**
 * Whether a `.part` still holds what was written to it, checked once before it is named: its
 * digest is of the bytes as they arrived, not as the disk holds them, so another program that
 * cut it short meanwhile (`truncate`, `> name.part`, a clean-up script) left zeros where the
 * sender's bytes were, and the later writes, at their offsets, made it whole-sized again: it
 * was named and "verified". Two cheap looks (no read back): its size, and, on file systems
 * that keep every written byte as data, a hole (lseek SEEK_HOLE) below its size.
 */

import { fstatSync, statfsSync } from "node:fs";
import { PART_CHANGED, TransferError } from "./errors.ts";
import { loadLibc } from "./libc.ts";

/** Linux's SEEK_HOLE (macOS's differs: the hole look is Linux's). */
const SEEK_HOLE = 4;
const LINUX = process.platform === "linux";

/**
 * statfs f_type of file systems that store every byte written as data, so a hole in a file we
 * wrote whole was cut by someone else: ext2/3/4, XFS, btrfs, tmpfs. Not ZFS (with compression
 * it stores a block of zeros as a hole, and SEEK_HOLE on a file just written waits for its
 * transaction group to be written out), nor others not known.
 */
export const HOLES_ARE_CUTS: ReadonlySet<number> = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994]);

/** Per device (fstat's dev): whether HOLES_ARE_CUTS holds there. */
const byDevice = new Map<number, boolean>();

/** A resumed `.part`'s prefix as it was taken up: its length, and its first hole then (firstHoleIn). */
export interface TakenPrefix {
  readonly bytes: number;
  readonly hole: number | undefined;
}

/**
 * Why the `.part` open as `fd` no longer holds the `written` bytes written to it, in words;
 * undefined when nothing says so. Parley never leaves a hole in a `.part` (a failed pooled
 * write's is cut back, write-behind.ts), so one found was made by another program; but a
 * resumed `prefix` may have come with one (a sparse `.part` of zeros the sender's digest
 * matched): that one is let be, one before it (the prefix cut after its digest was taken) is not.
 */
export function partChangedSince(fd: number, written: number, prefix?: TakenPrefix): string | undefined {
  let stats: ReturnType<typeof fstatSync>;
  try {
    stats = fstatSync(fd);
  } catch {
    return undefined; // nothing to tell by
  }
  if (stats.nlink === 0) return "it was deleted";
  if (stats.size < written) return `it was cut to ${stats.size} bytes`;
  if (stats.size > written) return `it grew to ${stats.size} bytes`;
  let hole = firstHole(fd, stats.dev, 0);
  const sparse = prefix?.hole !== undefined && prefix.hole < prefix.bytes;
  if (sparse && hole === prefix?.hole) hole = firstHole(fd, stats.dev, prefix.bytes);
  return hole !== undefined && hole < written
    ? `part of it was cut away: it reads zeros from byte ${hole} or before (the file system's block holding the cut)`
    : undefined;
}

/**
 * Checks that the verified `.part` `partName` (open as `fd`, `written` bytes, a resumed `prefix`)
 * still holds them. @throws TransferError E_WRITE (PART_CHANGED) when it does not
 */
export function checkPartIntact(fd: number, partName: string, written: number, prefix?: TakenPrefix): void {
  const changed = partChangedSince(fd, written, prefix);
  if (changed !== undefined) {
    throw new TransferError(
      "E_WRITE",
      `another program changed ${partName} while it was written (${changed}): it does not hold what was sent, so it was not stored (and the .part was removed: sending again starts it over)`,
      { detail: PART_CHANGED },
    );
  }
}

/** The first hole in the file open as `fd` (its size when none), where holes are told; else undefined. */
export function firstHoleIn(fd: number): number | undefined {
  try {
    return firstHole(fd, fstatSync(fd).dev, 0);
  } catch {
    return undefined;
  }
}

/** lseek(fd, from, SEEK_HOLE) where holes are cuts; undefined where that cannot be told. */
function firstHole(fd: number, dev: number, from: number): number | undefined {
  const libc = LINUX ? loadLibc() : null;
  if (libc === null || !holesAreCuts(fd, dev)) return undefined;
  const at = Number(libc.lseek(fd, from, SEEK_HOLE));
  return at >= 0 ? at : undefined;
}

function holesAreCuts(fd: number, dev: number): boolean {
  let known = byDevice.get(dev);
  if (known === undefined) {
    try {
      known = HOLES_ARE_CUTS.has(Number(statfsSync(`/proc/self/fd/${fd}`).type));
    } catch {
      known = false;
    }
    byDevice.set(dev, known);
  }
  return known;
}
