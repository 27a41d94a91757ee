/**
 * Free space promised to the transfers under way in this process, per file system. Each
 * incoming file claims its offered size when accepted; what it has written since no longer
 * counts as promised (statfs already shows it as used). An offer is accepted only if the free
 * space left after every other promise holds it: three offers of 90% of the free space each
 * no longer all pass. A stream of unknown size promises nothing and is checked as it grows:
 * it fails once it would eat into space promised to others.
 */

import { statfsSync, statSync } from "node:fs";
import { TransferError } from "./errors.ts";

/** A stream of unknown size checks the free space each time it has written this much more. */
export const STREAM_CHECK_EVERY_BYTES = 4 * 1024 * 1024;

interface Claim {
  readonly device: number;
  /** Bytes offered, or null for a stream. */
  readonly offered: number | null;
  written: number;
}

const claims = new Set<Claim>();

/** Free bytes of the file system holding `dir`, or undefined when it cannot be told. */
export type FreeSpaceReader = (dir: string) => number | undefined;

let freeSpaceReader: FreeSpaceReader | undefined;

/** Replaces statfs(2) here (tests inject a free space, or a race, here); undefined restores it. */
export function replaceFreeSpaceForTests(reader: FreeSpaceReader | undefined): void {
  freeSpaceReader = reader;
}

/** Free bytes of the file system holding `dir` (freeBytesAt, or what a test put in its place). */
function freeBytes(dir: string): number | undefined {
  return (freeSpaceReader ?? freeBytesAt)(dir);
}

/**
 * statfs(2) f_type of tmpfs and ramfs (linux/magic.h): 0 blocks there is no limit (tmpfs mounted
 * size=0, ramfs always). Elsewhere 0 blocks says nothing (procfs, sysfs, a FUSE file system
 * without statfs: libfuse then answers zeros), not that the room is unlimited.
 */
const UNLIMITED_WITHOUT_BLOCKS: ReadonlySet<number> = new Set([0x01021994, 0x858458f6]);

/**
 * The bytes an unprivileged user may still write on the file system holding `dir` (statfs
 * f_bavail), Infinity when it has no limit (0 blocks in all on a tmpfs mounted with size=0, which
 * Linux leaves unlimited, or on ramfs), or undefined when it cannot be told (no such folder, no
 * statfs, 0 blocks on another file system). Also the warm-up's, which runs only where it is told.
 */
export function freeBytesAt(dir: string): number | undefined {
  try {
    const stats = statfsSync(dir);
    if (stats.blocks === 0) {
      // No limit to check against, or none told: the writes will tell (the warm-up is skipped on the latter).
      return UNLIMITED_WITHOUT_BLOCKS.has(Number(stats.type)) ? Number.POSITIVE_INFINITY : undefined;
    }
    return stats.bavail * (stats.frsize || stats.bsize); // f_bavail counts fragments (statvfs, POSIX); Linux fills frsize
  } catch {
    return undefined;
  }
}

/** Bytes promised on `device` to the claims other than `except` and not yet written. */
function promised(device: number, except?: Claim): number {
  let sum = 0;
  for (const c of claims) {
    if (c !== except && c.device === device && c.offered !== null) sum += Math.max(0, c.offered - c.written);
  }
  return sum;
}

export class SpaceClaim {
  private sinceCheck = 0;

  private constructor(
    private readonly dir: string,
    private readonly claim: Claim | undefined,
  ) {}

  /**
   * Claims `offered` bytes (null: a stream, checked as it grows) in `dir`; `present`: bytes
   * already there (a resumed `.part`), which need no new space.
   * @throws TransferError E_NO_SPACE when the free space, less what is promised to transfers
   *   under way, does not hold them
   */
  static take(dir: string, offered: number | null, present = 0): SpaceClaim {
    const space = SpaceClaim.unchecked(dir, offered);
    space.wrote(present);
    space.admit();
    return space;
  }

  /**
   * Promises a whole new folder's announced `bytes` in `dir` (less what is promised to transfers
   * under way, they must fit, as a file's offer must). Its entries each claim their own size as
   * they come: `passOn` moves that much off the folder's promise first, so nothing counts twice;
   * `release` once its last entry has ended (or the connection has).
   * @param what - what needs them, for the words ("the folder photos")
   * @throws TransferError E_NO_SPACE (detail "folder") when they do not fit
   */
  static forFolder(dir: string, bytes: number, what: string): SpaceClaim {
    const space = SpaceClaim.unchecked(dir, bytes);
    const claim = space.claim;
    const free = freeBytes(dir);
    if (claim === undefined || free === undefined || bytes === 0) return space; // unknown: the writes will tell
    const others = promised(claim.device);
    if (bytes > free - others) {
      const under = others > 0 ? `, ${others} of them promised to transfers under way` : "";
      const words = `not enough space in ${dir} for ${what}: ${bytes} bytes needed, ${free} free${under}`;
      throw new TransferError("E_NO_SPACE", words, { detail: "folder" });
    }
    claims.add(claim);
    return space;
  }

  /** A folder's entry of `bytes` takes over that much of the folder's promise (it claims it itself). */
  passOn(bytes: number): void {
    if (this.claim?.offered != null) this.claim.written = Math.min(this.claim.offered, this.claim.written + bytes);
  }

  /**
   * A claim of `offered` bytes in `dir` not checked nor promised yet: the receiver first opens
   * its `.part` (an earlier attempt's, to resume, holds bytes that need no new space), reports
   * them with `wrote`, then calls `admit`.
   */
  static unchecked(dir: string, offered: number | null): SpaceClaim {
    let device: number;
    try {
      device = statSync(dir).dev;
    } catch {
      return new SpaceClaim(dir, undefined); // unknown: the writes will tell
    }
    return new SpaceClaim(dir, { device, offered, written: 0 });
  }

  /**
   * Promises what the offer still needs (offered less what was written: a resumed `.part`).
   * @throws TransferError E_NO_SPACE when the free space, less what is promised to transfers
   *   under way, does not hold it
   */
  admit(): void {
    const claim = this.claim;
    if (claim === undefined || claims.has(claim)) return;
    const free = freeBytes(this.dir);
    const needed = claim.offered === null ? 0 : claim.offered - claim.written;
    if (free !== undefined && needed > 0) {
      const others = promised(claim.device);
      if (needed > free - others) {
        const under = others > 0 ? `, ${others} of them promised to transfers under way` : "";
        const there = claim.written > 0 ? ` (${claim.written} more already there)` : "";
        throw new TransferError(
          "E_NO_SPACE",
          `not enough space in ${this.dir}: ${needed} bytes needed${there}, ${free} free${under}`,
        );
      }
    }
    claims.add(claim);
  }

  /**
   * `bytes` more were written. A stream of unknown size checks now and then that the space
   * promised to others is still free. @throws TransferError E_NO_SPACE when it is not
   */
  wrote(bytes: number): void {
    const claim = this.claim;
    if (claim === undefined) return;
    claim.written += bytes;
    if (claim.offered !== null) return;
    this.sinceCheck += bytes;
    if (this.sinceCheck < STREAM_CHECK_EVERY_BYTES) return;
    this.sinceCheck = 0;
    const free = freeBytes(this.dir);
    const others = promised(claim.device, claim);
    if (free === undefined || free >= others) return;
    throw new TransferError(
      "E_NO_SPACE",
      `not enough space in ${this.dir}: the stream has reached ${claim.written} bytes and only ${free} are free, ${others} of them promised to transfers under way`,
    );
  }

  /** The file was cut back to 0 bytes (a resume the sender refused): all of it is promised again. */
  rewind(): void {
    if (this.claim) this.claim.written = 0;
  }

  /** The transfer ended (stored, failed or cancelled): its promise goes. Safe to call twice. */
  release(): void {
    if (this.claim) claims.delete(this.claim);
  }
}
