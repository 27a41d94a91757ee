/**
 * What `parley send` and `parley receive` print: human lines, or with --json one JSON object
 * per line on stdout for every event (schema in the README), human messages then going to
 * stderr. With `receive --stdout` the file owns stdout, so everything else (events included)
 * goes to stderr. Progress is at most 10 events (or bar redraws) a second per transfer.
 */

import { shownReason } from "../protocol/message-types.ts";
import type { TransferDone, TransferInfo } from "../session/events.ts";
import type { MetPath, Security } from "../session/rendezvous.ts";
import type { SkippedEntry } from "../transfer/folder-walk.ts";
import type { Asker } from "../ui/asker.ts";
import { lostLinesLine, OutputGate } from "../ui/output-gate.ts";
import { TransferProgress } from "../ui/progress.ts";
import { peerTextLines, sanitizeForTerminal } from "../ui/sanitize.ts";
import { HeldLines } from "./held-lines.ts";
import type { OutStream } from "./io.ts";
import { JsonReporter, PROGRESS_EVERY_MS } from "./json-reporter.ts";
import { listeningLine } from "./listening-words.ts";
import { isOutputFailure } from "./output-failure.ts";
import { connectedWhere, pathLine } from "./path-line.ts";
import type { ConnectedPeer, Reporter, ReporterOptions } from "./reporter-interface.ts";
import { TransferPresenter } from "./transfer-presenter.ts";
import type { TransferOutput } from "./transfer-words.ts";

/** DECAWM: with autowrap off, text past the last column stays on the row. */
const AUTOWRAP_OFF = "\x1b[?7l";
const AUTOWRAP_ON = "\x1b[?7h";
/**
 * ED 0: clears from the cursor to the end of the screen, the bytes node:readline's
 * clearScreenDown writes. Written here: that module (3-4 ms to load) is not needed by send's and
 * receive's output otherwise.
 */
const CLEAR_DOWN = "\x1b[0J";

/**
 * A reader that went away (`parley send ... | head -1`): stop printing, go on with the work. Any
 * other error (a full disk) goes to `failed` (output-failure.ts; absent: thrown).
 * Attached only to streams we print to: touching process.stdout makes Bun switch fd 1 to
 * non-blocking, which `receive --stdout` must not have.
 */
function ignoreClosedReader(stream: OutStream, failed?: (err: NodeJS.ErrnoException) => void): void {
  stream.on?.("error", (err: NodeJS.ErrnoException) => {
    if (!isOutputFailure(err, stream)) return;
    if (!failed) throw err;
    failed(err);
  });
}

/**
 * @param options.stdoutTaken - the received file goes to stdout: print everything to stderr
 * @param eventOut - a `--json` event was written already (by starting-reporter.ts)
 * @param outputFailed - standard output cannot be written (not EPIPE): the run ends (PeerLink.outputFailed)
 */
export function makeReporter(
  options: ReporterOptions,
  io: { readonly stdout: OutStream; readonly stderr: OutStream },
  eventOut = false,
  outputFailed?: (err: NodeJS.ErrnoException) => void,
): Reporter {
  ignoreClosedReader(io.stderr);
  if (!options.stdoutTaken) ignoreClosedReader(io.stdout, outputFailed);
  return options.json
    ? new JsonReporter(options.stdoutTaken ? io.stderr : io.stdout, io.stderr, eventOut)
    : new HumanReporter(options.progress, options.stdoutTaken ? io.stderr : io.stdout, io.stderr);
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
  /** The lines and the asker's questions go to one place (shareLinesWith). */
  private linesWithQuestions = false;
  private readonly gate: OutputGate;
  /** Lines printed while a question waits for its answer (print); those past the bound counted. */
  private readonly held = new HeldLines<{ readonly text: string; readonly fromPeer: boolean }>();

  constructor(
    progress: boolean,
    private readonly out: OutStream,
    private readonly err: OutStream,
  ) {
    this.gate = new OutputGate(
      out,
      (n) => `${n} chat line${n === 1 ? "" : "s"} from the peer not shown: the output could not keep up.\n`,
      lostLinesLine,
    );
    // Bars go to stderr, and only to a terminal.
    this.barsOn = progress && Boolean(err.isTTY);
    // A narrower terminal rewraps the bar over more rows: clear them all, then draw anew.
    if (this.barsOn && err === process.stderr) process.stderr.on("resize", () => this.redraw());
  }

  /**
   * Writes a line now, or holds it while an --ask question waits for its answer where the line
   * shares the question's terminal or file (not `receive --ask > log`): it would land after
   * "[y/N] ". Held lines are written once the question's line has ended (its answer read, a
   * signal's endLine, the end of input, its offer gone), in order. Showing the question again
   * below each line instead (session 30) raced with an answer typed before this process read it:
   * the question came back, answered already, and the next line went on its row ("Accept b.txt
   * (6 bytes)? [y/N] Receiving #3 b.txt"), where a second answer typed went to the next question.
   */
  print(text: string, fromPeer = false): void {
    // Asked wherever the line goes: a question whose offer went with the session (the peer left)
    // has its line ended now, not by "(input ended)" at the asker's close after the run (review31).
    const holds = this.asker?.holdsLines() === true;
    if (holds && this.linesWithQuestions) this.held.hold({ text, fromPeer });
    else this.writeLine(text, fromPeer);
  }

  private writeLine(text: string, fromPeer: boolean): void {
    this.clearBar();
    if (fromPeer) this.gate.writeFromPeer(`${text}\n`);
    else this.gate.write(`${text}\n`);
  }

  private releaseHeld(): void {
    const { lines, lostOf } = this.held.release();
    const lost = lostOf();
    for (const { text, fromPeer } of lines) this.writeLine(text, fromPeer);
    if (lost > 0) {
      this.writeLine(
        `${lost} line${lost === 1 ? "" : "s"} not shown: more came while the question waited than are kept.`,
        false,
      );
    }
  }

  shareLinesWith(asker: Asker, samePlace?: boolean): void {
    this.asker = asker;
    // The questions are written to stderr: the lines share their place when they go to stderr too
    // (--stdout), or to the same file or terminal (two terminals, 2>/dev/pts/5: not).
    this.linesWithQuestions =
      this.out === this.err || (samePlace ?? (this.out.isTTY === true && this.err.isTTY === true));
    asker.lineEnded = () => this.releaseHeld();
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
    this.err.write(CLEAR_DOWN);
    this.drawn = "";
  }

  listening(host: string, port: number, reachableAt: readonly string[], code: string, hint: string): void {
    this.print(listeningLine(host, port, reachableAt, code));
    this.print(hint);
  }
  connected(peer: ConnectedPeer, security?: Security, via?: MetPath): void {
    const how = !security
      ? ""
      : security.mode === "code"
        ? " (encrypted, verified by the code)"
        : " (encrypted, port only: not verified)";
    // The one line for who and the path, as the chat's (through the relay the connection's far
    // end is the relay, not the peer: said so).
    const where = connectedWhere(peer.address, peer.dialedIn, via);
    this.print(`Connected to ${peer.name ? sanitizeForTerminal(peer.name) : "peer"} ${where}${how}.`);
    if (security) this.print(`Both sides show ${security.verification}.`);
  }
  mailboxCode(code: string, hint: string): void {
    this.print(`Waiting in the mailbox · code ${code}`);
    this.print(hint);
  }
  plainConnected(): void {}
  path(via: MetPath, standsAlone: boolean): void {
    // A Parley peer's is said in its connected line (connectedWhere).
    if (standsAlone) this.print(pathLine(via));
  }
  chat(text: string, from = "peer"): void {
    // A one-shot run's text message is what it was run for: all of it, made safe (the chat
    // cuts a long line at MAX_DISPLAY_CHARS; here nothing else is being typed).
    // One write, a label on each of its lines.
    this.print(
      peerTextLines(text)
        .map((line) => `<${from}> ${line}`)
        .join("\n"),
      true,
    );
  }
  offered(i: TransferInfo): void {
    // A received file, or folder (by its root, at its first entry), is said once its place is
    // open: by the name it is stored under ("photos (1)": the folder's said "photos" before).
    if (i.direction === "receive") this.unsaid.add(i.id);
    else this.presenter.started(i);
  }
  receiving(i: TransferInfo): void {
    if (this.unsaid.delete(i.id)) this.presenter.started(i);
  }
  progressed(i: TransferInfo, bytes: number): void {
    this.receiving(i); // a path that did not say where the file goes still gets its line first
    this.presenter.progressed(i, bytes);
  }
  resumed(i: TransferInfo, from: number): void {
    this.receiving(i);
    this.presenter.resumed(i, from);
  }
  done(d: TransferDone): void {
    this.receiving(d);
    this.presenter.finished(d);
  }
  entryStored(): void {}
  failed(
    i: TransferInfo,
    reason: string,
    code: string,
    cut = false,
    inputEnded = false,
    cancelled = code === "E_CANCELLED",
  ): void {
    this.unsaid.delete(i.id);
    this.presenter.failed(i, reason, cut, inputEnded, cancelled);
  }
  sessionEnded(): number {
    return this.presenter.sessionEnded();
  }
  error(_code: string, message: string, saidAbove = false): void {
    if (!saidAbove) this.print(`Error: ${sanitizeForTerminal(message)}.`);
  }
  bye(reason: string): void {
    this.print(`Connection closed (${sanitizeForTerminal(shownReason(reason))}).`);
  }
  note(message: string): void {
    this.print(message);
  }
  skipped(_entries: readonly SkippedEntry[], lines: readonly string[]): void {
    for (const line of lines) this.print(line);
  }
  mailboxLost(line: string): void {
    this.print(line);
  }
  mailboxBack(line: string): void {
    this.print(line);
  }
  warning(_code: string, message: string): void {
    this.err.write(`${message}\n`);
  }
}
