/** Events a Session emits; the UI renders them. Past-tense names, plain data. */

import type { FolderEntry } from "../protocol/index.ts";

export type Direction = "send" | "receive";

export interface TransferInfo {
  readonly id: number;
  readonly direction: Direction;
  /** Sender: base name offered. Receiver: the name it is being stored under. */
  readonly name: string;
  /** Bytes, or null when the sender streams data of unknown length. */
  readonly size: number | null;
  /** Set for an entry of a folder transfer. */
  readonly folder?: FolderEntry;
}

export interface TransferDone extends TransferInfo {
  /** Verified byte count. */
  readonly bytes: number;
  /** Receiver: where the file was stored. Sender: the peer's name for it is unknown. */
  readonly path?: string;
  /** Bytes an earlier, interrupted attempt had already delivered (resume); 0 for a whole transfer. */
  readonly resumedFrom: number;
  /** Algorithm that verified the file ("sha256"). */
  readonly algo: string;
  readonly digest: string;
}

/**
 * Why a transfer failed. E_BAD_CHECKSUM and E_SIZE_MISMATCH mean the data did not verify;
 * the others: E_REJECTED (declined), E_CANCELLED (either side), E_CONNECTION (lost, or the
 * peer left), and the TransferError codes (E_READ, E_WRITE, E_NOT_FOUND, ...).
 */
export type TransferFailureCode = string;

/**
 * What the peer said when it ended a transfer: which message, its reason code and detail
 * token (never a sentence: the CLI words it, see src/cli/reason-words.ts).
 */
export interface PeerReason {
  readonly said: "reject" | "cancel" | "received";
  readonly code: string;
  readonly detail?: string;
}

export interface SessionEvents {
  chatReceived(text: string): void;
  transferStarted(info: TransferInfo): void;
  /** `bytes` so far; called per chunk: throttle in the UI. */
  transferProgressed(info: TransferInfo, bytes: number): void;
  transferFinished(done: TransferDone): void;
  /**
   * `code`: a stable reason code (TransferFailureCode), for scripts and exit codes. `reason`:
   * this side's words for a failure of its own; when the peer ended it, `peer` says why, and
   * `reason` is only its code and detail (word it with the CLI's map).
   */
  transferFailed(info: TransferInfo, reason: string, code: TransferFailureCode, peer?: PeerReason): void;
  /** The peer said BYE. */
  peerLeft(reason: string): void;
  /** The connection ended without BYE (peer vanished, protocol error, timeout). */
  connectionLost(reason: string): void;
  /** Our own exit or abort completed: the connection is closed. */
  closed(): void;
}
