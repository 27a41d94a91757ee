/**
 * What the session's scheduler needs from an outgoing transfer (FileSender, StreamSender) and
 * from an incoming one (FileReceiver, StreamReceiver).
 */

import type { ChecksumAlgo } from "./checksum.ts";
import type { TransferError } from "./errors.ts";

/** The trailer sent in END once every byte has been handed out. */
export interface SendTrailer {
  readonly bytes: number;
  readonly algo: ChecksumAlgo;
  readonly digest: string;
}

export interface FrameSource {
  readonly id: number;
  /** Name offered to the peer (a base name). */
  readonly name: string;
  /** Bytes, or null when unknown up front (a stream). */
  readonly size: number | null;
  readonly algo: ChecksumAlgo;
  /** Bytes handed out so far. */
  readonly sent: number;
  /**
   * Modification time (ms since the epoch), executable bit and resume token (resume-token.ts),
   * offered to the receiver.
   */
  readonly meta: { readonly mtime?: number; readonly exec?: boolean; readonly token?: string };
  /**
   * The next DATA frame (header and bytes, a view of a reused buffer that must be written in
   * full before the next call); null when none is ready yet (`onReadable` fires later);
   * undefined at the end. @throws TransferError when reading fails
   * @param maxPayloadBytes - at most this many file bytes in it (default and upper bound: the
   *   source's chunk size); the scheduler sends small frames while its window is young
   */
  nextFrame(maxPayloadBytes?: number): Uint8Array | null | undefined;
  /** Total and digest of the bytes handed out. Call once, at the end. */
  trailer(): SendTrailer;
  /**
   * The receiver already has the first `offset` bytes, whose digest is `prefix`: if ours
   * match, skip them (they still count in the trailer) and resolve true; else false (start
   * over). Reads in slices, yielding to the event loop. Streams cannot look back: false.
   * @throws TransferError E_READ when reading fails
   */
  resumeFrom(offset: number, prefix: string): Promise<boolean>;
  /** Stops reading (cancelled, connection gone). */
  stop(): void;
  /** Set by the session: called when a frame became ready after nextFrame returned null. */
  onReadable: () => void;
}

/** Where a verified incoming file ended up. */
export interface ReceivedFile {
  /** File path, or "-" for standard output. */
  readonly path: string;
  readonly bytes: number;
  readonly algo: ChecksumAlgo;
  readonly digest: string;
  /**
   * No path led to the download folder when the file was stored (its file system unmounted
   * lazily meanwhile): `path` is where it was, and where the file is once that is mounted again.
   */
  readonly detached?: true;
}

export interface IncomingSink {
  /** The name the file is stored under (or was offered as, for a stream). */
  readonly name: string;
  /** Bytes written so far. */
  readonly received: number;
  /** @throws TransferError E_WRITE, or E_SIZE_MISMATCH when more arrives than offered */
  write(bytes: Uint8Array): void;
  /** Checks the trailer; @throws TransferError E_SIZE_MISMATCH / E_BAD_CHECKSUM / E_WRITE */
  finish(trailer: { bytes: number; algo: string; digest: string }): ReceivedFile;
  /** Ends unfinished; `keepPart` keeps what arrived for a later resume where that means anything. */
  abort(keepPart?: boolean): void;
  /**
   * Bytes `write` took but holds back (a full output pipe): the session ACKs them only once
   * they are out, so the sender waits instead of this process blocking. Absent: none.
   */
  readonly backlog?: number;
  /** Set by the session: called when held-back bytes have gone out. */
  onFlushed?: () => void;
  /** Set by the session: held-back bytes could not be written (the transfer fails). */
  onFailed?: (err: TransferError) => void;
}

/**
 * A sink that may already hold the first `resumeOffset` bytes (an interrupted `.part`, or a
 * whole copy an unfinished folder transfer stored): the receiver offers them with their
 * digest, and the sender answers where DATA starts.
 */
export interface ResumableSink extends IncomingSink {
  /** Bytes already there (0: nothing to resume, a plain ACCEPT). */
  readonly resumeOffset: number;
  /** Digest of those bytes (read in slices); undefined when aborted meanwhile. @throws TransferError */
  hashPrefix(): Promise<string | undefined>;
  /** The sender's file differs: start over from byte 0 (without losing any existing file). @throws TransferError */
  restart(): void;
}

export function isResumableSink(sink: IncomingSink): sink is ResumableSink {
  return "resumeOffset" in sink && "hashPrefix" in sink && "restart" in sink;
}
