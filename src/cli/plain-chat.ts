/**
 * `bun run chat` with a plain magic-wormhole client on the other end: there is no chat, only
 * the one transfer its protocol allows. Until the peer offers something (a `wormhole send`),
 * the user may type a line (sent as its text message) or `transfer PATH` (one file, or a folder
 * as a zip) for a `wormhole receive`; either way the plain peer's session then ends, and so does
 * the chat. The hint saying so waits HINT_AFTER_MS for a sender's first message.
 */

import { existsSync } from "node:fs";
import type { PlainPeer } from "../session/plain-peer.ts";
import { sendableKind } from "../transfer/readable-file.ts";
import { MAX_DISPLAY_CHARS, peerTextLines, sanitizeForTerminal, type Terminal } from "../ui/index.ts";
import { expandTransferPaths, parseInputLine, transferWordsOrSay } from "./input.ts";
import { pathLine } from "./path-line.ts";
import { plainFolders } from "./plain-folders.ts";
import { PLAIN_PEER_LINE, type PlainOutput, reportPlainFailure, takeOffer } from "./plain-run.ts";
import { type PlainSendWhat, sendToPlain } from "./plain-send.ts";
import { TransferPresenter } from "./transfer-presenter.ts";

const HINT =
  "It may send something now; or type a line to send it as a text message, or transfer PATH to send it one file or folder (its session then ends).";

/**
 * How long the chat waits for the plain peer's first message before saying HINT. A `wormhole
 * send` sends its transit hints (a file) or its offer (a text) right after the key exchange, one
 * trip through the mailbox after its version came; a `wormhole receive` sends nothing until
 * offered something. So a peer heard from within this is sending, and the hint (type a line...)
 * is not said: its offer's lines follow. A sender slower than this gets the hint, as before.
 */
export const HINT_AFTER_MS = 2_000;

export class PlainChat {
  /** expanding: a `transfer` line's wildcard is being read (expandTransferPaths). */
  private state: "waiting" | "expanding" | "busy" = "waiting";
  private readonly stopWaiting = new AbortController();
  private readonly out: PlainOutput;
  /** Removes what the transfer under way wrote: a file's `.part`, a folder's zip (received or sent). */
  private removeWritten: (() => void) | undefined;
  /** HINT's timer, until the peer is heard from (or the chat ends). */
  private hint: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly peer: PlainPeer,
    private readonly terminal: Terminal,
    private readonly downloadDir: string,
    private readonly finish: (exitCode: number) => void,
    /** `--limit-rate`: most bytes a second of what is sent; unlimited when absent. */
    private readonly bytesPerSecond?: number,
  ) {
    const presenter = new TransferPresenter(terminal);
    this.out = {
      note: (line) => terminal.print(line),
      text: (text) => {
        for (const line of peerTextLines(text, MAX_DISPLAY_CHARS)) terminal.printFromPeer(`<wormhole> ${line}`);
      },
      // A received file is said once it has its place, under the name it is stored as.
      offered: (info) => {
        if (info.direction === "send") presenter.started(info);
      },
      receiving: (info) => presenter.started(info),
      progressed: (info, bytes) => presenter.progressed(info, bytes),
      done: (done) => presenter.finished(done),
      entryStored: () => {}, // the notes say it
      failed: (info, reason) => presenter.failed(info, reason),
      error: (_code, message) => terminal.print(`Error: ${sanitizeForTerminal(message)}.`),
      path: (via) => terminal.print(pathLine(via)),
      connected: () => {}, // the path line said it
    };
  }

  start(): void {
    this.terminal.print(PLAIN_PEER_LINE);
    this.terminal.setPrompt("to wormhole> ");
    const hint = setTimeout(() => {
      if (this.state === "waiting") this.terminal.print(HINT);
    }, HINT_AFTER_MS);
    hint.unref();
    this.hint = hint;
    this.stopWaiting.signal.addEventListener("abort", () => clearTimeout(hint), { once: true });
    const heard = () => clearTimeout(hint);
    this.peer.receiveOffer({ forever: true, signal: this.stopWaiting.signal, heard }).then(
      ({ offer }) => {
        clearTimeout(hint);
        if (this.state === "busy") return;
        this.state = "busy";
        const { dir, started } = this.transferOptions;
        this.end(takeOffer(this.peer, offer, this.out, { dir, folders: plainFolders({ dir, started }), started }));
      },
      (err: unknown) => {
        clearTimeout(hint);
        if (this.stopWaiting.signal.aborted) return;
        this.state = "busy";
        void this.peer.close("errory");
        this.finish(reportPlainFailure(err, this.out));
      },
    );
  }

  /** A transfer is under way (either way), or the wildcard of one typed is being read: the run ends with it. */
  get busy(): boolean {
    return this.state !== "waiting";
  }

  /**
   * The chat is ending (a signal, exit): a file still arriving is removed (plain peers cannot
   * resume), and so is a folder's zip being sent.
   */
  stop(): void {
    clearTimeout(this.hint);
    this.removeWritten?.();
  }

  /** Where a transfer's files go, and how what it wrote is removed if the chat ends first. */
  private get transferOptions(): { dir: string; started: (stop: () => void) => void } {
    return {
      dir: this.downloadDir,
      started: (stop) => {
        this.removeWritten = stop;
      },
    };
  }

  /** A line typed: the text message, or `transfer PATH`. */
  line(text: string): void {
    if (this.state === "busy") {
      this.terminal.print("Not sent: a plain wormhole client has no chat; its one transfer is under way.");
      return;
    }
    if (this.state === "expanding") {
      this.terminal.print("Not sent: the wildcard typed before is being read.");
      return;
    }
    const input = parseInputLine(text);
    if (input.kind === "chat") return this.send({ kind: "text", text: input.text });
    if (input.kind !== "transfer" || input.args === "") return this.terminal.print(HINT);
    const words = transferWordsOrSay(
      input.args,
      (p) => existsSync(p),
      (line) => this.terminal.print(line),
    );
    if (!words) return;
    if (!words.some((word) => word.wildcard)) return this.sendPaths(words.map((word) => word.path));
    // Its folder is read off the event loop; an offer the peer makes meanwhile is taken instead.
    this.state = "expanding";
    void expandTransferPaths(words).then((paths) => {
      if (this.state !== "expanding") return;
      this.state = "waiting";
      this.sendPaths(paths);
    });
  }

  /** `transfer` of these paths: the one file or folder, or why not. */
  private sendPaths(paths: readonly string[]): void {
    if (paths.length !== 1) {
      this.terminal.print("Error: a plain wormhole client takes one file per code.");
      return;
    }
    const path = paths[0] as string;
    // A path that cannot be sent is said here, and the peer still waits: a typo ended its
    // session ("the sender cannot read the file") where a Parley peer's chat just goes on.
    // A folder goes, as a zip. The verdict goes with the path: it is not looked at twice.
    const sendable = sendableKind(path);
    if (sendable.kind === "problem") {
      this.terminal.print(`Error: ${sanitizeForTerminal(sendable.error.message)}.`);
      this.terminal.print(
        "Nothing was sent; the wormhole peer still waits: type transfer PATH again, or a line to send as its text message.",
      );
      return;
    }
    this.send({ kind: "path", path, sendable });
  }

  private send(what: PlainSendWhat): void {
    this.state = "busy";
    this.stopWaiting.abort();
    // A text's line says the session is over already (sendToPlain's, as parley send --text's).
    const rate = this.bytesPerSecond === undefined ? {} : { bytesPerSecond: this.bytesPerSecond };
    const folders = plainFolders({ ...this.transferOptions, ...rate });
    this.end(sendToPlain(this.peer, what, this.out, folders, rate), what.kind === "text");
  }

  /** @param overSaid - the run's own last line said the peer's session is over */
  private end(run: Promise<number>, overSaid = false): void {
    run.then(
      (exitCode) => {
        if (!overSaid) this.terminal.print("The wormhole peer's session is over.");
        this.finish(exitCode);
      },
      (err: unknown) => {
        throw err;
      },
    );
  }
}
