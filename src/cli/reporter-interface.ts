/**
 * What `parley send` and `parley receive` print through: the Reporter interface that the human
 * (reporter.ts), JSON (json-reporter.ts) and starting (starting-reporter.ts) reporters implement,
 * and the options that choose one. Types only: nothing here runs, so importing it loads nothing.
 */

import type { TransferDone, TransferInfo } from "../session/events.ts";
import type { MetPath, Security } from "../session/rendezvous.ts";
import type { SkippedEntry } from "../transfer/folder-walk.ts";
import type { ZipStored } from "../transfer/zip-renames.ts";
import type { Asker } from "../ui/asker.ts";

export interface ReporterOptions {
  readonly json: boolean;
  readonly progress: boolean;
  /** The received file goes to stdout: everything is printed to stderr. */
  readonly stdoutTaken: boolean;
}

/** Who connected, and where its end of the connection is. */
export interface ConnectedPeer {
  /** The name its HELLO gave. */
  readonly name?: string | undefined;
  /** The connection's remote address (through the relay: the relay's, not the peer's). */
  readonly address: string;
  /** It dialed us: the address's port is one its system picked for this connection (Session.peerDialedIn). */
  readonly dialedIn: boolean;
}

export interface Reporter {
  listening(host: string, port: number, reachableAt: readonly string[], code: string, hint: string): void;
  /** @param via - the mailbox flow's path (the direct flow: none), said in the same line */
  connected(peer: ConnectedPeer, security?: Security, via?: MetPath): void;
  /** Mailbox flow: our code (`code 7-crossover-clockwork`) and what the peer should run. */
  mailboxCode(code: string, hint: string): void;
  /**
   * Mailbox flow: the connection to the mailbox server was lost before the peer was met (`line`
   * says so); it is tried again for up to `withinMs`.
   */
  mailboxLost(line: string, withinMs: number): void;
  /** Mailbox flow: it is back (`line`). */
  mailboxBack(line: string): void;
  /**
   * Mailbox flow: the path in use, "direct" or "relay", and where it goes.
   * @param standsAlone - a plain wormhole peer's: no connected line of ours follows, so people
   *   read it in a line of its own (`Connected directly to ...`); a Parley peer's is said in the
   *   connected line
   */
  path(via: MetPath, standsAlone: boolean): void;
  /**
   * A plain wormhole client is there: over the transit path (`address` the peer's or the
   * relay's), or "mailbox" for a text message (no transit). JSON only: people read the path line.
   */
  plainConnected(path: "direct" | "relay" | "mailbox", address?: string): void;
  /** The peer's text: `from` labels it (`wormhole` for a plain wormhole client; else `peer`). */
  chat(text: string, from?: string): void;
  offered(info: TransferInfo): void;
  /**
   * A received file's place is open: `info.name` is the name it is stored under ("a (1).txt"
   * when "a.txt" exists), which the offer could not know.
   */
  receiving(info: TransferInfo): void;
  progressed(info: TransferInfo, bytes: number): void;
  /** A file resumes at `from` bytes (session events' transferResumed): said as it starts. */
  resumed(info: TransferInfo, from: number): void;
  done(done: TransferDone): void;
  /**
   * A plain wormhole client's folder (`done`, its zip) has this entry stored under another name
   * than the zip gives (`root`: the folder's name as offered). JSON only: people read the
   * "Stored ... as" lines.
   */
  entryStored(done: TransferDone, root: string, entry: ZipStored): void;
  /**
   * @param cut - cut by a lost connection or an interrupt (what arrived is kept: sending again resumes)
   * @param inputEnded - declined by `receive --ask` for want of an answer, its input having ended:
   *   receiving, one declined without its question; sending, the receiver's E_NO_ANSWER (the
   *   first is said). No line of its own: one for them all when their command has ended (JSON:
   *   its event all the same)
   * @param cancelled - a user's `cancel` ended it (reason-words.ts cancelledByUser): the totals
   *   count it cancelled; absent, code E_CANCELLED says so
   */
  failed(
    info: TransferInfo,
    reason: string,
    code: string,
    cut?: boolean,
    inputEnded?: boolean,
    cancelled?: boolean,
  ): void;
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
   * A folder's entries left out of what is sent (links, FIFOs, names that are not UTF-8 ...):
   * `lines` (send-plan.ts skippedLines: ten named, the rest counted) as notes, and with --json a
   * `skipped` event for each entry (`path`, `reason`), so a script sees what the folder will lack.
   */
  skipped(entries: readonly SkippedEntry[], lines: readonly string[]): void;
  /**
   * A warning at the start (the download folder others can change): a line on stderr, and with
   * --json a `warning` event too, after the first event (scripts read the first line's port and code).
   */
  warning(code: string, message: string): void;
  /**
   * --ask: its questions go to standard error; where the lines go there too (one terminal, one
   * file: `receive --ask > log 2>&1`), a line printed while a question waits keeps it whole.
   * @param samePlace - standard output and error are one file or terminal (io.ts samePlace);
   *   undefined when unknown: two terminals are taken as one
   */
  shareLinesWith(asker: Asker, samePlace?: boolean): void;
}
