/** Events a Session emits; the UI renders them. Past-tense names, plain data. */

import type { CommandPlace, FolderEntry } from "../protocol/index.ts";

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
  /** Set when this transfer is one of a command's several (Offer.command). */
  readonly command?: CommandPlace;
  /**
   * In transferFailed of a folder's entry refused with its whole folder (Feature.RefusedFolderEnds):
   * this many more of its entries will not come (never offered), refused for the same reason.
   */
  readonly folderRest?: number;
  /**
   * In transferFailed: a folder, not an entry of it (session 14): the folder was ended whole when
   * none of its entries was left to carry that (a sender's cancel when each entry still open had
   * been sent whole, FOLDER_END): only its folderRest entries end, never offered. `id` is the
   * folder's group, `name` its root, `folder.path` empty.
   */
  readonly folderOnly?: true;
  /**
   * In transferFailed of a folder's entry (with folderRest): the receiver refused its whole folder
   * at this entry (REJECT detail "folder": no room for all of it, or the answer to the folder at
   * `receive --ask`), so the line is about the folder, not this entry (session 25).
   */
  readonly folderRefused?: true;
  /**
   * A plain wormhole peer's folder, which comes as one zip (one transfer, no entries of its own):
   * its files and bytes unpacked, so the question and a failure are said of the folder (session 25).
   */
  readonly zippedFolder?: { readonly files: number; readonly bytes: number };
  /**
   * Receiver, a folder's entry being received: the name its folder is stored under here, when
   * another than offered (`photos (1)`: `photos` was there; `_config` for `.config`), so the
   * folder's first line names it as stored, as a file's does (session 25).
   */
  readonly rootStoredAs?: string;
  /**
   * In transferFailed, a file (not a folder's entry) that sending again would not resume.
   * Sender: the peer keeps nothing of it (accepted whole, it ended before any byte was sent; a
   * folder's entry ended before the peer accepted it; or the peer writes what comes to its
   * output: HELLO feature keeps-nothing). A file not answered yet: `unanswered` instead.
   * Receiver: it holds no byte of it (the sender had sent none).
   */
  readonly nothingKept?: boolean;
  /**
   * Sender, in transferFailed of a file (not a folder's entry): it ended before the receiver
   * answered the offer, so whether the receiver holds part of it from an earlier try (and
   * sending it again resumes that) cannot be known here.
   */
  readonly unanswered?: true;
  /**
   * Receiver, in transferFailed of a file whose offer was still being decided (`receive --ask`):
   * an earlier attempt's `.part` of it is in the folder, so the sender sending it again resumes it.
   */
  readonly partKept?: true;
  /**
   * In transferFailed of a file being resumed: cut while the sender compared the receiver's bytes
   * with its file (sender: its check under way; receiver: the sender's START not in), so whether
   * the file changed since (and a resend starts over) is not known here.
   */
  readonly prefixUnchecked?: true;
  /**
   * Sender, in transferFailed of a transfer whose DATA had begun: how many bytes of it (from the
   * file's start, a resume's offset included) the receiver has confirmed. Its ACKs count the
   * connection's DATA, not a transfer's, so this is what was sent of it less its own DATA not
   * ACKed yet (the scheduler keeps whose each frame is: unacked-frames.ts); what was sent (its
   * last progress) can be more by up to the send window, bytes the receiver may never have taken.
   */
  readonly confirmedBytes?: number;
}

export interface TransferDone extends TransferInfo {
  /** Verified byte count. */
  readonly bytes: number;
  /** Receiver: where the file was stored. */
  readonly path?: string;
  /** Receiver: no path led to `path`'s folder then (ReceivedFile.detached). */
  readonly detached?: true;
  /** Sender: the name the receiver stored it under, when it said (its base name, "mid50 (1).bin"). */
  readonly storedAs?: string;
  /** Sender, for an entry of a folder: the name the receiver stored the folder under, when it said ("photos (1)"). */
  readonly storedRoot?: string;
  /** Bytes an earlier, interrupted attempt had already delivered (resume); 0 for a whole transfer. */
  readonly resumedFrom: number;
  /** Algorithm that verified the file ("sha256"). */
  readonly algo: string;
  readonly digest: string;
  /**
   * Nothing matched `digest`, which is ours alone. Sender: the receiver said it saved the file
   * without a checksum to compare (a plain wormhole client's ack without its SHA-256). Receiver:
   * a plain wormhole sender sends no checksum of its own; ours goes back for it to check.
   */
  readonly unverified?: true;
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
  readonly by: "peer";
  readonly said: "reject" | "cancel" | "received";
  readonly code: string;
  readonly detail?: string;
  /** CANCEL's bytes: the receiver wrote the file to its output, and this much reached it (nothing is kept). */
  readonly bytes?: number;
}

/**
 * Why this side ended a transfer, when the words are the CLI's: E_CANCELLED (our user),
 * E_INTERRUPTED (detail: "interrupted" or "terminated"), or an offer declined before anyone
 * was asked (E_UNSUPPORTED_CHECKSUM with the name, E_TOO_MANY_TRANSFERS, E_LEAVING).
 * `declined`: an offer we declined, the others a transfer under way.
 */
export interface OwnReason {
  readonly by: "us";
  readonly code: string;
  readonly detail?: string;
  readonly declined?: boolean;
}

/** Why a transfer failed, for the CLI's words; absent when `reason` is already the words. */
export type FailureWhy = PeerReason | OwnReason;

export interface SessionEvents {
  chatReceived(text: string): void;
  transferStarted(info: TransferInfo): void;
  /** `bytes` so far; called per chunk: throttle in the UI. */
  transferProgressed(info: TransferInfo, bytes: number): void;
  /**
   * A file's DATA resumes at `from` (> 0): the bytes an earlier, cut attempt delivered, which the
   * sender found the same as its file. Sender: its START went out; receiver: the sender's START
   * came. Said as the transfer goes on, not only by its end (TransferDone.resumedFrom).
   */
  transferResumed?(info: TransferInfo, from: number): void;
  transferFinished(done: TransferDone): void;
  /**
   * `code`: a stable reason code (TransferFailureCode), for scripts and exit codes. `reason`:
   * the words of the transfer layer for a failure of its own (a local file error: it may name
   * local paths); with `why` set, `reason` is only a code and the CLI words `why` instead
   * (src/cli/reason-words.ts).
   */
  transferFailed(info: TransferInfo, reason: string, code: TransferFailureCode, why?: FailureWhy): void;
  /**
   * The peer is leaving (LEAVING, session 28): it typed `exit` with transfers under way, takes no
   * new offer, and says BYE (peerLeft) once they have ended: the same reason, or `interrupted`
   * when a Ctrl-C cut its wait.
   */
  peerLeaving?(reason: string): void;
  /**
   * The peer sent a chat line after its LEAVING, which a Parley never does (its user's lines are
   * refused once it leaves): called once, at the first; that line and any later are not delivered.
   */
  peerChattedAfterLeaving?(): void;
  /** The peer said BYE. */
  peerLeft(reason: string): void;
  /** The connection ended without BYE (peer vanished, protocol error, timeout). */
  connectionLost(reason: string): void;
  /**
   * Our own exit or abort completed: the connection is closed.
   * @param reason - the word our BYE said ("exit", "done", "interrupted", ...): the peer's peerLeft has the same
   */
  closed(reason: string): void;
}
