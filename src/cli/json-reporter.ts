/**
 * `parley send` / `parley receive --json`: one JSON object per line for every event (schema in
 * the README's "--json events"), human messages to stderr. The human lines are reporter.ts's.
 */

import type { TransferDone, TransferInfo } from "../session/events.ts";
import type { MetPath, Security } from "../session/rendezvous.ts";
import type { SkippedEntry } from "../transfer/folder-walk.ts";
import type { ZipStored } from "../transfer/zip-renames.ts";
import type { Asker } from "../ui/asker.ts";
import { CommandTally } from "../ui/command-tally.ts";
import { FolderTally } from "../ui/folder-tally.ts";
import { OutputGate } from "../ui/output-gate.ts";
import { folderBytesWords } from "./folder-presenter.ts";
import { HeldLines } from "./held-lines.ts";
import type { OutStream } from "./io.ts";
import { jsonErrorCode } from "./json-error-codes.ts";
import { jsonLine } from "./json-line.ts";
import { listeningEvent } from "./listening-words.ts";
import { takenName } from "./renamed-entries.ts";
import type { ConnectedPeer, Reporter } from "./reporter-interface.ts";
import { TransferReach } from "./transfer-reach.ts";
import { commandIncompleteWords } from "./transfer-words.ts";

/** At most one progress event (or bar redraw) per transfer this often. */
export const PROGRESS_EVERY_MS = 100;

/** A write held back while a question waits: where it goes; a progress event replaces its transfer's earlier one. */
interface HeldWrite {
  readonly to: "out" | "peer" | "err";
  readonly text: string;
  readonly replaces?: number | undefined;
}

function info(i: TransferInfo) {
  // An empty folder's entry says so (`dir`): its done would read as a 0-byte file's otherwise.
  const folder = i.folder && {
    root: i.folder.root,
    path: i.folder.path.join("/"),
    group: i.folder.group,
    ...(i.folder.dir ? { dir: true } : {}),
  };
  return {
    id: i.id,
    direction: i.direction,
    name: i.name,
    size: i.size,
    ...(folder ? { folder } : {}),
    // The command's place as the offer carries it (Offer.command): its number and count.
    ...(i.command ? { command: { seq: i.command.seq, transfers: i.command.transfers } } : {}),
  };
}

export class JsonReporter implements Reporter {
  private readonly lastProgress = new Map<number, number>();
  /** How far each transfer under way got: a file cut short's error event says it. */
  private readonly reach = new TransferReach();
  private readonly folders = new FolderTally();
  private readonly commands = new CommandTally();
  private readonly gate: OutputGate;

  /** Warning events waiting for the first event; undefined once it is out. */
  private warningsBeforeFirst: Record<string, unknown>[] | undefined;
  /** --ask's questions (on stderr); `eventsThere`: the events go to the same terminal or file. */
  private asker: Asker | undefined;
  private eventsThere = false;
  /** Writes held while a question waits for its answer (see write); those that did not fit counted as chat or events. */
  private readonly untilAnswered = new HeldLines<HeldWrite>((w) => (w.to === "peer" ? "chat" : "events"));

  /** @param eventOut - the first event was written already (starting-reporter.ts wrote `listening`) */
  constructor(
    private readonly out: OutStream,
    private readonly err: OutStream,
    eventOut = false,
  ) {
    this.gate = new OutputGate(
      out,
      (count) => `${JSON.stringify({ type: "chat-skipped", count })}\n`,
      (count) => `${JSON.stringify({ type: "events-skipped", count })}\n`,
    );
    this.warningsBeforeFirst = eventOut ? undefined : [];
  }

  private emit(event: Record<string, unknown>, progressOf?: number): void {
    this.write("out", `${jsonLine(event)}\n`, progressOf);
    const warnings = this.warningsBeforeFirst;
    this.warningsBeforeFirst = undefined;
    for (const warning of warnings ?? []) this.emit(warning);
  }

  listening(host: string, port: number, reachableAt: readonly string[], code: string): void {
    this.emit(listeningEvent(host, port, reachableAt, code));
  }
  connected(peer: ConnectedPeer, security?: Security, via?: MetPath): void {
    const path = via?.path;
    const { name: peerName, address } = peer;
    // The mailbox flow's path, as a plain wormhole peer's event has it: through the relay,
    // `peer.address` is the relay's (it had no flag, and only the `path` event before said so).
    this.emit({
      type: "connected",
      peer: { address, ...(peerName === undefined ? {} : { name: peerName }) },
      ...(path ? { path } : {}),
      ...(security ? { verified: security.mode === "code", verification: security.verification } : {}),
    });
  }
  mailboxCode(code: string): void {
    this.emit({ type: "code", code });
  }
  path(via: MetPath): void {
    this.emit({ type: "path", path: via.path, address: via.address });
  }
  // The human line on stderr as before, and the event: a script waiting minutes for its peer
  // learns that the mailbox is gone, and for how long it is tried again.
  mailboxLost(line: string, withinMs: number): void {
    this.write("err", `${line}\n`);
    this.emit({ type: "mailbox-lost", retryMs: Math.round(withinMs), message: line });
  }
  mailboxBack(line: string): void {
    this.write("err", `${line}\n`);
    this.emit({ type: "mailbox-back", message: line });
  }
  plainConnected(path: "direct" | "relay" | "mailbox", address?: string): void {
    // As a Parley peer's `connected`; the code was its check (the mailbox's PAKE keys every record).
    this.emit({
      type: "connected",
      peer: { ...(address === undefined ? {} : { address }), client: "wormhole" },
      path,
      verified: true,
    });
  }
  chat(text: string): void {
    this.write("peer", `${jsonLine({ type: "chat", text })}\n`);
  }
  offered(i: TransferInfo): void {
    this.folders.started(i);
    this.emit({ type: "offer", ...info(i) });
  }
  receiving(): void {}
  progressed(i: TransferInfo, bytes: number): void {
    this.folders.progressed(i, bytes); // a folder cut short says what had moved
    this.reach.moved(i, bytes); // a file too (failed's bytes)
    const now = Date.now();
    if (now - (this.lastProgress.get(i.id) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastProgress.set(i.id, now);
    this.emit({ type: "progress", id: i.id, direction: i.direction, bytes, size: i.size }, i.id);
  }
  resumed(i: TransferInfo, from: number): void {
    this.folders.progressed(i, from); // an entry cut before a byte more moved: its bytes (review33)
    this.reach.moved(i, from);
    this.emit({ type: "resume", ...info(i), from });
  }
  done(d: TransferDone): void {
    this.lastProgress.delete(d.id);
    this.reach.finished(d);
    this.folders.finished(d);
    this.commands.ended(d, d.bytes);
    const nameTaken = takenName(d); // stored numbered: this was taken
    this.emit({
      type: "done",
      ...info(d),
      bytes: d.bytes,
      resumedFrom: d.resumedFrom,
      ...(d.path === undefined ? {} : { path: d.path }),
      ...(d.detached ? { detached: true } : {}),
      ...(d.storedAs === undefined ? {} : { storedAs: d.storedAs }),
      ...(d.storedRoot === undefined ? {} : { storedRoot: d.storedRoot }),
      ...(nameTaken === undefined ? {} : { nameTaken }),
      checksum: { algo: d.algo, digest: d.digest },
      ...(d.unverified ? { unverified: true } : {}),
    });
  }
  entryStored(d: TransferDone, root: string, entry: ZipStored): void {
    // As a Parley folder entry's `done` tells it: the path as sent, where it is, the name taken
    // (root-relative: `d.name` is the folder's name as stored).
    this.emit({
      type: "stored",
      id: d.id,
      direction: d.direction,
      folder: { root, path: entry.sent, group: d.id },
      ...(d.path === undefined ? {} : { path: `${d.path}/${entry.stored}` }),
      ...(entry.taken === undefined ? {} : { nameTaken: `${d.name}/${entry.taken}` }),
      ...(entry.dir ? { dir: true } : {}),
    });
  }
  sessionEnded(): number {
    const left = this.folders.unfinished();
    for (const f of left) {
      this.emit({
        type: "error",
        code: "E_FOLDER_INCOMPLETE",
        message: `folder ${f.root}: ${f.done} of ${f.entries} entries done, ${f.failed} failed, ${f.entries - f.done - f.failed} never came; ${folderBytesWords(f)}`,
        folder: {
          root: f.root,
          group: f.group,
          entries: f.entries,
          done: f.done,
          failed: f.failed,
          cancelled: f.cancelled,
          // What the receiver holds (the sender's: what it confirmed), with what the sender had sent
          // beside it (as a file's error event); a receiver's cutConfirmed is its cutBytes.
          bytes: f.verifiedBytes + f.cutConfirmed,
          ...(f.direction === "send" ? { sent: f.verifiedBytes + f.cutBytes } : {}),
        },
      });
    }
    // A command of several cut short: the counts and total the human line says.
    for (const { direction, seq, summary } of this.commands.unfinished()) {
      this.emit({
        type: "error",
        code: "E_COMMAND_INCOMPLETE",
        message: `transfer command ${seq}: ${commandIncompleteWords(direction, summary)}`,
        direction,
        command: {
          seq,
          transfers: summary.transfers,
          saved: summary.saved,
          failed: summary.failed,
          cancelled: summary.cancelled,
          bytes: summary.bytes,
        },
      });
    }
    return left.length;
  }
  failed(
    i: TransferInfo,
    message: string,
    code: string,
    cut = false,
    _inputEnded = false,
    cancelled = code === "E_CANCELLED",
  ): void {
    this.lastProgress.delete(i.id);
    const reach = this.reach.failed(i, cut);
    this.folders.started(i);
    // A folder refused whole: its entries never offered ended with this one (folderRest).
    this.folders.failed(i, cut, cancelled);
    this.commands.ended(i, undefined, cancelled);
    const rest = i.folderRest ?? 0;
    const command = i.command && { command: { seq: i.command.seq, transfers: i.command.transfers } };
    const place = { ...command, ...(rest > 0 ? { folderRest: rest } : {}) };
    // A folder ended whole with no entry to carry it (folderOnly): the folder, not one transfer.
    // One refused whole (no room, --ask's no) at an entry: the folder too, and that entry's id
    // and name as before (scripts read them).
    const { id, direction, name } = i;
    const folder =
      i.folderRefused && i.folder
        ? { folder: { root: i.folder.root, group: i.folder.group, entries: i.folder.entries } }
        : {};
    const what = i.folderOnly ? { direction, folder: { root: name, group: id } } : { id, direction, name, ...folder };
    // A file cut short with what moved kept to resume: how far it got, as the human line says it
    // ("8650752 of its 52428800 bytes arrived."); a folder's entry too, as its folder's summary
    // line counts it (a folder all of whose entries ended has no E_FOLDER_INCOMPLETE to say it).
    // The sender's `bytes` is what the receiver confirmed (its ACKs), `sent` what it had sent.
    const sent = i.direction === "send" ? { sent: reach.moved } : {};
    const got = reach.kept ? { bytes: reach.confirmed, ...sent, size: i.size } : {};
    this.emit({ type: "error", code: jsonErrorCode(code), message, ...what, ...got, ...place });
  }
  error(code: string, message: string): void {
    this.emit({ type: "error", code: jsonErrorCode(code), message });
  }
  bye(reason: string): void {
    this.emit({ type: "bye", reason });
  }
  note(message: string): void {
    this.write("err", `${message}\n`);
  }
  skipped(entries: readonly SkippedEntry[], lines: readonly string[]): void {
    for (const line of lines) this.write("err", `${line}\n`);
    for (const entry of entries) this.emit({ type: "skipped", path: entry.rel, reason: entry.kind });
  }
  warning(code: string, message: string): void {
    this.write("err", `${message}\n`);
    const event = { type: "warning", code, message };
    if (this.warningsBeforeFirst) this.warningsBeforeFirst.push(event);
    else this.emit(event);
  }
  shareLinesWith(asker: Asker, samePlace?: boolean): void {
    this.asker = asker;
    // As the human lines (reporter.ts): the events share the questions' place when they go to
    // stderr too (--stdout), or to the same terminal or file (`> log 2>&1`). The human lines
    // this reporter writes go to stderr, with the questions, always.
    this.eventsThere = this.out === this.err || (samePlace ?? (this.out.isTTY === true && this.err.isTTY === true));
    asker.lineEnded = () => this.releaseHeld();
  }

  /**
   * Writes `text` now, or holds it while an --ask question waits for its answer where the text
   * would land on the question's line (`Accept b.txt (6 bytes)? [y/N] {"type":"offer",...}`: the
   * JSON line cut in two on screen, the answer typed after it). Held lines are written once the
   * question's line has ended (its answer read), in order; a transfer's later progress event
   * replaces its earlier one. Showing the question again below each line instead (as the human
   * lines do) raced with an answer typed at the terminal before this process read it: the
   * question came back, answered, below it.
   */
  private write(to: HeldWrite["to"], text: string, progressOf?: number): void {
    // Asked whichever stream this goes to: a question whose offer is gone (the session ended) has
    // its line ended here and what it held written first. With stdout elsewhere, a note held for
    // it came out only once the asker closed, after the bye event (review31).
    const holds = this.asker?.holdsLines() === true;
    if (holds && (to === "err" || this.eventsThere)) this.untilAnswered.hold({ to, text, replaces: progressOf });
    else this.writeNow(to, text);
  }

  private writeNow(to: HeldWrite["to"], text: string): void {
    if (to === "err") this.err.write(text);
    else if (to === "peer") this.gate.writeFromPeer(text);
    else this.gate.write(text);
  }

  private releaseHeld(): void {
    const { lines, lostOf } = this.untilAnswered.release();
    const [events, chat] = [lostOf("events"), lostOf("chat")];
    for (const { to, text } of lines) this.writeNow(to, text);
    if (chat > 0) this.gate.write(`${JSON.stringify({ type: "chat-skipped", count: chat })}\n`);
    if (events > 0) this.gate.write(`${JSON.stringify({ type: "events-skipped", count: events })}\n`);
  }
}
