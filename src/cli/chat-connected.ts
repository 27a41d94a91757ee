/**
 * The chat's part that only a connected peer needs: the lines saying it connected, the lines
 * typed with a peer (a chat line checked against the protocol's limit, `transfer`, `transfers`,
 * `cancel`, `help` and its list; chat.ts keeps `exit`; a folder's listing notes: listing-notes.ts),
 * and the transfers' events as lines (the TransferPresenter). Loaded with the session layer after the
 * code is shown (chat.ts hands it to PeerLink as `loadWithSession`), so the send planner, the
 * transfer wording and the protocol's modules stay off the start-up path.
 */

import { existsSync } from "node:fs";
import { MAX_CHAT_BYTES } from "../protocol/frame-types.ts";
import { chatFits } from "../protocol/messages.ts";
import type { MetPath, Session, SessionEvents } from "../session/index.ts";
import { formatBytes } from "../ui/progress.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import type { Terminal } from "../ui/terminal-interface.ts";
import { count } from "./counts.ts";
import { expandTransferPaths, type InputLine, isWholeCode, transferWordsOrSay } from "./input.ts";
import { listingNotes } from "./listing-notes.ts";
import { connectedWhere } from "./path-line.ts";
import { cancelledByUser, failureWords, peerInputEnded, resumable, resumeHint } from "./reason-words.ts";
import {
  type FolderListings,
  listFoldersSoon,
  NOTHING_SENT,
  namesAFolder,
  planSends,
  resumeSecretKept,
  resumeSecretWarning,
  type SendPlan,
  skippedLines,
  startSends,
  UnsendablePaths,
} from "./send-plan.ts";
import { TransferPresenter } from "./transfer-presenter.ts";
import { label, peerAsksLine, shownName } from "./transfer-words.ts";

export type TransferEvents = Pick<
  SessionEvents,
  "transferStarted" | "transferProgressed" | "transferResumed" | "transferFinished" | "transferFailed"
>;

/** `help` with a peer connected, and after an unknown command. */
const IN_CHAT_HELP = `Commands:
  transfer <path>...  send files and folders to the peer (quote names with spaces; *.jpg works)
  transfers           list transfers in progress, with their ids
  cancel <id>         stop a transfer (either direction; a folder's entry: its whole folder)
  exit                wait for transfers to finish, say goodbye, quit (also Ctrl-D;
                      Ctrl-C quits at once: transfers under way are cancelled, the peer told)
  help                this list
  \\text               send text that looks like a command as chat
Any other line is sent to the peer as chat.`;

/** A `transfer` command waiting for a listing (ChatWithPeer.waiting). */
interface WaitingCommand {
  readonly args: string;
  readonly wildcard: boolean;
  readonly folder: boolean;
}

export class ChatWithPeer {
  private readonly presenter: TransferPresenter;
  /** `transfer` commands naming a folder being listed or a wildcard whose folder is read, and any typed after them, in order. */
  private listing: Promise<void> | undefined;
  /** The session whose leaving was said (leaving). */
  private leavingSaid: Session | undefined;
  /**
   * Those commands not yet planned, as typed: said if the session ends first (the process then
   * exits). `folder`: it names a folder as typed; `wildcard`: it has one, whose folder is read first.
   */
  private readonly waiting = new Set<WaitingCommand>();
  /**
   * No line was typed since the peer connected. A code then is the peer's code typed (or pasted)
   * as the peer typed ours: read after the session stood, it went out as a chat line.
   */
  private firstLine = false;
  /** The peer's name as the chat shows it (sayConnected's). */
  private peerName = "peer";

  /** What the commands waiting wait for: a folder listed, or only a wildcard's folder read (not "a folder"). */
  private get waitingFor(): "folder" | "wildcard" {
    const waiting = [...this.waiting];
    return waiting.some((c) => c.wildcard) && !waiting.some((c) => c.folder) ? "wildcard" : "folder";
  }

  /** The waitingFor in words: "a folder is being listed", "the wildcard's folder was being read". */
  private beingWords(article: "a" | "the", tense: "is" | "was"): string {
    return this.waitingFor === "folder"
      ? `${article} folder ${tense} being listed`
      : `${article} wildcard's folder ${tense} being read`;
  }

  /**
   * @param now - the clock of the listing's slices and notes, milliseconds (tests pass their own)
   */
  constructor(
    private readonly terminal: Terminal,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.presenter = new TransferPresenter(terminal);
  }

  /**
   * The peer connected: who, where, and how the connection is secured.
   * @param via - the mailbox flow's path: "directly at" the peer, or "through the relay at" the relay as named
   *   (the connection's far end is then the relay, not the peer); one line says both who and the path
   */
  sayConnected(session: Session, name: string, via?: MetPath): void {
    const where = connectedWhere(session.remoteAddress, session.peerDialedIn, via);
    this.firstLine = true;
    this.peerName = name;
    this.terminal.print(`Connected to ${name} ${where}. Type a message and press Enter; "help" lists commands.`);
    const security = session.security;
    if (security?.mode === "code") {
      this.terminal.print(
        `Encrypted and verified with the code. Both sides show ${security.verification}: compare them if you like.`,
      );
    } else if (security) {
      this.terminal.print(
        `Encrypted, but not verified: connected by port only (on this machine). Both sides show ${security.verification}.`,
      );
    }
    const asks = peerAsksLine(session.peer);
    if (asks) this.terminal.print(asks);
  }

  /** A line typed with a peer connected: chat, or a command (`exit` is chat.ts's: it leaves). */
  command(session: Session, input: Exclude<InputLine, { kind: "exit" }>): void {
    const first = this.firstLine && input.kind !== "empty";
    if (first) this.firstLine = false;
    switch (input.kind) {
      case "empty":
        return;
      case "chat":
        if (first && !input.escaped && isWholeCode(input.text)) {
          this.terminal.print(
            `Not sent: that line is a code, and ${this.peerName} is connected already (no code is needed now); to send it as chat, type \\ before it.`,
          );
          return;
        }
        this.sendChat(session, input.text);
        return;
      case "help":
        this.terminal.print(IN_CHAT_HELP);
        return;
      case "unknown":
        this.terminal.print(`Unknown command ${sanitizeForTerminal(input.word)}. ${IN_CHAT_HELP}`);
        return;
      case "transfers":
        this.listTransfers(session);
        return;
      case "cancel":
        this.cancel(session, input.id);
        return;
      case "transfer":
        if (input.args === "") {
          this.terminal.print("Usage: transfer <path>... (quote names with spaces; folders too)");
          return;
        }
        this.startTransfers(session, input.args);
        return;
    }
  }

  /** Sends a chat line, or says why not. */
  private sendChat(session: Session, text: string): void {
    if (!session.isOpen) {
      this.terminal.print("Not sent: the session is closing.");
      return;
    }
    if (!chatFits(text)) {
      this.terminal.print(`Not sent: a chat line can be at most ${MAX_CHAT_BYTES / 1024} KiB; send a file instead.`);
      return;
    }
    session.sendChat(text);
  }

  /**
   * `cancel ID`. A folder's entry the sender had sent whole stays, left to the receiver's answer
   * (outgoing.ts): said now, as no other line comes then when nothing else of the folder was left.
   */
  private cancel(session: Session, id: number): void {
    if (!session.cancel(id)) return this.terminal.print(`No transfer #${id} in progress (see transfers).`);
    const left = session.transferStatus.find((t) => t.info.id === id && t.info.direction === "send");
    if (left)
      this.terminal.print(`${label(left.info)} had been sent whole: the receiver's answer says whether it is saved.`);
  }

  /** `transfers`: one line per transfer in progress. */
  listTransfers(session: Session): void {
    const list = session.transferStatus;
    for (const { args } of this.waiting) {
      const being = this.beingWords("a", "is");
      this.terminal.print(`transfer ${sanitizeForTerminal(args)}: not offered yet (${being})`);
    }
    if (list.length === 0) {
      if (this.waiting.size === 0) this.terminal.print("No transfers in progress.");
      return;
    }
    for (const { info, bytes, checking } of list) {
      const arrow = info.direction === "send" ? "sending" : "receiving";
      const name = shownName(info); // a folder's entry with its folder, as the other lines name it
      if (checking) {
        this.terminal.print(`#${info.id} ${arrow} ${name}: checking what an earlier attempt left, to resume`);
        continue;
      }
      const of =
        info.size === null
          ? ""
          : ` of ${formatBytes(info.size)} (${info.size === 0 ? 100 : Math.floor((bytes / info.size) * 100)}%)`;
      this.terminal.print(`#${info.id} ${arrow} ${name}: ${formatBytes(bytes)}${of}`);
    }
  }

  /**
   * `transfer <path>...`: plans the sends and hands them to the session. A folder is listed a
   * slice at a time (a home folder takes seconds), so chat lines go on both ways meanwhile; a
   * command typed behind it waits for the listing, so the session gets the commands in the order
   * typed (it then gives each command's sends their share of the places: OutgoingTransfers).
   */
  startTransfers(session: Session, args: string): void {
    if (!session.isOpen) {
      // `exit` waits for transfers: said once, as for a chat line (not once per file, nor after a listing).
      this.terminal.print("Not sent: the session is closing.");
      return;
    }
    const words = transferWordsOrSay(
      args,
      (p) => existsSync(p),
      (line) => this.terminal.print(line),
    );
    if (!words) return;
    // A wildcard's folder is read (off the chat's turn) as a folder is listed: in turn.
    const wildcards = words.some((word) => word.wildcard);
    const paths = words.map((word) => word.path);
    if (!this.listing && !wildcards && !namesAFolder(paths)) return this.plan(session, paths);
    const command = { args, wildcard: wildcards, folder: namesAFolder(paths) };
    this.waiting.add(command);
    const done: Promise<void> = (this.listing ?? Promise.resolve())
      .then(async () => this.listThenPlan(session, wildcards ? await expandTransferPaths(words) : paths, command))
      .finally(() => {
        if (this.listing === done) this.listing = undefined;
      });
    this.listing = done;
  }

  /**
   * `exit` (or the end of input): what leaving waits for is said once a session (a script's `exit`
   * and then the end of its input said each line twice); a folder being listed is offered first,
   * then `leave` runs again. @returns true when the session is not to be told to exit now
   */
  leaving(session: Session, leave: () => void): boolean {
    if (this.leavingSaid === session) return true;
    this.leavingSaid = session;
    const listing = this.afterListing(() => {
      this.leavingSaid = undefined;
      leave();
    });
    if (!listing) this.sayWaitingToLeave(session);
    return listing;
  }

  /**
   * `exit` (or the end of input) while a folder is listed: it is offered first, then `leave` runs
   * (exit waits for transfers under way). @returns false when nothing is being listed
   */
  afterListing(leave: () => void): boolean {
    if (!this.listing) return false;
    this.terminal.print(
      this.waitingFor === "folder"
        ? "Waiting for the folder being listed to be offered before leaving..."
        : "Waiting for the names a wildcard matches to be offered before leaving...",
    );
    void this.listing.then(leave);
    return true;
  }

  private async listThenPlan(session: Session, paths: readonly string[], command: WaitingCommand): Promise<void> {
    const note = listingNotes(this.now, (line) => this.terminal.print(line));
    const listed = await listFoldersSoon(paths, note, this.now);
    const being = this.beingWords("the", "was");
    const told = !this.waiting.delete(command); // by sessionEnded
    if (!session.isOpen) {
      if (!told) this.terminal.print(`Not sent: the session closed while ${being}.`);
      return;
    }
    this.plan(session, paths, listed);
  }

  private plan(session: Session, paths: readonly string[], listed?: FolderListings): void {
    let plan: SendPlan;
    try {
      plan = planSends(paths, "stdin", listed);
    } catch (err) {
      if (!(err instanceof UnsendablePaths)) throw err;
      for (const problem of err.problems) this.terminal.print(`Error: ${sanitizeForTerminal(problem.message)}`);
      if (err.problems.length < paths.length) this.terminal.print(NOTHING_SENT);
      return;
    }
    if (plan.sends.some((send) => send.kind === "stdin")) {
      this.terminal.print("Error: - (standard input) is the chat's own input here; use parley send - instead.");
      return;
    }
    const exposed = resumeSecretWarning();
    if (exposed) this.terminal.print(exposed);
    for (const line of skippedLines(plan.skipped)) this.terminal.print(line);
    startSends(
      session,
      plan,
      () => new ReadableStream(),
      (err) => this.terminal.print(`Error: ${sanitizeForTerminal(err.message)}`),
    );
  }

  readonly transferEvents: TransferEvents = {
    transferStarted: (info) => this.presenter.started(info),
    transferProgressed: (info, bytes) => this.presenter.progressed(info, bytes),
    transferResumed: (info, from) => this.presenter.resumed(info, from),
    transferFinished: (done) => this.presenter.finished(done),
    transferFailed: (info, reason, code, peer) => {
      const secretKept = info.direction !== "send" || resumeSecretKept();
      this.presenter.failed(
        info,
        failureWords(info, reason, peer) + resumeHint(info, code, peer, secretKept),
        resumable(info, code, peer, secretKept),
        peerInputEnded(info, peer),
        cancelledByUser(code, peer),
      );
    },
  };

  /** `exit` with transfers under way: it waits for them, and Ctrl-C does not (a big file can take hours). */
  sayWaitingToLeave(session: Session): void {
    // A folder is one thing to the user, however many of its entries are in flight ("16 transfers" was one folder).
    const folders = new Map<string, string>();
    let files = 0;
    for (const info of session.activeTransfers) {
      if (info.folder) folders.set(`${info.direction}:${info.folder.group}`, sanitizeForTerminal(info.folder.root));
      else files++;
    }
    const what = [
      ...(files > 0 ? [count(files, "transfer")] : []),
      ...[...folders.values()].map((root) => `the folder ${root}`),
    ];
    if (what.length === 0) return;
    const them = files + folders.size === 1 ? "it" : "them";
    const listed = what.length === 1 ? what[0] : `${what.slice(0, -1).join(", ")} and ${what.at(-1)}`;
    this.terminal.print(
      `Waiting for ${listed} to finish before leaving (Ctrl-C leaves at once, cancelling ${them})...`,
    );
  }

  /** The session ended: a folder still missing entries ends with its summary; commands waiting for a listing are not sent. */
  sessionEnded(): void {
    const being = this.beingWords("a", "was");
    for (const { args } of this.waiting) {
      this.terminal.print(`Not sent: transfer ${sanitizeForTerminal(args)} (the session ended while ${being}).`);
    }
    this.waiting.clear();
    this.presenter.sessionEnded();
  }
}
