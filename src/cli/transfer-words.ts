/**
 * The words of transfer lines that need no memory of earlier events: the two totals lines ("The
 * transfer command is done. ..."), a command's summary, the resumed line, a transfer's label
 * (`#3 photos/e03.bin`), the checksum's name. TransferPresenter and FolderPresenter say them;
 * the JSON reporter reuses some for its messages.
 */

import { asksFirst } from "../protocol/features.ts";
import type { Hello } from "../protocol/message-types.ts";
import type { TransferDone, TransferInfo } from "../session/index.ts";
import { checksumLabel, isChecksumAlgo } from "../transfer/checksum.ts";
import { sanitizeFileName, sanitizeFolderName } from "../transfer/file-names.ts";
import type { CommandSummary } from "../ui/command-tally.ts";
import { formatBytes } from "../ui/progress.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { count } from "./counts.ts";

/** Where the lines and bars go (the chat's Terminal, or the send/receive reporter). */
export interface TransferOutput {
  print(line: string): void;
  startProgress(key: number, label: string, total: number | null): void;
  updateProgress(key: number, bytes: number): void;
  endProgress(key: number): void;
}

/**
 * Said to a sender once connected when the peer asks its user about each offer (`parley receive
 * --ask`, HELLO feature "asks"): its Sending lines come at once, and then nothing moves until
 * the person answers, which read as a stalled transfer.
 */
export function peerAsksLine(peer: Hello): string | undefined {
  if (!asksFirst(peer)) return undefined;
  return "The peer asks its user before taking each offer (parley receive --ask; a folder once): what you send waits for their answer.";
}

export function receiverTotalsLine(bytes: number): string {
  return `The transfer command is done. The receiver has received a total of ${count(bytes, "byte")} from the sender.`;
}

export function senderTotalsLine(bytes: number): string {
  return `The transfer command is done. The sender has sent a total of ${count(bytes, "byte")} to the receiver.`;
}

/** ", 2 cancelled, 1 failed": a command's transfers that were not saved, cancelled ones named so. */
function notSavedWords(s: CommandSummary): string {
  const other = s.failed - s.cancelled;
  return `${s.cancelled > 0 ? `, ${s.cancelled} cancelled` : ""}${other > 0 ? `, ${other} failed` : ""}`;
}

/**
 * The totals line of a command whose transfers have all ended, not all saved (one cancelled,
 * declined, or failed): "is done" is said only of a command every transfer of which was saved;
 * not "is incomplete" either, the words of one cut short (kept to resume, said at the session's end).
 */
export function commandEndedShortLine(direction: "send" | "receive", s: CommandSummary): string {
  return `The transfer command ended: ${s.saved} of ${s.transfers} transfers saved by the receiver${notSavedWords(s)}; ${totalWords(direction, s.bytes)}${cutWords(direction, s, "more ")}.`;
}

/**
 * "; 8650752 bytes more of what was cut short arrived, kept to resume": after a command's total
 * (the verified bytes of its saved transfers alone), what its transfers cut short had moved, so
 * that "a total of 10 bytes" after a Ctrl-C does not read as all that moved. Empty when nothing
 * of them moved. The sender's figure is what the receiver confirmed (TransferInfo.confirmedBytes),
 * "were confirmed by the receiver": what it had sent may not all have reached the receiver.
 * @param more - "more " after a total; "" when no total is said (nothing saved)
 */
function cutWords(direction: "send" | "receive", s: CommandSummary, more: "more " | ""): string {
  if (s.cutBytes === 0) return "";
  const verb = direction === "receive" ? "arrived" : `${s.cutBytes === 1 ? "was" : "were"} confirmed by the receiver`;
  return `; ${count(s.cutBytes, "byte")} ${more}of what was cut short ${verb}, kept to resume`;
}

/** "arrived" (the receiver's words), "were sent" or "was sent" (the sender's) for `moved` bytes. */
function movedVerb(direction: "send" | "receive", moved: number): string {
  if (direction === "receive") return "arrived";
  return moved === 1 ? "was sent" : "were sent";
}

/**
 * "8650752 of its 52428800 bytes arrived" (the sender: "were sent"): how far a file or folder cut
 * short got, said after its failed line or in its folder's summary.
 */
export function movedWords(direction: "send" | "receive", moved: number, size: number): string {
  return `${moved} of its ${count(size, "byte")} ${movedVerb(direction, moved)}`;
}

/**
 * "8650752 of its 52428800 bytes were sent, 8388608 of them confirmed by the receiver": a file cut
 * short, on the sender's side. What was sent (handed to the connection) can be more than what
 * arrived by the send window; what the receiver confirmed (its ACKs) is what the sender knows
 * arrived (TransferInfo.confirmedBytes).
 */
export function sentWords(sent: number, size: number, confirmed: number): string {
  return `${movedWords("send", sent, size)}, ${confirmed} of them confirmed by the receiver`;
}

/** The ended-short lines' totals: "the sender has sent a total of N bytes to the receiver" (or the receiver's). */
function totalWords(direction: "send" | "receive", bytes: number): string {
  return direction === "send"
    ? `the sender has sent a total of ${count(bytes, "byte")} to the receiver`
    : `the receiver has received a total of ${count(bytes, "byte")} from the sender`;
}

/**
 * The totals line of a folder sent alone (no command of several) that ended with entries not
 * saved (cancelled with it, declined, failed: its summary line after this says how many, its
 * failed lines above say why).
 */
export function folderEndedShortLine(
  direction: "send" | "receive",
  f: { readonly done: number; readonly entries: number; readonly verifiedBytes: number },
  cancelled: boolean,
): string {
  const saved = cancelled
    ? `the folder was cancelled, ${f.done} of its ${f.entries} entries saved by the receiver`
    : `${f.done} of the folder's ${f.entries} entries saved by the receiver`;
  return `The transfer command ended: ${saved}; ${totalWords(direction, f.verifiedBytes)}.`;
}

/** The sender's line that ends a command that sent several files or folders (before its totals line). */
export function commandSummaryLine(s: CommandSummary): string {
  const failed = notSavedWords(s);
  // Two paths typed, one a folder of 3: "4 transfers" said which.
  const entries = s.entries > 0 ? ` (${s.entries} of them ${s.entries === 1 ? "an entry" : "entries"} of folders)` : "";
  return `All ${s.transfers} transfers of this command${entries} have ended: ${s.saved} saved by the receiver${failed}.`;
}

/**
 * A command of several whose transfers did not all end before the session did (the connection
 * was lost, or the peer promised more than it offered): what it did move, said once.
 */
export function commandIncompleteLine(direction: "send" | "receive", s: CommandSummary): string {
  return `The transfer command is incomplete: ${commandIncompleteWords(direction, s)}.`;
}

/** commandIncompleteLine's counts and total (also the JSON event's message). */
export function commandIncompleteWords(direction: "send" | "receive", s: CommandSummary): string {
  const never = Math.max(0, s.transfers - s.saved - s.failed);
  const counts = `${s.saved} of ${s.transfers} transfers saved by the receiver, ${s.failed} failed, ${never} never came`;
  // Nothing saved: no total, as a file or folder of which nothing was saved says none.
  if (s.saved === 0) return `${counts}${cutWords(direction, s, "")}`;
  return `${counts}; ${totalWords(direction, s.bytes)}${cutWords(direction, s, "more ")}`;
}

/** "Resuming ...": a file resumed, as it starts (Reporter.resumed); the size in both units' first. */
export function resumingLine(info: TransferInfo, from: number): string {
  const of = info.size === null ? "" : ` (of ${formatBytes(info.size)})`;
  return `Resuming ${label(info)} from ${formatBytes(from)}${of}: an earlier attempt had delivered that much.`;
}

/** "Resumed ...", after an interrupted attempt. */
export function resumedLine(d: TransferDone): string {
  const moved = d.bytes - d.resumedFrom;
  return `Resumed ${sanitizeForTerminal(d.name)}: ${count(d.resumedFrom, "byte")} ${d.resumedFrom === 1 ? "was" : "were"} there from an earlier attempt, ${count(moved, "byte")} moved now.`;
}

/** The checksum's name as people know it ("XXH3-64"); one this build does not know, made safe. */
export function algoLabel(algo: string): string {
  return isChecksumAlgo(algo) ? checksumLabel(algo) : sanitizeForTerminal(algo);
}

/** After a Saved line whose folder no path led to (TransferDone.detached). */
export const DETACHED_WORDS =
  " Its folder's file system was unmounted meanwhile: it is there once that is mounted again.";

/**
 * `#3 name`, or `#3 folder/path/name` for an entry of a folder. Received: the name as it is
 * stored (a numbered "name (1).ext" shows once the receiver has picked it).
 */
export function label(info: TransferInfo): string {
  return `#${info.id} ${shownName(info)}`;
}

/**
 * `name`, or `folder/path/name` for an entry of a folder, made safe (label's, without the id); a
 * received folder under the name it is stored as once known (`photos (1)/e03.bin`).
 */
export function shownName(info: TransferInfo): string {
  if (!info.folder) return sanitizeForTerminal(storedName(info.direction, info.name));
  const root = info.rootStoredAs ?? storedRootName(info.direction, info.folder.root);
  return sanitizeForTerminal([root, ...info.folder.path.map((p) => storedName(info.direction, p))].join("/"));
}

/** A received folder's own name as the receiver stores it (`bin` as `_bin`); a sent one as it is. */
export function storedRootName(direction: TransferInfo["direction"], root: string): string {
  return direction === "receive" ? sanitizeFolderName(root) : root;
}

/** A received name or folder component as the receiver stores it; a sent one as it is. */
export function storedName(direction: TransferInfo["direction"], name: string): string {
  return direction === "receive" ? sanitizeFileName(name) : name;
}
