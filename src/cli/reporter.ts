/**
 * What `parley send` and `parley receive` print: human lines, or with --json one JSON object
 * per line on stdout for every event (schema in the README), human messages then going to
 * stderr. With `receive --stdout` the file owns stdout, so everything else (events included)
 * goes to stderr. Progress is at most 10 events (or bar redraws) a second per transfer.
 */

import { clearScreenDown } from "node:readline";
import type { Security, TransferDone, TransferInfo } from "../session/index.ts";
import type { Asker } from "../ui/asker.ts";
import { CommandTally, FolderTally, OutputGate, sanitizeForTerminal, TransferProgress } from "../ui/index.ts";
import type { OutStream } from "./io.ts";
import { jsonLine } from "./json-line.ts";
import { takenName } from "./renamed-entries.ts";
import {
  commandIncompleteWords,
  folderBytesWords,
  type TransferOutput,
  TransferPresenter,
} from "./transfer-presenter.ts";

const PROGRESS_EVERY_MS = 100;
/** DECAWM: with autowrap off, text past the last column stays on the row. */
const AUTOWRAP_OFF = "\x1b[?7l";
const AUTOWRAP_ON = "\x1b[?7h";

export interface Reporter {
  listening(host: string, port: number, reachableAt: readonly string[], code: string, hint: string): void;
  connected(peerName: string | undefined, address: string, security?: Security): void;
  /** Mailbox flow: our code (`code 7-purple-sausage`) and what the peer should run. */
  mailboxCode(code: string, hint: string): void;
  /** Mailbox flow: the path in use, "direct" or "relay", and where it goes. */
  path(path: "direct" | "relay", address: string): void;
  /**
   * A plain wormhole client is there: over the transit path (`address` the peer's or the
   * relay's), or "mailbox" for a text message (no transit). JSON only: people read the path line.
   */
  plainConnected(path: "direct" | "relay" | "mailbox", address?: string): void;
  chat(text: string): void;
  offered(info: TransferInfo): void;
  /**
   * A received file's place is open: `info.name` is the name it is stored under ("a (1).txt"
   * when "a.txt" exists), which the offer could not know.
   */
  receiving(info: TransferInfo): void;
  progressed(info: TransferInfo, bytes: number): void;
  done(done: TransferDone): void;
  /** @param cut - cut by a lost connection or an interrupt (what arrived is kept: sending again resumes) */
  failed(info: TransferInfo, reason: string, code: string, cut?: boolean): void;
  /** The session is over: says which folders are incomplete. @returns how many */
  sessionEnded(): number;
  /**
   * A failure not tied to one transfer (connection refused, lost, ...).
   * @param saidAbove - a transfer's failed line already gave this message: JSON readers still
   *   get the event, people no second line
   */
  error(code: string, message: string, saidAbove?: boolean): void;
  bye(reason: string): void;
  /** A human message (stderr in JSON mode). */
  note(message: string): void;
  /**
   * A warning at the start (the download folder others can change): a line on stderr, and with
   * --json a `warning` event too, after the first event (scripts read the first line's port and code).
   */
  warning(code: string, message: string): void;
  /** --ask: questions share the terminal with the lines; a line printed while one waits keeps it whole. */
  shareLinesWith(asker: Asker): void;
}

/**
 * A reader that went away (`parley send ... | head -1`): stop printing, go on with the work.
 * Attached only to streams we print to: touching process.stdout makes Bun switch fd 1 to
 * non-blocking, which `receive --stdout` must not have.
 */
function ignoreClosedReader(stream: OutStream): void {
  stream.on?.("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

/** @param options.stdoutTaken - the received file goes to stdout: print everything to stderr */
export function makeReporter(
  options: { json: boolean; progress: boolean; stdoutTaken: boolean },
  io: { readonly stdout: OutStream; readonly stderr: OutStream },
): Reporter {
  ignoreClosedReader(io.stderr);
  if (!options.stdoutTaken) ignoreClosedReader(io.stdout);
  return options.json
    ? new JsonReporter(options.stdoutTaken ? io.stderr : io.stdout, io.stderr)
    : new HumanReporter(options.progress, options.stdoutTaken ? io.stderr : io.stdout, io.stderr);
}

function info(i: TransferInfo) {
  const folder = i.folder && { root: i.folder.root, path: i.folder.path.join("/"), group: i.folder.group };
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

class JsonReporter implements Reporter {
  private readonly lastProgress = new Map<number, number>();
  private readonly folders = new FolderTally();
  private readonly commands = new CommandTally();
  private readonly gate: OutputGate;

  constructor(
    out: OutStream,
    private readonly err: OutStream,
  ) {
    this.gate = new OutputGate(out, (count) => `${JSON.stringify({ type: "chat-skipped", count })}\n`);
  }

  /** Warning events waiting for the first event; undefined once it is out. */
  private held: Record<string, unknown>[] | undefined = [];

  private emit(event: Record<string, unknown>): void {
    this.gate.write(`${jsonLine(event)}\n`);
    const held = this.held;
    this.held = undefined;
    for (const warning of held ?? []) this.emit(warning);
  }

  listening(host: string, port: number, reachableAt: readonly string[], code: string): void {
    this.emit({ type: "listening", host, port, code, reachableAt });
  }
  connected(peerName: string | undefined, address: string, security?: Security): void {
    this.emit({
      type: "connected",
      peer: { address, ...(peerName === undefined ? {} : { name: peerName }) },
      ...(security ? { verified: security.mode === "code", verification: security.verification } : {}),
    });
  }
  mailboxCode(code: string): void {
    this.emit({ type: "code", code });
  }
  path(path: "direct" | "relay", address: string): void {
    this.emit({ type: "path", path, address });
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
    this.gate.writeFromPeer(`${jsonLine({ type: "chat", text })}\n`);
  }
  offered(i: TransferInfo): void {
    this.folders.started(i);
    this.emit({ type: "offer", ...info(i) });
  }
  receiving(): void {}
  progressed(i: TransferInfo, bytes: number): void {
    this.folders.progressed(i, bytes); // a folder cut short says what had moved
    const now = Date.now();
    if (now - (this.lastProgress.get(i.id) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastProgress.set(i.id, now);
    this.emit({ type: "progress", id: i.id, direction: i.direction, bytes, size: i.size });
  }
  done(d: TransferDone): void {
    this.lastProgress.delete(d.id);
    this.folders.finished(d);
    this.commands.ended(d, d.bytes);
    const nameTaken = takenName(d); // stored numbered: this was taken
    this.emit({
      type: "done",
      ...info(d),
      bytes: d.bytes,
      resumedFrom: d.resumedFrom,
      ...(d.path === undefined ? {} : { path: d.path }),
      ...(d.storedAs === undefined ? {} : { storedAs: d.storedAs }),
      ...(d.storedRoot === undefined ? {} : { storedRoot: d.storedRoot }),
      ...(nameTaken === undefined ? {} : { nameTaken }),
      checksum: { algo: d.algo, digest: d.digest },
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
          bytes: f.verifiedBytes + f.cutBytes,
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
        command: { seq, ...summary },
      });
    }
    return left.length;
  }
  failed(i: TransferInfo, message: string, code: string, cut = false): void {
    this.lastProgress.delete(i.id);
    this.folders.started(i);
    // A folder refused whole: its entries never offered ended with this one (folderRest).
    this.folders.failed(i, cut);
    this.commands.ended(i, undefined);
    const rest = i.folderRest ?? 0;
    const command = i.command && { command: { seq: i.command.seq, transfers: i.command.transfers } };
    const place = { ...command, ...(rest > 0 ? { folderRest: rest } : {}) };
    // A folder ended whole with no entry to carry it (folderOnly): the folder, not one transfer.
    const { id, direction, name } = i;
    const what = i.folderOnly ? { direction, folder: { root: name, group: id } } : { id, direction, name };
    this.emit({ type: "error", code, message, ...what, ...place });
  }
  error(code: string, message: string): void {
    this.emit({ type: "error", code, message });
  }
  bye(reason: string): void {
    this.emit({ type: "bye", reason });
  }
  note(message: string): void {
    this.err.write(`${message}\n`);
  }
  warning(code: string, message: string): void {
    this.err.write(`${message}\n`);
    const event = { type: "warning", code, message };
    if (this.held) this.held.push(event);
    else this.emit(event);
  }
  shareLinesWith(): void {}
}

class HumanReporter implements Reporter, TransferOutput {
  private readonly bars = new Map<number, { bar: TransferProgress; drawnAt: number }>();
  private readonly barsOn: boolean;
  private readonly presenter = new TransferPresenter(this);
  /**
   * Received files offered but not yet said: "Receiving #1 a (1).txt" waits for the name it is
   * stored under (receiving); a declined one is said by its failed line alone.
   */
  private readonly unsaid = new Set<number>();
  /** The bar line on stderr now ("" when none): cleared by rows, as wide as it is. */
  private drawn = "";
  /** --ask's questions, on the same terminal: no bar is drawn after a question waiting for its answer. */
  private asker: Asker | undefined;
  private readonly gate: OutputGate;

  constructor(
    progress: boolean,
    private readonly out: OutStream,
    private readonly err: OutStream,
  ) {
    this.gate = new OutputGate(
      out,
      (n) => `${n} chat line${n === 1 ? "" : "s"} from the peer not shown: the output could not keep up.\n`,
    );
    // Bars go to stderr, and only to a terminal.
    this.barsOn = progress && Boolean(err.isTTY);
    // A narrower terminal rewraps the bar over more rows: clear them all, then draw anew.
    if (this.barsOn && err === process.stderr) process.stderr.on("resize", () => this.redraw());
  }

  print(text: string, fromPeer = false): void {
    const write = () => {
      this.clearBar();
      if (fromPeer) this.gate.writeFromPeer(`${text}\n`);
      else this.gate.write(`${text}\n`);
    };
    // Only where the lines share the questions' terminal (not `receive --ask > log`).
    if (this.asker && this.out.isTTY) this.asker.aroundLine(write);
    else write();
  }

  shareLinesWith(asker: Asker): void {
    this.asker = asker;
  }

  startProgress(key: number, label: string, total: number | null): void {
    if (this.barsOn) this.bars.set(key, { bar: new TransferProgress(label, total), drawnAt: 0 });
  }

  updateProgress(key: number, bytes: number): void {
    const entry = this.bars.get(key);
    if (!entry) return;
    entry.bar.update(bytes);
    const now = Date.now();
    if (now - entry.drawnAt < PROGRESS_EVERY_MS) return;
    entry.drawnAt = now;
    this.draw(entry.bar);
  }

  endProgress(key: number): void {
    if (this.bars.delete(key)) this.clearBar();
  }

  /**
   * Draws the bar on one row and leaves the cursor at its start, so clearing it is "clear
   * down" from there, with no rows to count. A resize races every draw: the terminal may take
   * our bytes after it has narrowed (tmux rewraps first, then tells the process), so the bar
   * is written with autowrap off (it cannot spill onto a second row), and a later rewrap moves
   * the cursor along with the text it sits on.
   */
  private draw(bar: TransferProgress): void {
    if (this.asker?.asking) return;
    this.clearBar();
    this.drawn = bar.render(this.err.columns || 80);
    this.err.write(`${AUTOWRAP_OFF}${this.drawn}${AUTOWRAP_ON}\r`);
  }

  private redraw(): void {
    const last = [...this.bars.values()].at(-1);
    if (last) this.draw(last.bar);
  }

  /** Clears the bar: the cursor is at its start (see draw). */
  private clearBar(): void {
    if (!this.barsOn || this.drawn === "") return;
    // readline's cursor helpers only call write(), which the injected stream has.
    clearScreenDown(this.err as unknown as NodeJS.WritableStream);
    this.drawn = "";
  }

  listening(host: string, port: number, reachableAt: readonly string[], code: string, hint: string): void {
    const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    const extra = reachableAt.length > 0 ? ` (a peer can use: ${reachableAt.join(", ")})` : "";
    this.print(`Listening on ${where}${extra} · code ${code}`);
    this.print(hint);
  }
  connected(peerName: string | undefined, address: string, security?: Security): void {
    const how = !security
      ? ""
      : security.mode === "code"
        ? " (encrypted, verified by the code)"
        : " (encrypted, port only: not verified)";
    this.print(`Connected to ${peerName ? sanitizeForTerminal(peerName) : "peer"} at ${address}${how}.`);
    if (security) this.print(`Both sides show ${security.verification}.`);
  }
  mailboxCode(code: string, hint: string): void {
    this.print(`Waiting in the mailbox · code ${code}`);
    this.print(hint);
  }
  plainConnected(): void {}
  path(path: "direct" | "relay", address: string): void {
    this.print(path === "direct" ? `Connected directly to ${address}` : `Connected through the relay ${address}`);
  }
  chat(text: string): void {
    // A one-shot run's text message is what it was run for: all of it, made safe (the chat
    // cuts a long line at MAX_DISPLAY_CHARS; here nothing else is being typed).
    this.print(`<peer> ${sanitizeForTerminal(text)}`, true);
  }
  offered(i: TransferInfo): void {
    // A folder is said by its root at its first entry (its lines name it as offered).
    if (i.direction === "receive" && !i.folder) this.unsaid.add(i.id);
    else this.presenter.started(i);
  }
  receiving(i: TransferInfo): void {
    if (this.unsaid.delete(i.id)) this.presenter.started(i);
  }
  progressed(i: TransferInfo, bytes: number): void {
    this.receiving(i); // a path that did not say where the file goes still gets its line first
    this.presenter.progressed(i, bytes);
  }
  done(d: TransferDone): void {
    this.receiving(d);
    this.presenter.finished(d);
  }
  failed(i: TransferInfo, reason: string, _code: string, cut = false): void {
    this.unsaid.delete(i.id);
    this.presenter.failed(i, reason, cut);
  }
  sessionEnded(): number {
    return this.presenter.sessionEnded();
  }
  error(_code: string, message: string, saidAbove = false): void {
    if (!saidAbove) this.print(`Error: ${sanitizeForTerminal(message)}.`);
  }
  bye(reason: string): void {
    this.print(`Connection closed (${sanitizeForTerminal(reason)}).`);
  }
  note(message: string): void {
    this.print(message);
  }
  warning(_code: string, message: string): void {
    this.err.write(`${message}\n`);
  }
}
