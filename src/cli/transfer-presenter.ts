/**
 * The human wording of transfer events, shared by the chat and `parley send/receive`: the
 * start line, the two totals lines ("The transfer command is done. ..."), the checksum line,
 * failures, and for folders one start line, one progress bar and one set of totals per folder
 * (FolderTally) instead of one per file. The totals line is said once per command: after its
 * one file or folder, or for a command of several (Offer.command, on both sides) once all of
 * them have ended, with the command's total.
 */

import type { TransferDone, TransferInfo } from "../session/index.ts";
import { checksumLabel, isChecksumAlgo } from "../transfer/checksum.ts";
import { sanitizeFileName } from "../transfer/file-names.ts";
import { type CommandSummary, CommandTally } from "../ui/command-tally.ts";
import { entriesEnded, type FolderSummary, FolderTally } from "../ui/folder-tally.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { count, sizeWords } from "./counts.ts";
import { folderResumeHint } from "./reason-words.ts";
import { RenamedEntries } from "./renamed-entries.ts";

/** Where the lines and bars go (the chat's Terminal, or the send/receive reporter). */
export interface TransferOutput {
  print(line: string): void;
  startProgress(key: number, label: string, total: number | null): void;
  updateProgress(key: number, bytes: number): void;
  endProgress(key: number): void;
}

export function receiverTotalsLine(bytes: number): string {
  return `The transfer command is done. The receiver has received a total of ${count(bytes, "byte")} from the sender.`;
}

/** The sender's line that ends a command that sent several files or folders (before its totals line). */
export function commandSummaryLine(s: CommandSummary): string {
  const failed = s.failed > 0 ? `, ${s.failed} failed` : "";
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
  if (s.saved === 0) return counts;
  const total =
    direction === "send"
      ? `the sender has sent a total of ${count(s.bytes, "byte")} to the receiver`
      : `the receiver has received a total of ${count(s.bytes, "byte")} from the sender`;
  return `${counts}; ${total}`;
}

export function senderTotalsLine(bytes: number): string {
  return `The transfer command is done. The sender has sent a total of ${count(bytes, "byte")} to the receiver.`;
}

/** "Resumed ...", after an interrupted attempt. */
export function resumedLine(d: TransferDone): string {
  const moved = d.bytes - d.resumedFrom;
  return `Resumed ${sanitizeForTerminal(d.name)}: ${count(d.resumedFrom, "byte")} ${d.resumedFrom === 1 ? "was" : "were"} there from an earlier attempt, ${count(moved, "byte")} moved now.`;
}

function algoLabel(algo: string): string {
  return isChecksumAlgo(algo) ? checksumLabel(algo) : sanitizeForTerminal(algo);
}

/** A folder's failure reasons: those said, how many more entries failed for one of them. */
interface FolderReasons {
  readonly said: Set<string>;
  unsaid: number;
  /** An entry was cut (a lost connection, an interrupt), not refused: sending again continues it. */
  cut?: boolean;
  /** The reason said in a line naming the folder: its entries that fail for it are not counted apart. */
  whole?: string;
  /** Declined by --ask without its question (the input had ended): summed up at the end, no line of its own. */
  unasked?: boolean;
}

/** After a Saved line whose folder no path led to (TransferDone.detached). */
export const DETACHED_WORDS =
  " Its folder's file system was unmounted meanwhile: it is there once that is mounted again.";

export class TransferPresenter {
  private readonly folders = new FolderTally();
  private readonly commands = new CommandTally();
  /**
   * Per folder under way, the failure reasons already said: a folder declined whole (--ask
   * answered n, --stdout) fails each of its entries for the same reason, which is said once,
   * not once per entry. Different reasons (a name each) are all said.
   */
  private readonly folderReasons = new Map<number, FolderReasons>();
  /** Entries stored under a numbered name (the name made safe was taken): which went where. */
  private readonly renamed = new RenamedEntries();
  /**
   * Received folders stored under another name than offered (`photos (1)`), by folderKey, from
   * their first entry opened (TransferInfo.rootStoredAs): every later line names them so.
   */
  private readonly storedRoots = new Map<number, string>();
  /** Offers --ask declined without a question, the input having ended: said in one line at the end. */
  private readonly unasked: string[] = [];
  private unaskedCount = 0;

  constructor(private readonly out: TransferOutput) {}

  started(info: TransferInfo): void {
    const verb = info.direction === "send" ? "Sending" : "Receiving";
    const arrow = info.direction === "send" ? "↑" : "↓";
    if (info.folder) {
      if (info.rootStoredAs !== undefined)
        this.storedRoots.set(folderKey(info.folder, info.direction), info.rootStoredAs);
      const folder = this.folders.started(info);
      if (!folder) return;
      const name = this.folderName(folder);
      // A colon, not brackets: a folder stored as "photos (1)" read "photos (1) (25 entries, ...)".
      this.out.print(
        `${verb} folder ${name}: ${count(folder.entries, "entry", "entries")}, ${sizeWords(folder.bytes)}.`,
      );
      this.out.startProgress(folderKey(folder), `${arrow} ${name}/`, folder.bytes);
      return;
    }
    const size = info.size === null ? "size not known yet" : sizeWords(info.size);
    const zipped = info.zippedFolder;
    if (zipped) {
      // A plain wormhole peer's folder: one zip, said as the folder (its name as offered: the
      // name it is stored under is chosen when it is unpacked, and the Saved line says it).
      const what = `${count(zipped.files, "file")}, ${sizeWords(zipped.bytes)}; a zip of ${size}`;
      this.out.print(`${verb} folder ${shownName(info)}: ${what}.`);
    } else this.out.print(`${verb} ${label(info)} (${size}).`);
    this.out.startProgress(info.id, `${arrow} ${label(info)}`, info.size);
  }

  progressed(info: TransferInfo, bytes: number): void {
    const folderBytes = this.folders.progressed(info, bytes);
    if (folderBytes === undefined) this.out.updateProgress(info.id, bytes);
    else if (info.folder) this.out.updateProgress(folderKey(info.folder, info.direction), folderBytes);
  }

  finished(done: TransferDone): void {
    this.fileFinished(done);
    this.commandEnded(done.direction, this.commands.ended(done, done.bytes));
  }

  /** A command of several ended: the sender's summary, then either side's totals (when anything arrived). */
  private commandEnded(direction: TransferInfo["direction"], summary: CommandSummary | undefined): void {
    if (!summary) return;
    if (direction === "send") this.out.print(commandSummaryLine(summary));
    if (summary.saved === 0) return;
    this.out.print(direction === "send" ? senderTotalsLine(summary.bytes) : receiverTotalsLine(summary.bytes));
  }

  private fileFinished(done: TransferDone): void {
    if (done.folder) {
      for (const line of this.renamed.finished(done)) this.out.print(line);
      const folder = this.folders.finished(done);
      if (folder) this.folderDone(folder, done);
      return;
    }
    this.out.endProgress(done.id);
    if (done.resumedFrom > 0) this.out.print(resumedLine(done));
    const algo = algoLabel(done.algo);
    // A command's several files: its totals come once, when the last has ended.
    const totals = done.command === undefined;
    if (done.direction === "receive") {
      if (totals) this.out.print(receiverTotalsLine(done.bytes));
      const where = done.path === "-" ? "to standard output" : sanitizeForTerminal(done.path ?? "");
      this.out.print(
        (done.unverified
          ? `Saved ${where}, without a checksum from the sender to compare (ours: ${algo} ${done.digest}).`
          : `Saved ${where}; ${algo} checksum matched (${done.digest}).`) + (done.detached ? DETACHED_WORDS : ""),
      );
    } else {
      if (totals) this.out.print(senderTotalsLine(done.bytes));
      // Under another name than offered ("mid50 (1).bin", "_env"): say which.
      const as =
        done.storedAs !== undefined && done.storedAs !== done.name ? ` as ${sanitizeForTerminal(done.storedAs)}` : "";
      this.out.print(
        done.unverified
          ? `${label(done)}: the receiver said it saved it${as}, without a checksum to compare (ours: ${algo} ${done.digest}).`
          : `${label(done)}: the receiver saved it${as} and its ${algo} checksum matched (${done.digest}).`,
      );
    }
  }

  /**
   * @param cut - cut by a lost connection or an interrupt: what arrived is kept (reason-words resumable)
   * @param unasked - declined by --ask without its question (its input had ended): counted, not said
   */
  failed(info: TransferInfo, reason: string, cut = false, unasked = false): void {
    const verb = info.direction === "send" ? "Sending" : "Receiving";
    const key = info.folder ? folderKey(info.folder, info.direction) : undefined;
    const reasons = key === undefined ? undefined : this.folderReasons.get(key);
    // A folder refused whole: its entries never offered failed with this one, for its reason;
    // a folderOnly failure is those alone. Either line names the folder (folderRefused: the
    // folder was what the receiver said no to, at this entry), and covers its entries that fail
    // for the same reason (those in flight then). A plain peer's folder (zippedFolder) is one transfer.
    const rest = info.folderRest ?? 0;
    const wholeLine = info.folderOnly === true || info.folderRefused === true || info.zippedFolder !== undefined;
    const beyondLine = wholeLine ? 0 : rest;
    if (reasons?.said.has(reason)) {
      if (reasons.whole !== reason) reasons.unsaid += entriesEnded(info);
    } else if (unasked) {
      // A folder was one question: named as the folder.
      const what = info.folder || wholeLine ? `folder ${this.rootName(info)}` : label(this.withStoredRoot(info));
      this.unaskedCount++;
      if (this.unasked.length < MAX_UNASKED_NAMED) this.unasked.push(what);
    } else
      this.out.print(
        `${verb} ${wholeLine ? `folder ${this.rootName(info)}` : label(this.withStoredRoot(info))} failed: ${sanitizeForTerminal(reason)}.`,
      );
    const whole = wholeLine ? { whole: reason } : {};
    if (key !== undefined && !reasons)
      this.folderReasons.set(key, {
        said: new Set([reason]),
        unsaid: beyondLine,
        cut,
        ...whole,
        ...(unasked ? { unasked } : {}),
      });
    else if (reasons) {
      if (!reasons.said.has(reason)) {
        reasons.unsaid += beyondLine;
        if (wholeLine) reasons.whole = reason;
      }
      reasons.said.add(reason);
      reasons.cut ||= cut;
    }
    if (!info.folder) this.out.endProgress(info.id);
    else {
      // Declined before it was announced (--ask answered n): counted all the same, so the
      // folder still ends with its summary line.
      this.folders.started(info);
      const folder = this.folders.failed(info, cut);
      if (folder) this.folderDone(folder, info);
    }
    this.commandEnded(info.direction, this.commands.ended(info, undefined));
  }

  /**
   * The session is over: each folder still missing entries ends with its summary now.
   * @returns how many folders were incomplete
   */
  sessionEnded(): number {
    if (this.unaskedCount > 0) this.out.print(unaskedLine(this.unaskedCount, this.unasked));
    this.unaskedCount = 0;
    this.unasked.length = 0;
    const left = this.folders.unfinished();
    this.foldersEnded(left);
    // A command of several cut short: its totals (of what did arrive) were never said.
    for (const { direction, summary } of this.commands.unfinished())
      this.out.print(commandIncompleteLine(direction, summary));
    return left.length;
  }

  private foldersEnded(left: ReturnType<FolderTally["unfinished"]>): void {
    for (const f of left) {
      this.out.endProgress(folderKey(f));
      this.folderReasons.delete(folderKey(f));
      this.renamed.forget(f.direction, f.group);
      const missing = f.entries - f.done - f.failed;
      const name = this.folderName(f);
      this.storedRoots.delete(folderKey(f));
      const verb = f.direction === "receive" ? "arrived" : "were sent";
      // The receiver keeps the unfinished folder (its marker): the same folder sent again continues it.
      this.out.print(
        `Folder ${name} is incomplete: ${f.done} of ${f.entries} entries ${verb}, ${f.failed} failed, ${missing} never came; ${folderBytesWords(f)}.${keptHint(f)}`,
      );
    }
  }

  /**
   * A folder as this side names it, made safe for the terminal: a received one as stored (its
   * stored name once an entry of it was opened: `photos (1)`, else the offered name made safe),
   * a sent one as it is here (the sender's line for the receiver's name says "in photos (1)").
   */
  private folderName(f: {
    readonly group: number;
    readonly direction: TransferInfo["direction"];
    readonly root: string;
  }): string {
    return sanitizeForTerminal(this.storedRoots.get(folderKey(f)) ?? storedName(f.direction, f.root));
  }

  /** The folder of a folder's entry (or of a folderOnly failure, or a plain peer's zipped folder), as folderName names it. */
  private rootName(info: TransferInfo): string {
    if (!info.folder) return sanitizeForTerminal(storedName(info.direction, info.name));
    return this.folderName({ group: info.folder.group, direction: info.direction, root: info.folder.root });
  }

  /** A folder's entry with its folder's stored name, when known (for label and shownName). */
  private withStoredRoot(info: TransferInfo): TransferInfo {
    const stored = info.folder && this.storedRoots.get(folderKey(info.folder, info.direction));
    return stored === undefined || info.rootStoredAs !== undefined ? info : { ...info, rootStoredAs: stored };
  }

  /** @param last - the folder's entry that ended it (a command's folder leaves its totals to the command) */
  private folderDone(f: FolderSummary, last: TransferInfo): void {
    // Nothing saved: no totals line, as for one file that failed.
    const totals = last.command === undefined && f.done > 0;
    this.out.endProgress(folderKey(f));
    const reasons = this.folderReasons.get(folderKey(f));
    this.folderReasons.delete(folderKey(f));
    this.renamed.forget(f.direction, f.group);
    const name = this.folderName(f);
    this.storedRoots.delete(folderKey(f));
    const same = reasons?.said.size === 1 ? "the same reason" : "the same reasons";
    const alike = reasons && reasons.unsaid > 0 ? `; ${reasons.unsaid} more for ${same}` : "";
    // Cut short: how much of it moved (kept to resume), then that sending it again continues it.
    const again = reasons?.cut ? ` ${folderBytesWords(f)}.${keptHint(f)}` : "";
    const failed = f.failed > 0 ? ` ${f.failed} of ${f.entries} entries failed (see above${alike}).${again}` : "";
    // "each XXH3-64 checksum matched" only when a file was saved (and so verified).
    const verified = f.algo ? `, each ${algoLabel(f.algo)} checksum matched` : "";
    if (f.direction === "receive") {
      if (totals) this.out.print(receiverTotalsLine(f.verifiedBytes));
      const where = f.savedIn ? sanitizeForTerminal(f.savedIn) : name;
      // Declined without its question: the line at the end names it.
      if (f.done === 0 && reasons?.unasked) return;
      if (f.done === 0) this.out.print(`Folder ${name}: nothing was saved.${failed}`);
      else this.out.print(`Saved folder ${where}: ${count(f.done, "entry", "entries")}${verified}.${failed}`);
    } else {
      if (totals) this.out.print(senderTotalsLine(f.verifiedBytes));
      // Stored under another name (photos taken, or .config): said, as a file's "saved it as".
      const as = f.storedRoot && f.storedRoot !== f.root ? ` in ${sanitizeForTerminal(f.storedRoot)}` : "";
      // Nothing saved: the words the receiver's line uses ("the receiver saved 0 entries" was the sender's).
      if (f.done === 0) this.out.print(`Folder ${name}: nothing was saved.${failed}`);
      else
        this.out.print(
          `Folder ${name}: the receiver saved ${count(f.done, "entry", "entries")}${as}${verified}.${failed}`,
        );
    }
  }
}

/** Offers the summing-up line names; the rest it counts. */
const MAX_UNASKED_NAMED = 5;

/**
 * `receive --ask` after its input ended: the offers declined without a question, in one line
 * ("Declined 2 more offers without asking (the input had ended): #5 f3.txt, #7 f4.txt.").
 */
export function unaskedLine(n: number, named: readonly string[]): string {
  const more = n > named.length ? ` and ${n - named.length} more` : "";
  return `Declined ${count(n, "more offer")} without asking (the input had ended): ${named.join(", ")}${more}.`;
}

/**
 * How much of a folder cut short moved: its verified entries' bytes and what its cut entries had
 * moved ("8807988 of its 16777216 bytes arrived"; the sender: "were sent").
 */
/**
 * folderResumeHint for a folder cut short, when any of it is kept to continue: none when no entry
 * was saved and no byte moved (cut while `receive --ask` still asked about it, or before any
 * entry was answered), where "sending the folder again continues it" promised what was not there.
 */
function keptHint(f: FolderSummary): string {
  return f.done > 0 || f.verifiedBytes + f.cutBytes > 0 ? folderResumeHint(f.direction) : "";
}

export function folderBytesWords(f: FolderSummary): string {
  const moved = f.verifiedBytes + f.cutBytes;
  const verb = f.direction === "receive" ? "arrived" : "were sent";
  return `${moved} of its ${count(f.bytes, "byte")} ${moved === 1 ? verb.replace("were", "was") : verb}`;
}

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
  const root = info.rootStoredAs ?? storedName(info.direction, info.folder.root);
  return sanitizeForTerminal([root, ...info.folder.path.map((p) => storedName(info.direction, p))].join("/"));
}

/** A received name or folder component as the receiver stores it; a sent one as it is. */
function storedName(direction: TransferInfo["direction"], name: string): string {
  return direction === "receive" ? sanitizeFileName(name) : name;
}

/** Progress keys of folders: negative, so they never meet transfer ids. */
function folderKey(f: { group: number; direction?: TransferInfo["direction"] }, direction = f.direction): number {
  return -(2 * f.group + (direction === "send" ? 0 : 1));
}
