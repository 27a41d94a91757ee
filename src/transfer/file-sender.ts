/**
 * FileSender: reads one file in chunks into one reused buffer, hashes it as it goes, and hands
 * out whole DATA frames when the session's scheduler asks: pull, never push, so memory stays
 * flat whatever the file size.
 *
 * The buffer has a 64-byte slot in front of the payload. Each chunk is read with
 * `fs.readSync` straight to offset 64 (64-byte aligned: misaligned kernel copies were up to 5x
 * slower on this CPU) and the 9-byte DATA header is written just before it, at [55, 64), so a
 * frame goes out in one `socket.write` with no copy and no allocation. A frame asked smaller
 * than a chunk (a young send window, or a long path while we chat: send-window.ts) is cut from
 * the chunk already read, its header written over the last 9 bytes of the frame before it,
 * so one read serves all the frames of a chunk: a read per frame was a quarter of what 64 KiB
 * frames cost the sender (docs/DESIGN-NOTES.md, "The long link"). Measured here against
 * `Bun.file().stream()` (512 KiB chunks Bun allocates, header written separately), the
 * stream's reader machinery cost about 0.3 s of CPU per GiB on the sender, which is the
 * bottleneck side; see docs/DESIGN-NOTES.md.
 */

import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { basename, resolve } from "node:path";
import { writeDataHeader } from "../protocol/frame-encoder.ts";
import { DATA_HEADER_BYTES } from "../protocol/frame-types.ts";
import { type ChecksumAlgo, createDigest, type RunningDigest } from "./checksum.ts";
import { ENTRY_REPLACED, osReason, SOURCE_CHANGED, TransferError } from "./errors.ts";
import { isListedFile } from "./file-identity.ts";
import type { FileId } from "./folder-walk.ts";
import { hashFilePrefix } from "./prefix-hash.ts";
import { resumeTokenFor } from "./resume-token.ts";
import type { FrameSource, SendTrailer } from "./source.ts";

/** Payload offset in the read buffer: 64-byte aligned, with room for the DATA header before it. */
const PAYLOAD_OFFSET = 64;
/**
 * The first bytes read for sending get a CRC-32 (about 60 ns a file): a file that grew while it
 * was sent is read there again at its end, so a rewrite (which changes them) is told from an
 * append (which never does).
 */
const HEAD_BYTES = 4096;

/** The first bytes read for sending, fingerprinted: where they start, how many, their CRC-32. */
export interface HeadPrint {
  readonly at: number;
  readonly bytes: number;
  readonly crc: number;
}

/** The HeadPrint of a first read of `bytes` at `at` (only its first HEAD_BYTES are taken). */
export function headPrint(at: number, bytes: Uint8Array): HeadPrint {
  const head = bytes.subarray(0, HEAD_BYTES);
  return { at, bytes: head.length, crc: Bun.hash.crc32(head) };
}

/** The file open as `fd` no longer holds the bytes `print` was taken of (read again: one pread). */
function headChanged(fd: number, print: HeadPrint): boolean {
  const head = new Uint8Array(print.bytes);
  const n = readSync(fd, head, 0, head.length, print.at);
  return n !== head.length || Bun.hash.crc32(head) !== print.crc;
}
/**
 * Whether a file being sent was written over in place since it was opened (`cp new old` while
 * old is sent): its mtime moved and it is not larger than the offered `size`. A file that grew (a
 * log appended to) keeps the offer's contract: the offered bytes go. FileSender's and the plain
 * peers' piece reader's rule.
 */
function writtenOverInPlace(
  openedMtimeMs: number,
  now: { readonly mtimeMs: number; readonly size: number },
  size: number,
): boolean {
  return now.mtimeMs !== openedMtimeMs && now.size <= size;
}

/**
 * What `fd` (opened from `path` non-blocking: a named pipe swapped in must not hang the open)
 * really is: its stats when a regular file; else it is closed. @throws TransferError E_NOT_A_FILE
 */
export function regularFileStats(fd: number, path: string): Stats {
  const stats = fstatSync(fd);
  if (stats.isFile()) return stats;
  closeSync(fd);
  throw new TransferError("E_NOT_A_FILE", `${path} is not a regular file`);
}

/**
 * Whether the file open as `fd` (its mtime `openedMtimeMs` when opened, offered as `size`) was
 * written over since: in place (writtenOverInPlace), or written to and grown with its first bytes
 * read (`head`) no longer what they were (one pread, only then). FileSender's and the plain
 * peers' piece reader's rule, checked once a file is read. @throws what fstat throws
 */
export function rewrittenSince(fd: number, openedMtimeMs: number, size: number, head: HeadPrint | undefined): boolean {
  const now = fstatSync(fd);
  if (writtenOverInPlace(openedMtimeMs, now, size)) return true;
  return now.mtimeMs !== openedMtimeMs && head !== undefined && headChanged(fd, head);
}

export class FileSender implements FrameSource {
  /** Bytes handed out so far. */
  sent = 0;
  readonly meta: { readonly mtime: number; readonly exec: boolean; readonly token: string };
  /** Never called: a file always has its next chunk ready. */
  onReadable: () => void = () => {};

  private fd: number | undefined;
  private readonly buffer: Uint8Array;
  /** The payload and the frame of a full chunk, made once: the same views serve every full frame. */
  private readonly fullPayload: Uint8Array;
  private readonly fullFrame: Uint8Array;
  private digest: RunningDigest;
  private eof = false;
  /** The file's bytes [readFrom, readTo) sit in the buffer from PAYLOAD_OFFSET (the last read). */
  private readFrom = 0;
  private readTo = 0;
  /** The file's modification time when opened (fstat's, unrounded): a write since moves it. */
  private readonly openedMtimeMs: number;
  /** The first bytes read for sending (HEAD_BYTES at most), fingerprinted; undefined before. */
  private head: HeadPrint | undefined;

  /**
   * Opens `path` for reading. @throws TransferError when it cannot be opened
   * @param chunkBytes - file bytes per DATA frame, at most MAX_DATA_PAYLOAD_BYTES
   * @param entry - `path` is a folder's entry, listed as a regular file: a symbolic link found
   *   there now is not followed (folder-walk.ts never follows one), and one listed with its
   *   identity (FileId) must still be that file (a folder on its way swapped for a link, or the
   *   folder for another, would send another file under the entry's name)
   */
  constructor(
    readonly id: number,
    readonly path: string,
    readonly size: number,
    readonly algo: ChecksumAlgo,
    private readonly chunkBytes: number,
    entry?: true | FileId,
  ) {
    const noFollow = entry !== undefined;
    let fd: number;
    try {
      // O_NONBLOCK: if the path was swapped for a FIFO since it was checked, opening must not
      // hang; fstat then says what was really opened.
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (noFollow ? constants.O_NOFOLLOW : 0));
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Gone since checkReadableFile: said as it says it.
      if (code === "ENOENT") throw new TransferError("E_NOT_FOUND", `no such file: ${resolve(path)}`, { cause: err });
      // A folder's file swapped for a link since the listing: the link's target (anywhere,
      // another user's pick in a folder they can write) would go under the entry's name.
      if (noFollow && code === "ELOOP")
        throw new TransferError(
          "E_NOT_A_FILE",
          `${path} became a symbolic link after the folder was listed: links in a folder are never followed`,
          { cause: err, detail: ENTRY_REPLACED },
        );
      throw new TransferError("E_UNREADABLE", `cannot read ${path}: ${osReason(err)}`, { cause: err });
    }
    const stats = regularFileStats(fd, path);
    if (typeof entry === "object" && !isListedFile(stats, entry, path)) {
      closeSync(fd);
      throw new TransferError(
        "E_NOT_A_FILE",
        `${path} is not the file listed in its folder: it, or a folder on its way, was replaced since (not sent)`,
        { detail: ENTRY_REPLACED },
      );
    }
    this.fd = fd;
    this.openedMtimeMs = stats.mtimeMs;
    this.meta = {
      mtime: Math.max(0, Math.round(stats.mtimeMs)),
      exec: (stats.mode & 0o111) !== 0,
      token: resumeTokenFor(path),
    };
    this.buffer = new Uint8Array(PAYLOAD_OFFSET + chunkBytes);
    this.fullPayload = this.buffer.subarray(PAYLOAD_OFFSET);
    this.fullFrame = this.buffer.subarray(PAYLOAD_OFFSET - DATA_HEADER_BYTES);
    this.digest = createDigest(algo);
  }

  /** Name offered to the peer: the base name only. */
  get name(): string {
    return basename(this.path);
  }

  /**
   * See FrameSource.nextFrame; never null for a file. The frame is a view of the reused buffer:
   * the caller must have written the previous frame in full (its last 9 bytes may hold this
   * frame's header), as the scheduler does (it asks only when the connection has nothing queued).
   */
  nextFrame(maxPayloadBytes = this.chunkBytes): Uint8Array | undefined {
    const fd = this.fd;
    if (fd === undefined || this.eof) return undefined;
    // The offer promised `size` bytes: exactly those go, even if the file grows meanwhile.
    const left = this.size - this.sent;
    if (left <= 0) {
      const rewritten = this.rewrittenSinceOpened(fd);
      this.stop();
      if (rewritten) {
        throw new TransferError(
          "E_READ",
          `${this.path} was changed while it was being sent: what was read mixes its old and new bytes, so it is not stored (send it again once nothing writes to it)`,
          { detail: SOURCE_CHANGED },
        );
      }
      return undefined;
    }
    if (this.sent >= this.readTo) this.readChunk(fd, Math.min(this.chunkBytes, left));
    const at = PAYLOAD_OFFSET + (this.sent - this.readFrom);
    const n = Math.min(maxPayloadBytes, this.readTo - this.sent);
    // A full chunk reuses the views made once (no heap object per frame: see RecordSealer.seal).
    const full = n === this.chunkBytes;
    const payload = full ? this.fullPayload : this.buffer.subarray(at, at + n);
    this.digest.update(payload);
    this.sent += n;
    // Safe over the frame before's tail: it has been written (see above).
    writeDataHeader(this.buffer, at - DATA_HEADER_BYTES, this.id, n);
    return full ? this.fullFrame : this.buffer.subarray(at - DATA_HEADER_BYTES, at + n);
  }

  /** Reads the file's next `want` bytes (at this.sent) into the buffer. @throws TransferError */
  private readChunk(fd: number, want: number): void {
    let n: number;
    try {
      n = readSync(fd, this.buffer, PAYLOAD_OFFSET, want, this.sent);
    } catch (err) {
      this.stop();
      throw new TransferError("E_READ", `reading ${this.path} failed: ${osReason(err)}`, { cause: err });
    }
    if (n === 0) {
      this.stop();
      throw new TransferError(
        "E_READ",
        `${this.path} shrank while it was being sent (${this.sent} of ${this.size} bytes were there)`,
        // The receiver's words: "could not read the file (it changed while it was being sent)".
        { detail: SOURCE_CHANGED },
      );
    }
    this.readFrom = this.sent;
    this.readTo = this.sent + n;
    this.head ??= headPrint(this.sent, this.buffer.subarray(PAYLOAD_OFFSET, PAYLOAD_OFFSET + n));
  }

  /**
   * writtenOverInPlace, checked once, at the end (one fstat a file); and a file that grew and was
   * written to (appended to, or rewritten longer: `cp longer.log this.log`) is told apart by its
   * first bytes read, read again (one pread, only then): a rewrite that began after they were
   * read changed them. One that left them as they were is not caught.
   */
  private rewrittenSinceOpened(fd: number): boolean {
    try {
      return rewrittenSince(fd, this.openedMtimeMs, this.size, this.head);
    } catch {
      return false; // every byte was read: nothing says otherwise
    }
  }

  async resumeFrom(offset: number, prefix: string): Promise<boolean> {
    if (this.fd === undefined || this.sent !== 0 || offset > this.size) return false;
    // The prefix is read once, never again for sending: hash it into both a digest of its
    // own, to compare, and the running digest the trailer will carry.
    const check = createDigest(this.algo);
    const running = createDigest(this.algo);
    let hashed: number;
    try {
      hashed = await hashFilePrefix(() => this.fd, offset, [check, running], this.buffer.subarray(PAYLOAD_OFFSET));
    } catch (err) {
      throw new TransferError("E_READ", `reading ${this.path} failed: ${osReason(err)}`, { cause: err });
    }
    if (this.fd === undefined || hashed !== offset || check.hex() !== prefix) return false;
    this.digest = running;
    this.sent = offset;
    // The prefix's hashing went through the buffer: nothing read for sending is in it.
    this.readFrom = this.readTo = offset;
    return true;
  }

  /** Total and digest of the bytes handed out. Call once, when `finished`. */
  trailer(): SendTrailer {
    return { bytes: this.sent, algo: this.algo, digest: this.digest.hex() };
  }

  /** Stops reading (transfer cancelled or connection gone). */
  stop(): void {
    this.eof = true;
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
