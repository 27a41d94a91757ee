/**
 * FileReceiver: stores one incoming file. Bytes go into `<name>.part`, created exclusively in
 * the download directory, hashed as they arrive. On END the count and digest are checked; only
 * then is the file given its final name, with link(2), which fails rather than overwrite: the
 * final name never holds a partial or unverified file, and no existing file is ever replaced.
 * Which `.part` an offer gets (a new one, or an earlier attempt's to resume) is run-parts.ts's.
 *
 * Writes use fs.writeSync: it throws a catchable error on a full disk (Bun's FileSink instead
 * rejects Promises that crash the process when unhandled and may lose bytes silently). A
 * session's receiver opens with `writeBehind`: after a slow write the next ones go through
 * write-behind.ts (fs.write on Bun's thread pool), bytes in flight are the `backlog` the
 * session ACKs only once written, and a failed write ends the transfer through `onFailed`.
 */

import { closeSync, fstatSync, ftruncateSync, writeSync, writevSync } from "node:fs";
import { basename, join } from "node:path";
import {
  type ChecksumAlgo,
  checkTrailerCount,
  checkTrailerDigest,
  createDigest,
  type RunningDigest,
} from "./checksum.ts";
import { keptAfterWriteError, osReason, PART_CHANGED, TransferError } from "./errors.ts";
import { applyMeta, type FileMeta } from "./file-meta.ts";
import { numberedName, sanitizeFileName } from "./file-names.ts";
import { HeldDir } from "./held-dir.ts";
import { linkToFreeName } from "./part-files.ts";
import { checkPartIntact, firstHoleIn, type TakenPrefix } from "./part-intact.ts";
import { markStored } from "./part-mark.ts";
import { digestOfPrefix } from "./prefix-hash.ts";
import { claimPart, earlierPartBytesHere, openFreePart, releasePart, storedHere } from "./run-parts.ts";
import type { ReceivedFile, ResumableSink } from "./source.ts";
import { SpaceClaim } from "./space-claims.ts";
import { type FileWrites, type SlowWriteMark, WriteBehind, writeJoinedSync } from "./write-behind.ts";
import { WRITE_PIECE_BYTES, WritePieces } from "./write-pieces.ts";

/** Suffix of files still being received. */
export const PART_SUFFIX = ".part";

export interface FileReceiverOptions {
  /**
   * Slow writes leave the event loop (write-behind.ts): the caller honours `backlog`,
   * `onFlushed` and `onFailed`. Tests pass their own file calls and clock.
   */
  readonly writeBehind?: boolean | FileWrites;
  /**
   * With writeBehind: a write this slow sends the next ones to the pool (default SLOW_WRITE_MS);
   * a SlowWriteMark is asked at each write.
   */
  readonly slowWriteMs?: number | SlowWriteMark;
  /**
   * What resumes a `.part` kept by a full disk (keptAfterWriteError): the file sent again (default),
   * the folder sent again (a folder's entry), or nothing (false: a plain wormhole client).
   */
  readonly resumable?: "file" | "folder" | false;
}

export class FileReceiver implements ResumableSink {
  /** Bytes in the file so far (a resumed prefix included). */
  received = 0;
  /** Bytes that were already in the `.part` when this transfer began (0 for a new file). */
  readonly resumeOffset: number;
  /** Set by the session: bytes in flight were written (writeBehind). */
  onFlushed?: () => void;
  /** Set by the session: a write in flight failed (writeBehind). */
  onFailed?: (err: TransferError) => void;
  private fd: number | undefined;
  /** Where the `.part` was made (claimed in run-parts.ts while written; messages). */
  private readonly partPath: string;
  /** restart() started an earlier attempt's `.part` over: its bytes are this transfer's now. */
  private restarted = false;
  /** Another program changed the `.part` (part-intact.ts): it goes, an earlier attempt's too. */
  private changed = false;
  /** An earlier attempt's bytes as taken up (part-intact.ts lets a hole they came with be). */
  private readonly prefix: TakenPrefix | undefined;
  private digest: RunningDigest;
  private readonly writer: WriteBehind | undefined;
  private readonly pieces = new WritePieces((head, body, at) => {
    if (this.writer) this.writer.write(body, at, head);
    else this.writeNow(head, body, at);
  });

  private constructor(
    readonly id: number,
    /** The folder the file goes in, held (held-dir.ts) until the transfer ends. */
    private readonly dir: HeldDir,
    /** The sanitised offered name; the file gets it or a numbered variant ("name (1).ext"). */
    private readonly baseName: string,
    /** Which numbered variant was free when the transfer began. */
    private readonly nameIndex: number,
    /** Bytes offered, or null when unknown (a stream). */
    readonly size: number | null,
    readonly algo: ChecksumAlgo,
    fd: number,
    /** The `.part`'s name in `dir`. */
    private readonly partName: string,
    private readonly meta: FileMeta,
    /** Free space promised to this transfer (released when it ends). */
    private readonly space: SpaceClaim,
    private readonly options: FileReceiverOptions,
  ) {
    this.fd = fd;
    this.writer = options.writeBehind
      ? new WriteBehind(
          fd,
          WRITE_PIECE_BYTES,
          () => this.onFlushed?.(),
          (err) => this.onFailed?.(this.writeError(err)),
          options.writeBehind === true ? undefined : options.writeBehind,
          undefined,
          options.slowWriteMs,
        )
      : undefined;
    this.partPath = dir.pathOf(partName);
    claimPart(this.partPath);
    this.digest = createDigest(algo);
    try {
      // A `.part` left by an interrupted attempt: `hashPrefix` hashes what is there.
      const existing = fstatSync(fd).size;
      this.resumeOffset = existing;
      this.prefix = existing > 0 ? { bytes: existing, hole: firstHoleIn(fd) } : undefined;
      this.received = existing;
      space.wrote(existing); // a stream's resumed bytes may not fit (E_NO_SPACE)
    } catch (err) {
      // No receiver to abort: the `.part` is closed (its lock goes) and free for a later offer;
      // FileReceiver.open releases the space and the folder.
      releasePart(this.partPath);
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Digest of the first `resumeOffset` bytes, for ACCEPT (the sender compares it with its
   * own); they also start the running digest. Reads in slices, so the process stays
   * responsive. Call once, before any `write`.
   * @returns the digest, or undefined when the transfer was aborted meanwhile
   * @throws TransferError E_WRITE when the `.part` cannot be read back
   */
  async hashPrefix(): Promise<string | undefined> {
    return digestOfPrefix(() => this.fd, this.resumeOffset, this.algo, this.digest, `${this.name}.part`, "read back");
  }

  /**
   * Opens the `.part` file for an offered file in `dir`: the `.part` of an earlier, interrupted
   * attempt at the same name if there is one no bigger than the offer (the sender then checks
   * the prefix), else a new one, created exclusively.
   * @throws TransferError E_WRITE when no file can be created there
   */
  static open(
    dir: string | HeldDir,
    offeredName: string,
    id: number,
    size: number | null,
    algo: ChecksumAlgo,
    meta: FileMeta = {},
    options: FileReceiverOptions = {},
  ): FileReceiver {
    const safe = sanitizeFileName(offeredName);
    // A folder given by path (a plain peer's file, tests) is held for this file alone.
    let held: HeldDir;
    try {
      held = typeof dir === "string" ? HeldDir.open(dir) : dir.retain();
    } catch (err) {
      throw new TransferError("E_WRITE", `cannot open ${dir}: ${osReason(err)}`, { cause: err });
    }
    // Checked once the `.part` is open: an earlier attempt's bytes there need no new space (a
    // `.part` kept by a full disk resumes once the rest fits, not only once all of it does).
    const space = SpaceClaim.unchecked(held.path, size);
    let receiver: FileReceiver;
    try {
      const part = openFreePart(held, safe, size, meta.token);
      receiver = new FileReceiver(id, held, safe, part.index, size, algo, part.fd, part.partName, meta, space, options);
    } catch (err) {
      space.release();
      held.release();
      throw err;
    }
    try {
      space.admit();
    } catch (err) {
      receiver.abort(); // a `.part` made now goes; an earlier attempt's stays
      throw err;
    }
    return receiver;
  }

  /**
   * What accepting this offer in `dir` would resume: the bytes of an earlier attempt's `.part`
   * (0: none, a new `.part` would be made). @throws TransferError E_WRITE when locking fails outright
   */
  static earlierPartBytes(dir: HeldDir, offeredName: string, size: number | null, token?: string): number {
    return earlierPartBytesHere(dir, sanitizeFileName(offeredName), size, token);
  }

  /** The sender's file differs from our prefix: start the `.part` over from byte 0. */
  restart(): void {
    if (this.fd === undefined) return;
    try {
      ftruncateSync(this.fd, 0);
    } catch (err) {
      throw new TransferError("E_WRITE", `cannot write ${this.name}: ${osReason(err)}`, { cause: err });
    }
    this.digest = createDigest(this.algo);
    this.pieces.drop();
    this.received = 0;
    this.restarted = true;
    this.space.rewind();
  }

  /**
   * Appends file bytes. @throws TransferError E_WRITE (disk full, ...) or E_SIZE_MISMATCH
   * when the peer sends more than it offered
   */
  write(bytes: Uint8Array): void {
    if (this.fd === undefined) return;
    if (this.size !== null && this.received + bytes.length > this.size) {
      throw new TransferError("E_SIZE_MISMATCH", `received more than the ${this.size} bytes offered`);
    }
    try {
      // Pieces of at most 256 KiB, none from a 256 KiB boundary with more than a page, one a
      // record (write-pieces.ts; 64 KiB pieces cost measurably more syscalls: 256 KiB was 6%
      // faster end to end).
      const more = this.size === null || this.received + bytes.length < this.size;
      this.pieces.take(bytes, this.received, more);
    } catch (err) {
      throw this.writeError(err);
    }
    this.digest.update(bytes);
    this.received += bytes.length;
    this.space.wrote(bytes.length);
  }

  /**
   * Verifies the sender's trailer and gives the file its final name. Without a trailer (a plain
   * wormhole client sends none; each of its records was authenticated) the count must be the
   * offered size, and our digest is returned for the caller to send back.
   * @throws TransferError E_SIZE_MISMATCH, E_BAD_CHECKSUM or E_WRITE; the `.part` is removed then
   */
  finish(trailer?: { bytes: number; algo: string; digest: string }): ReceivedFile {
    try {
      if (this.backlog > 0) throw new TransferError("E_WRITE", `${this.name} still has bytes on their way to the disk`);
      this.pieces.flush(this.received, (head, body, at) => this.writeNow(head, body, at)); // a stream's last page
      checkTrailerCount(trailer?.bytes ?? this.received, this.received, this.size);
      const digest = trailer ? checkTrailerDigest(trailer, this.algo, this.digest) : this.digest.hex();
      // The digest is of the bytes as they came: the disk must still hold them (a resumed prefix
      // too: part-intact.ts).
      const prefix = this.restarted ? undefined : this.prefix;
      checkPartIntact(this.fd as number, this.name + PART_SUFFIX, this.received, prefix);
      // The report names where the folder is now (HeldDir.pathNow: another program may have moved
      // it), or where it was when no path leads to it any more (`umount -l`): stored all the same,
      // `detached`, in the folder held open, there once its file system is mounted again
      // (deleting it, as 8aacb1f did, lost a good file on a disk unmounted lazily).
      const folderNow = this.dir.pathNow();
      if (this.fd !== undefined) {
        applyMeta(this.fd, this.meta);
        markStored(this.fd, this.meta.token); // no longer a `.part` to resume into (part-mark.ts)
      }
      // Named while still open and locked: closing first would let another receiver process
      // take the `.part` for a resume in between.
      const path = linkToFreeName(this.fd as number, this.dir, this.partName, this.baseName, this.nameIndex);
      storedHere(path);
      this.closeFile();
      const stored = {
        path: join(folderNow ?? this.dir.path, basename(path)),
        bytes: this.received,
        algo: this.algo,
        digest,
      };
      return folderNow === undefined ? { ...stored, detached: true } : stored;
    } catch (err) {
      // Changed by another program: it goes, an earlier attempt's too (a resume would meet the same hole).
      this.changed = err instanceof TransferError && err.detail === PART_CHANGED;
      this.abort();
      if (err instanceof TransferError) throw err;
      throw new TransferError("E_WRITE", `cannot store ${this.name}: ${osReason(err)}`, { cause: err });
    }
  }

  /**
   * Ends the transfer unfinished. `keepPart`: leave the `.part` for a later resume (the
   * connection broke, the user interrupted); otherwise it is removed, unless an earlier
   * attempt made it. A stream (size unknown) can never resume, so its `.part` always goes.
   * Safe to call twice.
   */
  abort(keepPart = false): void {
    try {
      // The carried page goes in only behind bytes known to be there: after a failed write or
      // beside writes in flight (one may fail yet) it would leave a hole, the resume's prefix
      // check would fail and it would start over. Left out, resuming sends that page again.
      if (keepPart && !this.writer?.busy) this.pieces.flush(this.received);
    } catch {
      // Resuming starts from what is in the `.part`.
    }
    if (this.fd === undefined) return; // ended already (stored, or aborted before)
    // A `.part` an earlier attempt left stays: this transfer did not make it, so it does not
    // remove it (a stream that started it over from byte 0 made what is in it now).
    const earlier = this.resumeOffset > 0 && !(this.size === null && this.restarted) && !this.changed;
    if (!earlier && !(keepPart && this.received > 0 && this.size !== null)) {
      try {
        this.dir.unlink(this.partName);
      } catch {
        // Already gone (removed by the user): nothing left to clean.
      }
    }
    this.closeFile();
  }

  /** A synchronous write of `head` then `body` from `at` (the `.part` is open). */
  private writeNow(head: Uint8Array, body: Uint8Array, at: number): void {
    if (this.fd !== undefined) writeJoinedSync({ writeSync, writevSync }, this.fd, head, body, at);
  }

  /** Bytes taken by `write` and still on their way into the file (writeBehind). */
  get backlog(): number {
    return this.writer?.backlog ?? 0;
  }

  private writeError(err: unknown): TransferError {
    const resume = this.size === null ? "stream" : this.received > 0 ? (this.options.resumable ?? "file") : false;
    const after = keptAfterWriteError(err, `${this.name}${PART_SUFFIX}`, resume);
    return new TransferError("E_WRITE", `cannot write ${this.name}: ${osReason(err)}${after}`, { cause: err });
  }

  /** The name this file is meant to get (a later variant if that is taken at the end). */
  get name(): string {
    return numberedName(this.baseName, this.nameIndex);
  }

  private closeFile(): void {
    releasePart(this.partPath);
    this.space.release();
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.dir.release();
    const writer = this.writer;
    if (writer) writer.close(() => closeSync(cutAt(fd, writer.holeAt)));
    else closeSync(fd);
  }
}

/**
 * Cuts the file open as `fd` back to `holeAt` (a pooled write there failed: the bytes past it are
 * not a prefix, and a resume would find its prefix changed and start over); returns `fd`.
 */
function cutAt(fd: number, holeAt: number | undefined): number {
  try {
    if (holeAt !== undefined && fstatSync(fd).size > holeAt) ftruncateSync(fd, holeAt);
  } catch {
    // Resuming checks the prefix: at worst the file starts over.
  }
  return fd;
}
