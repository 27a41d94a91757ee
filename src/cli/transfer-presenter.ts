/**
 * The human wording of transfer events, shared by the chat and `parley send/receive`: the
 * start line, the two totals lines ("The transfer command is done. ..."), the checksum line,
 * failures; folders (one start line, one progress bar and one summary per folder instead of one
 * per file) through FolderPresenter. The totals line is said once per command: after its one
 * file or folder, or for a command of several (Offer.command, on both sides) once all of them
 * have ended, with the command's total.
 */

import type { TransferDone, TransferInfo } from "../session/index.ts";
import { type CommandSummary, CommandTally } from "../ui/command-tally.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { count, sizeWords } from "./counts.ts";
import { FolderPresenter } from "./folder-presenter.ts";
import {
  algoLabel,
  commandIncompleteLine,
  commandSummaryLine,
  DETACHED_WORDS,
  label,
  receiverTotalsLine,
  resumedLine,
  senderTotalsLine,
  shownName,
  type TransferOutput,
} from "./transfer-words.ts";

export class TransferPresenter {
  private readonly folders: FolderPresenter;
  private readonly commands = new CommandTally();
  /** Offers --ask declined without a question, the input having ended: said in one line at the end. */
  private readonly unasked: string[] = [];
  private unaskedCount = 0;

  constructor(private readonly out: TransferOutput) {
    this.folders = new FolderPresenter(out);
  }

  started(info: TransferInfo): void {
    if (info.folder) return this.folders.started(info);
    const verb = info.direction === "send" ? "Sending" : "Receiving";
    const arrow = info.direction === "send" ? "↑" : "↓";
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
    if (!this.folders.progressed(info, bytes)) this.out.updateProgress(info.id, bytes);
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
    if (done.folder) return this.folders.finished(done);
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
    // A folder refused whole: its entries never offered failed with this one, for its reason;
    // a folderOnly failure is those alone. Either line names the folder (folderRefused: the
    // folder was what the receiver said no to, at this entry), and covers its entries that fail
    // for the same reason (those in flight then). A plain peer's folder (zippedFolder) is one transfer.
    const whole = info.folderOnly === true || info.folderRefused === true || info.zippedFolder !== undefined;
    if (!this.folders.failing(info, reason, cut, unasked, whole)) {
      // An unasked folder was one question: named as the folder too.
      const what =
        whole || (unasked && info.folder !== undefined)
          ? `folder ${this.folders.rootName(info)}`
          : label(this.folders.withStoredRoot(info));
      if (!unasked) this.out.print(`${verb} ${what} failed: ${sanitizeForTerminal(reason)}.`);
      else {
        this.unaskedCount++;
        if (this.unasked.length < MAX_UNASKED_NAMED) this.unasked.push(what);
      }
    }
    if (!info.folder) this.out.endProgress(info.id);
    else this.folders.failed(info, cut);
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
    const incomplete = this.folders.sessionEnded();
    // A command of several cut short: its totals (of what did arrive) were never said.
    for (const { direction, summary } of this.commands.unfinished())
      this.out.print(commandIncompleteLine(direction, summary));
    return incomplete;
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
