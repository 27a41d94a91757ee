/**
 * FileReceiver: stores one incoming file. Bytes go into `<name>.part`, created exclusively in
 * the download directory, hashed as they arrive. On END the count and digest are checked; only
 * then is the file given its final name, with link(2), which fails rather than overwrite: the
 * final name never holds a partial or unverified file, and no existing file is ever replaced.
 *
 * Writes use fs.writeSync: it throws a catchable error on a full disk (Bun's FileSink instead
 * rejects Promises that crash the process when unhandled and may lose bytes silently).
 */

import { closeSync, linkSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { type ChecksumAlgo, checksumLabel, createDigest, type RunningDigest } from "./checksum.ts";
import { osReason, TransferError } from "./errors.ts";
import { numberedName, sanitizeFileName } from "./file-names.ts";
import type { IncomingSink, ReceivedFile } from "./source.ts";

/** Suffix of files still being received. */
export const PART_SUFFIX = ".part";
/** Largest single write() into the file. */
const WRITE_PIECE_BYTES = 256 * 1024;
/** Names tried before giving up ("name (1).ext" ... "name (999).ext"): each try is a file system call. */
const MAX_NAME_TRIES = 1_000;

export class FileReceiver implements IncomingSink {
  /** Bytes written so far. */
  received = 0;
  private fd: number | undefined;
  private readonly digest: RunningDigest;

  private constructor(
    readonly id: number,
    readonly dir: string,
    /** The sanitised offered name; the file gets it or a numbered variant ("name (1).ext"). */
    private readonly baseName: string,
    /** Which numbered variant was free when the transfer began. */
    private readonly nameIndex: number,
    /** Bytes offered, or null when unknown (a stream). */
    readonly size: number | null,
    readonly algo: ChecksumAlgo,
    fd: number,
    private readonly partPath: string,
  ) {
    this.fd = fd;
    this.digest = createDigest(algo);
  }

  /**
   * Creates the `.part` file for an offered file in `dir`.
   * @throws TransferError E_WRITE when no file can be created there
   */
  static open(dir: string, offeredName: string, id: number, size: number | null, algo: ChecksumAlgo): FileReceiver {
    const safe = sanitizeFileName(offeredName);
    for (let n = 0; n < MAX_NAME_TRIES; n++) {
      const name = numberedName(safe, n);
      if (exists(join(dir, name))) continue;
      const partPath = join(dir, name + PART_SUFFIX);
      try {
        const fd = openSync(partPath, "wx", 0o644);
        return new FileReceiver(id, dir, safe, n, size, algo, fd, partPath);
      } catch (err) {
        if ((err as { code?: string }).code === "EEXIST") continue;
        throw new TransferError("E_WRITE", `cannot create a file in ${dir}: ${osReason(err)}`, { cause: err });
      }
    }
    throw new TransferError("E_WRITE", `no free name for ${safe} in ${dir}`);
  }

  /**
   * Appends file bytes. @throws TransferError E_WRITE (disk full, ...) or E_SIZE_MISMATCH
   * when the peer sends more than it offered
   */
  write(bytes: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) return;
    if (this.size !== null && this.received + bytes.length > this.size) {
      throw new TransferError("E_SIZE_MISMATCH", `received more than the ${this.size} bytes offered`);
    }
    try {
      // At most WRITE_PIECE_BYTES a call: 512 KiB-1 MiB write()s into a new file were 3-7x
      // slower on this kind of VM (shared/notes/bun-measurements.md, pitfall 5); 64 KiB pieces
      // cost measurably more syscalls (paired runs: 256 KiB was 6% faster end to end).
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, WRITE_PIECE_BYTES));
    } catch (err) {
      throw new TransferError("E_WRITE", `cannot write ${this.name}: ${osReason(err)}`, { cause: err });
    }
    this.digest.update(bytes);
    this.received += bytes.length;
  }

  /**
   * Verifies the sender's trailer and gives the file its final name.
   * @throws TransferError E_SIZE_MISMATCH, E_BAD_CHECKSUM or E_WRITE; the `.part` is removed then
   */
  finish(trailer: { bytes: number; algo: string; digest: string }): ReceivedFile {
    try {
      this.closeFile();
      checkTrailerCount(trailer.bytes, this.received, this.size);
      const digest = checkTrailerDigest(trailer, this.algo, this.digest);
      const path = this.linkToFreeName();
      return { path, bytes: this.received, algo: this.algo, digest };
    } catch (err) {
      this.abort();
      if (err instanceof TransferError) throw err;
      throw new TransferError("E_WRITE", `cannot store ${this.name}: ${osReason(err)}`, { cause: err });
    }
  }

  /** Drops the partial file. Safe to call more than once. */
  abort(): void {
    this.closeFile();
    try {
      unlinkSync(this.partPath);
    } catch {
      // Already gone (finished, or removed by the user): nothing left to clean.
    }
  }

  /** The name this file is meant to get (a later variant if that is taken at the end). */
  get name(): string {
    return numberedName(this.baseName, this.nameIndex);
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }

  /**
   * link(2) never replaces an existing name, so a name taken meanwhile just moves us on. File
   * systems without hard links (FAT, exFAT, some network mounts) get an exclusively created
   * placeholder that the .part is then renamed over: still no existing file is ever replaced.
   */
  private linkToFreeName(): string {
    for (let n = this.nameIndex; n < MAX_NAME_TRIES; n++) {
      const path = join(this.dir, numberedName(this.baseName, n));
      try {
        linkSync(this.partPath, path);
        try {
          unlinkSync(this.partPath);
        } catch {
          // The file is stored and verified under its name; a leftover .part is only clutter.
        }
        return path;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "EEXIST") continue;
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
      }
      try {
        closeSync(openSync(path, "wx"));
      } catch (err) {
        if ((err as { code?: string }).code === "EEXIST") continue;
        throw err;
      }
      renameSync(this.partPath, path);
      return path;
    }
    throw new TransferError("E_WRITE", `no free name for ${this.name} in ${this.dir}`);
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** @throws TransferError E_SIZE_MISMATCH unless the sender's count, ours and the offer agree */
export function checkTrailerCount(sent: number, received: number, offered: number | null): void {
  if (sent === received && (offered === null || sent === offered)) return;
  const of = offered === null ? "" : ` of ${offered} offered`;
  throw new TransferError("E_SIZE_MISMATCH", `size mismatch: ${received} bytes received, the sender sent ${sent}${of}`);
}

/** @returns our digest; @throws TransferError E_BAD_CHECKSUM unless it equals the sender's */
export function checkTrailerDigest(
  trailer: { algo: string; digest: string },
  algo: ChecksumAlgo,
  ours: RunningDigest,
): string {
  const digest = ours.hex();
  if (trailer.algo === algo && trailer.digest === digest) return digest;
  throw new TransferError("E_BAD_CHECKSUM", `${checksumLabel(algo)} checksum mismatch: the file is corrupt`);
}
