/**
 * The human wording of folder transfers (for TransferPresenter): a folder is many transfers, one
 * per entry, that people think of as one, so it gets one start line, one progress bar and one
 * summary line ("Saved folder photos: 25 entries, ...", "Folder photos: nothing was saved. ..."),
 * with each failure reason said once for the folder, not once per entry. A received folder is
 * named as it is stored (`photos (1)`) on every line once its first entry is opened.
 */

import type { TransferDone, TransferInfo } from "../session/index.ts";
import { entriesEnded, type FolderSummary, FolderTally } from "../ui/folder-tally.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { count, sizeWords } from "./counts.ts";
import { folderResumeHint } from "./reason-words.ts";
import { RenamedEntries } from "./renamed-entries.ts";
import {
  algoLabel,
  folderEndedShortLine,
  movedWords,
  receiverTotalsLine,
  senderTotalsLine,
  sentWords,
  storedName,
  storedRootName,
  type TransferOutput,
} from "./transfer-words.ts";

/** A folder's failure reasons: those said, how many more entries failed for one of them. */
interface FolderReasons {
  readonly said: Set<string>;
  unsaid: number;
  /** An entry was cut (a lost connection, an interrupt), not refused: sending again continues it. */
  cut?: boolean;
  /** The reason said in a line naming the folder: its entries that fail for it are not counted apart. */
  whole?: string;
  /** Declined by --ask without its question (its input had ended): summed up at the end, no line of its own. */
  unasked?: boolean;
  /** Cancelled (E_CANCELLED, either side): its command's totals line says so. */
  cancelled?: boolean;
}

/** A folder as FolderPresenter.folderName takes it: a summary, or an entry's folder. */
interface FolderRef {
  readonly group: number;
  readonly direction: TransferInfo["direction"];
  readonly root: string;
}

export class FolderPresenter {
  private readonly tally = new FolderTally();
  /**
   * Per folder under way, the failure reasons already said: a folder declined whole (--ask
   * answered n, --stdout) fails each of its entries for the same reason, which is said once,
   * not once per entry. Different reasons (a name each) are all said.
   */
  private readonly reasons = new Map<number, FolderReasons>();
  /** Entries stored under a numbered name (the name made safe was taken): which went where. */
  private readonly renamed = new RenamedEntries();
  /**
   * Received folders stored under another name than offered (`photos (1)`), by folderKey, from
   * their first entry opened (TransferInfo.rootStoredAs): every later line names them so.
   */
  private readonly storedRoots = new Map<number, string>();

  constructor(private readonly out: TransferOutput) {}

  /** A folder's entry started: the folder's line and bar at its first. */
  started(info: TransferInfo): void {
    if (!info.folder) return;
    if (info.rootStoredAs !== undefined)
      this.storedRoots.set(folderKey(info.folder, info.direction), info.rootStoredAs);
    const folder = this.tally.started(info);
    if (!folder) return;
    const name = this.folderName(folder);
    const verb = info.direction === "send" ? "Sending" : "Receiving";
    const arrow = info.direction === "send" ? "↑" : "↓";
    // A colon, not brackets: a folder stored as "photos (1)" read "photos (1) (25 entries, ...)".
    this.out.print(`${verb} folder ${name}: ${count(folder.entries, "entry", "entries")}, ${sizeWords(folder.bytes)}.`);
    this.out.startProgress(folderKey(folder), `${arrow} ${name}/`, folder.bytes);
  }

  /** @returns false for a transfer that is no folder's entry under way (it has a bar of its own) */
  progressed(info: TransferInfo, bytes: number): boolean {
    const folderBytes = this.tally.progressed(info, bytes);
    if (folderBytes === undefined) return false;
    if (info.folder) this.out.updateProgress(folderKey(info.folder, info.direction), folderBytes);
    return true;
  }

  /** A folder's entry saved: which entries went under other names, and the folder's summary at its last. */
  finished(done: TransferDone): void {
    for (const line of this.renamed.finished(done)) this.out.print(line);
    const folder = this.tally.finished(done);
    if (folder) this.folderDone(folder, done);
  }

  /**
   * A failure of a folder's entry (or of the folder) is about to be said: its reason is kept.
   * @param whole - its line names the folder (refused whole, or a plain peer's zipped folder)
   * @param unasked - declined by --ask without its question: not said, summed up
   * @returns true when a line gave this reason for its folder already: no line for it
   */
  failing(
    info: TransferInfo,
    reason: string,
    cut: boolean,
    unasked: boolean,
    whole: boolean,
    cancelled = false,
  ): boolean {
    if (!info.folder) return false;
    const key = folderKey(info.folder, info.direction);
    const reasons = this.reasons.get(key);
    // Its entries never offered failed with it, for its reason; a line naming the folder covers them.
    const beyondLine = whole ? 0 : (info.folderRest ?? 0);
    if (!reasons) {
      this.reasons.set(key, {
        said: new Set([reason]),
        unsaid: beyondLine,
        cut,
        ...(whole ? { whole: reason } : {}),
        ...(unasked ? { unasked } : {}),
        ...(cancelled ? { cancelled } : {}),
      });
      return false;
    }
    reasons.cut ||= cut;
    reasons.cancelled ||= cancelled;
    if (reasons.said.has(reason)) {
      if (reasons.whole !== reason) reasons.unsaid += entriesEnded(info);
      return true;
    }
    reasons.unsaid += beyondLine;
    if (whole) reasons.whole = reason;
    reasons.said.add(reason);
    return false;
  }

  /** After its failed line: the entry counted (one declined before it was announced too), the summary at the last. */
  failed(info: TransferInfo, cut: boolean, cancelled = false): void {
    // Declined before it was announced (--ask answered n): counted all the same, so the folder
    // still ends with its summary line.
    this.tally.started(info);
    const folder = this.tally.failed(info, cut, cancelled);
    if (folder) this.folderDone(folder, info);
  }

  /**
   * The session is over: each folder still missing entries ends with its summary now.
   * @returns how many folders were incomplete
   */
  sessionEnded(): number {
    const left = this.tally.unfinished();
    for (const f of left) {
      const { name } = this.endFolder(f);
      const missing = f.entries - f.done - f.failed;
      const verb = f.direction === "receive" ? "arrived" : "were sent";
      // The receiver keeps the unfinished folder (its marker): the same folder sent again continues it.
      this.out.print(
        `Folder ${name} is incomplete: ${f.done} of ${f.entries} entries ${verb}, ${f.failed} failed, ${missing} never came; ${folderBytesWords(f)}.${keptHint(f)}`,
      );
    }
    return left.length;
  }

  /** The folder of a folder's entry (or of a folderOnly failure, or a plain peer's zipped folder), as folderName names it. */
  rootName(info: TransferInfo): string {
    if (!info.folder) return sanitizeForTerminal(storedName(info.direction, info.name));
    return this.folderName({ group: info.folder.group, direction: info.direction, root: info.folder.root });
  }

  /** A folder's entry with its folder's stored name, when known (for label and shownName). */
  withStoredRoot(info: TransferInfo): TransferInfo {
    const stored = info.folder && this.storedRoots.get(folderKey(info.folder, info.direction));
    return stored === undefined || info.rootStoredAs !== undefined ? info : { ...info, rootStoredAs: stored };
  }

  /**
   * A folder as this side names it, made safe for the terminal: a received one as stored (its
   * stored name once an entry of it was opened: `photos (1)`, else the offered name made safe),
   * a sent one as it is here (the sender's line for the receiver's name says "in photos (1)").
   */
  private folderName(f: FolderRef): string {
    return sanitizeForTerminal(this.storedRoots.get(folderKey(f)) ?? storedRootName(f.direction, f.root));
  }

  /**
   * A folder has ended (every entry, or the session): its bar goes and it is forgotten (its
   * reasons, renamed entries and stored name). @returns its reasons and its name, for its last line
   */
  private endFolder(f: FolderSummary): { reasons: FolderReasons | undefined; name: string } {
    const key = folderKey(f);
    this.out.endProgress(key);
    const reasons = this.reasons.get(key);
    this.reasons.delete(key);
    for (const line of this.renamed.forget(f.direction, f.group)) this.out.print(line);
    const name = this.folderName(f);
    this.storedRoots.delete(key);
    return { reasons, name };
  }

  /** @param last - the folder's entry that ended it (a command's folder leaves its totals to the command) */
  private folderDone(f: FolderSummary, last: TransferInfo): void {
    // Nothing saved: no totals line, as for one file that failed.
    const totals = last.command === undefined && f.done > 0;
    const { reasons, name } = this.endFolder(f);
    const same = reasons?.said.size === 1 ? "the same reason" : "the same reasons";
    const alike = reasons && reasons.unsaid > 0 ? `; ${reasons.unsaid} more for ${same}` : "";
    // Cut short: how much of it moved (kept to resume), then that sending it again continues it.
    const again = reasons?.cut ? ` ${folderBytesWords(f)}.${keptHint(f)}` : "";
    // A cancel's entries are said cancelled, as the command's totals count them (a folder in a
    // command of several has no totals line of its own: this line is its only count).
    const other = f.failed - f.cancelled;
    const ended =
      f.cancelled > 0
        ? `${f.cancelled} of ${f.entries} entries cancelled${other > 0 ? `, ${other} failed` : ""}`
        : `${f.failed} of ${f.entries} entries failed`;
    const failed = f.failed > 0 ? ` ${ended} (see above${alike}).${again}` : "";
    // "each XXH3-64 checksum matched" only when a file was saved (and so verified); "its" for one.
    const verified = f.algo ? `, ${f.done === 1 ? "its" : "each"} ${algoLabel(f.algo)} checksum matched` : "";
    // "is done" only for a folder every entry of which was saved (a cancelled one said it too).
    const totalsLine = (whole: (bytes: number) => string) =>
      f.failed > 0 ? folderEndedShortLine(f.direction, f, reasons?.cancelled === true) : whole(f.verifiedBytes);
    if (f.direction === "receive") {
      if (totals) this.out.print(totalsLine(receiverTotalsLine));
      const where = f.savedIn ? sanitizeForTerminal(f.savedIn) : name;
      // Declined without its question (the sender: the receiver's): the line at the end names it.
      if (f.done === 0 && reasons?.unasked) return;
      if (f.done === 0) this.out.print(`Folder ${name}: nothing was saved.${failed}`);
      else this.out.print(`Saved folder ${where}: ${count(f.done, "entry", "entries")}${verified}.${failed}`);
    } else {
      if (totals) this.out.print(totalsLine(senderTotalsLine));
      if (f.done === 0 && reasons?.unasked) return;
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

/**
 * folderResumeHint for a folder cut short, when any of it is kept to continue: none when no entry
 * was saved and no byte moved (cut while `receive --ask` still asked about it, or before any
 * entry was answered), where "sending the folder again continues it" promised what was not there.
 */
function keptHint(f: FolderSummary): string {
  return f.done > 0 || f.verifiedBytes + f.cutBytes > 0 ? folderResumeHint(f.direction) : "";
}

/**
 * How much of a folder cut short moved: its verified entries' bytes and what its cut entries had
 * moved ("8807988 of its 16777216 bytes arrived"), the sender's as a file's ("... were sent,
 * 8388608 of them confirmed by the receiver": what it had sent can be more than arrived).
 */
export function folderBytesWords(f: FolderSummary): string {
  const moved = f.verifiedBytes + f.cutBytes;
  // Nothing sent: nothing to confirm either ("0 of its 150 bytes were sent.").
  if (f.direction === "receive" || moved === 0) return movedWords(f.direction, moved, f.bytes);
  return sentWords(moved, f.bytes, f.verifiedBytes + f.cutConfirmed);
}

/** Progress keys of folders: negative, so they never meet transfer ids. */
function folderKey(f: { group: number; direction?: TransferInfo["direction"] }, direction = f.direction): number {
  return -(2 * f.group + (direction === "send" ? 0 : 1));
}
