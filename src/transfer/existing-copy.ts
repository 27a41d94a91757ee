/**
 * ExistingCopy: a file that an unfinished folder transfer already stored whole, met again when
 * the same folder is sent once more. It is offered as a resume from its full size: the sender
 * hashes its own file, and if the digests match it answers START at the end, sends no DATA,
 * and END verifies the whole file; the copy stays as it is. If they differ (START 0), the new
 * file is received beside it under a free numbered name, like any file whose name is taken:
 * the existing copy is only ever read.
 */

import { closeSync, constants, fstatSync } from "node:fs";
import {
  type ChecksumAlgo,
  checkTrailerCount,
  checkTrailerDigest,
  createDigest,
  type RunningDigest,
} from "./checksum.ts";
import { TransferError } from "./errors.ts";
import type { FileMeta } from "./file-meta.ts";
import { sanitizeFileName } from "./file-names.ts";
import { FileReceiver } from "./file-receiver.ts";
import { HeldDir } from "./held-dir.ts";
import { isStoredFor } from "./part-mark.ts";
import { digestOfPrefix } from "./prefix-hash.ts";
import type { ReceivedFile, ResumableSink } from "./source.ts";

export class ExistingCopy implements ResumableSink {
  readonly resumeOffset: number;
  private fd: number | undefined;
  private readonly digest: RunningDigest;
  /** After a restart: the new file, received beside the copy. */
  private fresh: FileReceiver | undefined;

  /** Until the transfer ends: the folder is held (held-dir.ts). */
  private held = true;

  private constructor(
    private readonly dir: HeldDir,
    private readonly fileName: string,
    private readonly id: number,
    private readonly size: number,
    private readonly algo: ChecksumAlgo,
    private readonly meta: FileMeta,
    fd: number,
    /** When it was last modified as we opened it: if that changes, what was hashed is stale. */
    private readonly mtimeMs: number,
  ) {
    this.fd = fd;
    this.resumeOffset = size;
    this.digest = createDigest(algo);
  }

  /**
   * The regular file `dir/name` (the offered name, sanitised; not a link) when it has exactly
   * the offered size and carries the mark of the offer's resume token, opened for reading;
   * undefined otherwise (then the file is received as
   * usual, beside it).
   */
  static open(
    dir: string | HeldDir,
    offeredName: string,
    id: number,
    size: number | null,
    algo: ChecksumAlgo,
    meta: FileMeta = {},
  ): ExistingCopy | undefined {
    if (size === null) return undefined;
    const name = sanitizeFileName(offeredName);
    let fd: number;
    let held: HeldDir;
    try {
      held = typeof dir === "string" ? HeldDir.open(dir) : dir.retain();
    } catch {
      return undefined; // not reachable: received as usual, which says why
    }
    try {
      fd = held.openFile(name, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      held.release();
      return undefined; // missing, a link, unreadable
    }
    const stats = fstatSync(fd);
    // Only for its own sender: a stored file keeps its `.part`'s token in its mark (the same inode), and
    // anyone else sending a folder of that name, count and size learns nothing of it.
    if (stats.isFile() && stats.size === size && isStoredFor(fd, meta.token) === true) {
      return new ExistingCopy(held, name, id, size, algo, meta, fd, stats.mtimeMs);
    }
    closeSync(fd);
    held.release();
    return undefined;
  }

  get name(): string {
    return this.fresh?.name ?? this.fileName;
  }

  get received(): number {
    return this.fresh ? this.fresh.received : this.resumeOffset;
  }

  async hashPrefix(): Promise<string | undefined> {
    return digestOfPrefix(() => this.fd, this.size, this.algo, this.digest, this.fileName, "read");
  }

  restart(): void {
    this.close();
    // Only a folder's entries are checked copies: a full disk's `.part` resumes with the folder.
    // In the folder held since the copy was opened: its path may lead elsewhere by now.
    this.fresh = FileReceiver.open(this.dir, this.fileName, this.id, this.size, this.algo, this.meta, {
      resumable: "folder",
    });
    this.letGo();
  }

  write(bytes: Uint8Array): void {
    if (!this.fresh) throw new TransferError("E_SIZE_MISMATCH", `received more than the ${this.size} bytes offered`);
    this.fresh.write(bytes);
  }

  finish(trailer: { bytes: number; algo: string; digest: string }): ReceivedFile {
    if (this.fresh) return this.fresh.finish(trailer);
    const unchanged = this.fd !== undefined && sameAsOpened(fstatSync(this.fd), this.size, this.mtimeMs);
    this.close();
    this.letGo();
    if (!unchanged) throw new TransferError("E_WRITE", `${this.fileName} changed while it was being checked`);
    checkTrailerCount(trailer.bytes, this.size, this.size);
    const digest = checkTrailerDigest(trailer, this.algo, this.digest);
    return { path: this.dir.pathOf(this.fileName), bytes: this.size, algo: this.algo, digest };
  }

  abort(keepPart?: boolean): void {
    this.close();
    this.letGo();
    this.fresh?.abort(keepPart);
  }

  /** The folder is held no more by this copy (a fresh receiver holds it itself). */
  private letGo(): void {
    if (this.held) this.dir.release();
    this.held = false;
  }

  private close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function sameAsOpened(stats: { size: number; mtimeMs: number }, size: number, mtimeMs: number): boolean {
  return stats.size === size && stats.mtimeMs === mtimeMs;
}
