/**
 * Words for why a transfer ended: what the peer said (the wire carries only a reason code and
 * a detail token in REJECT, CANCEL, RECEIVED), and why this side ended one when the session
 * gives a code (a cancel, an interrupt, an offer declined unasked). The one map from code to
 * sentence. The peer's own paths and free space never reach us, so none are shown: what we
 * know (the size we offered) fills in. Also why a peer's chat lines stop being shown (its lines
 * after its LEAVING), said alike by the chat and by send/receive.
 */

import type { FailureWhy, OwnReason, PeerReason, TransferInfo } from "../session/index.ts";
import { MAX_INCOMING_TRANSFERS } from "../session/limits.ts";
import {
  ENTRY_REPLACED,
  isFullDiskErrno,
  OUTPUT_STALLED,
  osReason,
  PART_CHANGED,
  resendWords,
  SOURCE_CHANGED,
} from "../transfer/errors.ts";
import { count } from "./counts.ts";

type Words = (ctx: {
  readonly peerRole: string;
  readonly detail: string | undefined;
  readonly info: TransferInfo;
  /** PeerReason.bytes: what reached the receiver's output (it writes the file there, keeping nothing). */
  readonly reached?: number | undefined;
}) => string;

/** An errno name ("EFBIG") as the OS says it ("file too large"); unknown ones as they are. */
function errnoWords(detail: string | undefined): string {
  if (detail === undefined) return "";
  if (detail === OUTPUT_STALLED) return " (its reader stopped reading it)";
  if (detail === SOURCE_CHANGED) return " (it changed while it was being sent)";
  if (detail === PART_CHANGED) return " (another program changed it on that disk while it was written)";
  const words = osReason(Object.assign(new Error(detail), { code: detail }));
  return ` (${words})`;
}

/** A folder's entry cancelled with its whole folder (CANCEL's detail "folder", session/peer-folders.ts). */
function wholeFolder(info: TransferInfo, detail: string | undefined): string {
  return info.folder && detail === "folder" ? ", with its whole folder" : "";
}

/** Why --stdout declines a folder: the Parley peer's and a plain wormhole sender's words alike. */
export const STDOUT_FOLDER_WORDS = "--stdout takes one file, not a folder";

const WORDS: Readonly<Record<string, Words>> = {
  E_REJECTED: ({ peerRole }) => `the ${peerRole} said no`,
  E_NO_ANSWER: ({ peerRole }) => `nobody answered at the ${peerRole} (its input ended)`,
  E_CANCELLED: ({ peerRole, info, detail }) => `cancelled by the ${peerRole}${wholeFolder(info, detail)}`,
  E_SEND_ONLY: () => "the peer is sending, not receiving: it takes no files",
  E_STDOUT_FOLDER: () => STDOUT_FOLDER_WORDS,
  E_STDOUT_ONE_FILE: () => "--stdout takes one file or text message, and has one already",
  E_LEAVING: ({ peerRole }) => `the ${peerRole} is leaving`,
  E_TOO_MANY_TRANSFERS: ({ detail }) => `more than ${detail ?? MAX_INCOMING_TRANSFERS} transfers at once`,
  E_TOO_MANY_FOLDERS: ({ peerRole }) => `the ${peerRole} has too many folders under way at once`,
  E_UNSUPPORTED_CHECKSUM: ({ detail }) => `unsupported checksum${detail ? ` ${detail}` : ""}`,
  E_NO_SPACE: ({ peerRole, info, detail }) =>
    info.folder && detail === "folder"
      ? `not enough space at the ${peerRole} for the whole folder: ${count(info.folder.bytes, "byte")} offered`
      : `not enough space at the ${peerRole}${info.size === null ? "" : `: ${count(info.size, "byte")} offered`}`,
  E_WRITE: ({ peerRole, detail, info, reached }) =>
    reached !== undefined
      ? outputWords(peerRole, detail, info, reached)
      : detail === PART_CHANGED
        ? // Its .part was removed (part-intact.ts): nothing is kept to resume.
          `another program changed the ${peerRole}'s copy (or its folder) while it was written; sending ${
            info.folder ? "the folder again continues it" : "it again sends it whole"
          }`
        : `the ${peerRole} could not write the file${errnoWords(detail)}${
            // A full disk at the receiver keeps what arrived (not a stream's): room, then the same file;
            // for a folder's entry the same folder (sent alone the file would land beside the folder).
            peerRole === "receiver" && info.size !== null && isFullDiskErrno(detail)
              ? `; once it has room, sending ${resendWords(info.folder !== undefined)}`
              : ""
          }`,
  E_READ: ({ peerRole, detail }) => `the ${peerRole} could not read the file${errnoWords(detail)}`,
  E_UNREADABLE: ({ peerRole, detail }) => `the ${peerRole} could not read the file${errnoWords(detail)}`,
  E_NOT_FOUND: ({ peerRole }) => `the ${peerRole}'s file is gone`,
  E_NOT_A_FILE: ({ peerRole, detail }) =>
    detail === ENTRY_REPLACED
      ? `the ${peerRole}'s file was replaced (by a link or another file) since its folder was listed: not sent`
      : `the ${peerRole}'s file is not a regular file`,
  E_BAD_NAME: () => "the name cannot be stored",
  E_BAD_CHECKSUM: () => "checksum mismatch: the file is corrupt",
  E_SIZE_MISMATCH: () => "size mismatch: the bytes received differ from the bytes sent",
  E_INTERRUPTED: ({ peerRole }) => `the ${peerRole} was interrupted`,
};

/**
 * A receiver that writes the file to its output (`receive --stdout`) could not: what reached it,
 * and that nothing resumes (it keeps no `.part`), whatever the reason (a full disk too).
 */
function outputWords(peerRole: string, detail: string | undefined, info: TransferInfo, reached: number): string {
  const of = info.size === null ? count(reached, "byte") : `${reached} of the ${count(info.size, "byte")}`;
  return `the ${peerRole} could not write to its output${errnoWords(detail)}: ${of} reached it; a file written to an output cannot resume (sending it again sends it whole)`;
}

const LEAD: Readonly<Record<PeerReason["said"], string>> = {
  reject: "the peer declined",
  cancel: "the peer cancelled it",
  received: "the peer could not store it",
};

/** The sentence for a transfer the peer ended: "the peer declined: the receiver said no". */
export function peerReasonWords(info: TransferInfo, peer: PeerReason): string {
  const peerRole = info.direction === "send" ? "receiver" : "sender";
  const words = WORDS[peer.code];
  const why = words
    ? words({ peerRole, detail: peer.detail, info, reached: peer.bytes })
    : `${peer.code}${peer.detail ? ` ${peer.detail}` : ""}`;
  return `${LEAD[peer.said]}: ${why}`;
}

/** Why this side ended a transfer, in words: "cancelled by the receiver", "declined: ...". */
export function ownReasonWords(info: TransferInfo, own: OwnReason): string {
  const ourRole = info.direction === "send" ? "sender" : "receiver";
  let words: string;
  switch (own.code) {
    case "E_CANCELLED":
      words = `cancelled by the ${ourRole}${wholeFolder(info, own.detail)}`;
      break;
    case "E_INTERRUPTED":
      // The signal's word alone ("interrupted", "terminated", "hung up"): "cancelled: interrupted" said it twice.
      words = own.detail ?? "interrupted";
      break;
    default: {
      const known = WORDS[own.code];
      words = known ? known({ peerRole: ourRole, detail: own.detail, info }) : own.code;
    }
  }
  return own.declined ? `declined: ${words}` : words;
}

/**
 * The peer's chat line after its LEAVING (SessionEvents.peerChattedAfterLeaving): dropped, this
 * said once. A Parley sends none then (its chat refuses what its user types once it leaves).
 * @param who - the peer as the run names it: its name in the chat, "The peer" in send/receive
 */
export function chattedAfterLeavingLine(who: string): string {
  return `${who} sent a line after saying it was leaving: not shown, nor any after it (a Parley sends none then).`;
}

/**
 * Sent, and declined by the receiver's `--ask` for want of an answer, its input having ended
 * (E_NO_ANSWER): the sender says the first and sums up the rest (TransferPresenter.failed).
 */
export function peerInputEnded(info: TransferInfo, why?: FailureWhy): boolean {
  return info.direction === "send" && why?.by === "peer" && why.code === "E_NO_ANSWER";
}

/** What to show for a failed transfer: the transfer layer's words, or `why` worded here. */
export function failureWords(info: TransferInfo, reason: string, why?: FailureWhy): string {
  if (!why) return reason;
  return why.by === "peer" ? peerReasonWords(info, why) : ownReasonWords(info, why);
}

/**
 * For a file cut off by a lost connection or by either side's Ctrl-C (SIGTERM, SIGHUP), that
 * sending it again resumes it (the receiver keeps what arrived, for that sender): a new user
 * cannot guess that a second try does not start over. Not for a stream (it cannot resume), a
 * folder's entries (one line each; the folder sent again resumes as a whole) or an offer
 * declined before it began. Empty when it does not apply. A clause after a semicolon, as the
 * full disk's "; once it has room, ...": the reason before it often ends in brackets already
 * ("the peer left (interrupted)"), and a second pair in a row read badly (newuser20).
 */
export function resumeHint(info: TransferInfo, code: string, why?: FailureWhy, secretKept = true): string {
  if (info.folder || !resumable(info, code, why, secretKept)) return "";
  // Cut while the sender compared the receiver's bytes with its file: it may find it changed.
  if (info.direction !== "send")
    return info.prefixUnchecked
      ? "; the sender sending it again resumes it if its file has not changed"
      : "; the sender sending it again resumes it";
  // Cut before the receiver answered: only it knows whether it holds an earlier try's bytes.
  if (info.unanswered) return "; sending it again resumes it if the receiver kept part of it";
  return info.prefixUnchecked
    ? "; sending it again resumes it if the file has not changed"
    : "; sending it again resumes it";
}

/**
 * A transfer a user's `cancel` ended (ours, or the peer's: its CANCEL says E_CANCELLED), which the
 * totals count as cancelled. A peer's CANCEL for a failure of its own (its file gone, a read error)
 * is E_CANCELLED to the session too, but the peer counts it failed: so do we (newuser30: the same
 * entry read '1 failed' on one side and '1 cancelled' on the other).
 */
export function cancelledByUser(code: string, why?: FailureWhy): boolean {
  return code === "E_CANCELLED" && (why === undefined || why.code === "E_CANCELLED");
}

/**
 * A transfer cut so that what arrived is kept for that sender (see resumeHint; folder entries too).
 * @param secretKept - for a file we send: our resume secret is stored (send-plan.ts
 *   resumeSecretKept); one this process made for itself alone matches no later run's offer, so a
 *   file of ours cut short then resumes in no later run
 */
export function resumable(info: TransferInfo, code: string, why?: FailureWhy, secretKept = true): boolean {
  if (info.size === null || info.nothingKept) return false;
  if (info.direction === "send" && !secretKept) return false;
  const stopped = why?.code === "E_INTERRUPTED" && !(why.by === "us" && why.declined);
  return code === "E_CONNECTION" || stopped;
}

/** After a folder's summary when it was cut: sending it again continues it (its unfinished folder is kept). */
export function folderResumeHint(direction: TransferInfo["direction"]): string {
  return direction === "send"
    ? " Sending the folder again continues it."
    : " The sender sending the folder again continues it.";
}
