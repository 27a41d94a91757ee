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
import { TransferReach } from "./transfer-reach.ts";
import {
  algoLabel,
  commandEndedShortLine,
  commandIncompleteLine,
  commandSummaryLine,
  DETACHED_WORDS,
  label,
  movedWords,
  receiverTotalsLine,
  resumedLine,
  resumingLine,
  senderTotalsLine,
  sentWords,
  shownName,
  type TransferOutput,
} from "./transfer-words.ts";

export class TransferPresenter {
  private readonly folders: FolderPresenter;
  private readonly commands = new CommandTally();
  /**
   * Offers `receive --ask` declined without a question, its input having ended (receiving: ours;
   * sending: the receiver's): said in one line when their command has ended (a transfer of no
   * command: at once), or at the session's end.
   */
  private readonly unasked = { send: new UnaskedOffers(), receive: new UnaskedOffers() };
  /** Sending: an offer the receiver declined for want of input was said (the one whose question it showed). */
  private peerInputEndedSaid = false;
  /** How far each transfer under way got: said of one cut short. */
  private readonly reach = new TransferReach();

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
    this.reach.moved(info, bytes);
    if (!this.folders.progressed(info, bytes)) this.out.updateProgress(info.id, bytes);
  }

  /**
   * A file resumes: said as it starts (`Resuming #2 a.bin from 12.0 MiB (of 40.0 MiB).`), both
   * sides; before, only its end said so. A folder's entries are its one line and bar.
   */
  resumed(info: TransferInfo, from: number): void {
    this.reach.moved(info, from);
    // A folder's entry: its bar and its summary count what it resumed from (cut before a byte
    // more moved, it had counted 0, the sender's summary less sent than confirmed: review33).
    if (info.folder) this.folders.progressed(info, from);
    else this.out.print(resumingLine(info, from));
  }

  finished(done: TransferDone): void {
    this.reach.finished(done);
    this.fileFinished(done);
    this.commandEnded(done, this.commands.ended(done, done.bytes));
  }

  /**
   * A transfer ended; when it was its command's last, the offers of it declined unasked in one
   * line, the sender's summary, then either side's totals (when anything arrived).
   */
  private commandEnded(info: Pick<TransferInfo, "direction" | "command">, summary: CommandSummary | undefined): void {
    const direction = info.direction;
    if (summary || info.command === undefined) this.unasked[direction].say(this.out, direction);
    if (!summary) return;
    if (direction === "send") this.out.print(commandSummaryLine(summary));
    if (summary.saved === 0) return;
    if (summary.failed > 0) return this.out.print(commandEndedShortLine(direction, summary));
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
   * @param inputEnded - declined by `receive --ask` for want of an answer, its input having ended.
   *   Receiving: one declined without its question (not the one whose question met the end):
   *   counted, not said. Sending: the receiver's E_NO_ANSWER; the first is said (the receiver
   *   showed its question), the rest counted as the receiver counts them
   * @param cancelled - cancelled by either side (E_CANCELLED): its command's lines name it so
   */
  failed(info: TransferInfo, reason: string, cut = false, inputEnded = false, cancelled = false): void {
    // Before: the sender said each of them, a line per file the receiver's input never saw.
    const unasked = inputEnded && (info.direction === "receive" || this.peerInputEndedSaid);
    if (inputEnded && info.direction === "send") this.peerInputEndedSaid = true;
    const verb = info.direction === "send" ? "Sending" : "Receiving";
    // Cut short and kept to resume: how far it got (a folder's entries: in the folder's summary).
    // The sender knows what it sent, and of that what the receiver confirmed (its ACKs): only
    // those are said kept to resume, in its command's totals too.
    const { moved, confirmed, said } = this.reach.failed(info, cut);
    const words = (size: number) =>
      info.direction === "send" && info.confirmedBytes !== undefined
        ? sentWords(moved, size, confirmed)
        : movedWords(info.direction, moved, size);
    const got = said && info.size !== null ? ` ${words(info.size)}.` : "";
    // A folder refused whole: its entries never offered failed with this one, for its reason;
    // a folderOnly failure is those alone. Either line names the folder (folderRefused: the
    // folder was what the receiver said no to, at this entry), and covers its entries that fail
    // for the same reason (those in flight then). A plain peer's folder (zippedFolder) is one transfer.
    const whole = info.folderOnly === true || info.folderRefused === true || info.zippedFolder !== undefined;
    if (!this.folders.failing(info, reason, cut, unasked, whole, cancelled)) {
      // An unasked folder was one question: named as the folder too.
      const what =
        whole || (unasked && info.folder !== undefined)
          ? `folder ${this.folders.rootName(info)}`
          : label(this.folders.withStoredRoot(info));
      if (!unasked) this.out.print(`${verb} ${what} failed: ${sanitizeForTerminal(reason)}.${got}`);
      else this.unasked[info.direction].add(what);
    }
    if (!info.folder) this.out.endProgress(info.id);
    else this.folders.failed(info, cut, cancelled);
    this.commandEnded(info, this.commands.ended(info, undefined, cancelled, cut ? confirmed : 0));
  }

  /**
   * The session is over: each folder still missing entries ends with its summary now.
   * @returns how many folders were incomplete
   */
  sessionEnded(): number {
    this.unasked.receive.say(this.out, "receive");
    this.unasked.send.say(this.out, "send");
    const incomplete = this.folders.sessionEnded();
    // A command of several cut short: its totals (of what did arrive) were never said.
    for (const { direction, summary } of this.commands.unfinished())
      this.out.print(commandIncompleteLine(direction, summary));
    return incomplete;
  }
}

/** Offers the summing-up line names; the rest it counts. */
const MAX_UNASKED_NAMED = 5;

/** Offers declined without a question, until they are said in one line. */
class UnaskedOffers {
  private count = 0;
  private readonly named: string[] = [];

  add(what: string): void {
    this.count++;
    if (this.named.length < MAX_UNASKED_NAMED) this.named.push(what);
  }

  say(out: TransferOutput, direction: TransferInfo["direction"]): void {
    if (this.count > 0) out.print(unaskedLine(this.count, this.named, direction));
    this.count = 0;
    this.named.length = 0;
  }
}

/**
 * `receive --ask` after its input ended: the offers declined without a question, in one line
 * ("Declined 2 more offers without asking (the input had ended): #5 f3.txt, #7 f4.txt."); the
 * sender's: "The receiver declined 2 more offers without asking (its input had ended): ...".
 */
function unaskedLine(n: number, named: readonly string[], direction: TransferInfo["direction"]): string {
  const more = n > named.length ? ` and ${n - named.length} more` : "";
  const who = direction === "receive" ? "Declined" : "The receiver declined";
  const whose = direction === "receive" ? "the" : "its";
  return `${who} ${count(n, "more offer")} without asking (${whose} input had ended): ${named.join(", ")}${more}.`;
}
