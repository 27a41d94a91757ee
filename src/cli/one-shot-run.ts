/**
 * What `parley send` and `parley receive` share: one run that listens (and shows the code) or
 * dials, turns session events into the reporter's lines, and resolves the worst exit code.
 *
 * Start-up: as the chat (DESIGN-NOTES "Start-up: the code first, the rest after"), the code
 * line is shown before the session layer, the reporters' modules and Node's stdio streams are
 * loaded or made (starting-reporter.ts); they load with the session layer (PeerLink's
 * `loadWithSession`), before any connection is handed on or any session event comes. So this
 * module imports the session layer's types only, and what its events need is loaded then.
 */

import type { Session, SessionEvents, SessionOptions, TransferInfo } from "../session/index.ts";
import type * as FolderTally from "../ui/folder-tally.ts";
import { codeOnCommandLineNote, peerCommandHint } from "./codes.ts";
import type { ReceiveOptions, SendOptions } from "./command-args.ts";
import { PeerLink } from "./connect.ts";
import { EXIT_INTEGRITY, EXIT_OK, EXIT_TRANSFER, INTEGRITY_CODES } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { type CliIo, SIGNAL_WORDS } from "./io.ts";
import type * as ReasonWords from "./reason-words.ts";
import { codeOutputWarning } from "./secret-files.ts";
import type * as SendPlan from "./send-plan.ts";
import type { StartingReporter } from "./starting-reporter.ts";
import type * as TransferWords from "./transfer-words.ts";

/**
 * After a dial's "connection refused": what to do. The code was right or wrong, the peer's run
 * may have ended, or (a second `receive` of one code) it took its peer and stopped listening: the
 * line said none of it, and a code cannot be tried again (the chat's prompt asks for it again).
 */
const REFUSED_NEXT =
  " (nothing listens there): check the port with the peer; its Parley may have ended, or taken its peer already (a code serves one connection: start it again for a new code)";

/**
 * After any other failed dial ("closed before the greeting", "not a Parley peer (no greeting within
 * 5 s)", a peer that refused): the chat says what to do ("Check the code and that the peer's Parley
 * is running, then type it again."), `parley send`/`receive` said nothing (newuser31: a receiver
 * killed while the sender dialed it).
 */
const CONNECT_NEXT =
  "; check the code with the peer, and that its Parley is still running (started again, it has a new code)";

/** A dial's failure line with what to do next (not for this Parley's own port: that line says it). */
function withNextStep(code: string, message: string): string {
  if (code === "E_CONNECT_REFUSED") return `${message}${REFUSED_NEXT}`;
  const dialed = code === "E_CONNECT" && message.startsWith("could not connect to ");
  return dialed && !message.endsWith("enter the peer's") ? `${message}${CONNECT_NEXT}` : message;
}

export type Role = "send" | "receive";

export interface RoleHooks {
  /** The session began. */
  start(session: Session): void;
  /** `sends` transfers of ours finished or failed (more than one: a folder refused whole): the sender moves on. */
  settled(session: Session, sends?: number): void;
  /** Sender: every path has been dealt with. */
  allDone?: () => boolean;
  /** A signal ends the run: called before it is said (a question on the screen ends its line). */
  interrupted?: () => void;
  /** The session layer and the reporter are loaded (the code is shown): no session event came yet. */
  loaded?: () => void;
  /** The peer's text (a chat line): true when the role took it (receive --stdout writes it there), else it is reported. */
  text?: (text: string) => boolean;
  /** A transfer that failed is one `receive --ask` declined without asking (its input had ended): no line of its own. */
  unasked?: (info: TransferInfo) => boolean;
}

/** The session's options a role adds (receive: its offers decided, --stdout's sink). */
export type RoleSessionOptions = Partial<Pick<SessionOptions, "decideOffer" | "openSink" | "refuseOffers">> & {
  readonly features?: readonly string[];
};

/** The wording of failed transfers (and of a peer's lines after its LEAVING), loaded with the session layer (it brings the transfers' limits and errors). */
function reasonWords(): typeof ReasonWords {
  return require("./reason-words.ts") as typeof ReasonWords;
}

/** The send plan's module (a send run has loaded it: a file of ours failed). */
function sendPlan(): typeof SendPlan {
  return require("./send-plan.ts") as typeof SendPlan;
}

/** The parts of a send or receive run that do not depend on the direction. */
export class OneShotRun {
  private session: Session | undefined;
  private worst = EXIT_OK;
  private link: PeerLink | undefined;
  /** The reason a lost connection gave the transfers it cut: their lines said it already. */
  private lostSaid: string | undefined;
  /** Received files whose place was opened (accepted): only they keep anything to resume. */
  private readonly opened = new Set<number>();

  constructor(
    private readonly role: Role,
    private readonly options: SendOptions | ReceiveOptions,
    readonly reporter: StartingReporter,
    private readonly hooks: RoleHooks,
    private readonly io: CliIo,
    private readonly extra: RoleSessionOptions = {},
  ) {}

  /** Listens, or dials `peer`; resolves with the exit code. */
  async run(peer: string | undefined, downloadDir: string): Promise<number> {
    const { options, reporter } = this;
    const link = new PeerLink(
      {
        host: options.host,
        port: options.port,
        insecurePortOnly: options.insecurePortOnly,
        ...(options.peerCode === undefined ? {} : { peerCode: options.peerCode }),
        dialerRetries: false,
        loadWithSession: () => this.loadWithSession(),
        session: {
          downloadDir,
          checksum: options.checksum,
          ...("limitRate" in options && options.limitRate !== undefined ? { limitRate: options.limitRate } : {}),
          ...(options.peerName === undefined ? {} : { name: options.peerName }),
          events: this.sessionEvents(),
          ...this.extra,
        },
      },
      {
        listening: (host, port, reach, code) => {
          reporter.listening(host, port, reach, code, peerCommandHint(this.role, code));
          // Said on stderr: nobody reads a warning inside the file that holds the code. Through
          // the streams, as every line after it (the line writer's could overtake a stream's).
          const exposed = codeOutputWarning(this.io.outputStat?.("stdout" in options && options.stdout));
          if (exposed) {
            reporter.open();
            this.io.stderr.write(`${exposed}\n`);
          }
        },
        connected: (session, via) => {
          this.session = session;
          const { remoteAddress: address, peerDialedIn: dialedIn } = session;
          reporter.connected({ name: session.peer.name, address, dialedIn }, session.security, via);
          if (this.role === "send") {
            // Loaded with the session layer (the reporter's presenters bring it).
            const { peerAsksLine } = require("./transfer-words.ts") as typeof TransferWords;
            const asks = peerAsksLine(session.peer);
            if (asks) reporter.note(asks);
          }
          this.hooks.start(session);
        },
        note: (line) => reporter.note(line),
        error: (code, message) => reporter.error(code, withNextStep(code, message)),
        interrupted: (signal) => {
          this.hooks.interrupted?.();
          reporter.note(`${SIGNAL_WORDS[signal]}.`);
        },
      },
      this.io,
    );
    this.link = link;
    reporter.outputFailed = (err) => link.outputFailed(err);
    if (options.mailbox) {
      await link.ready();
      const decide = this.extra.decideOffer;
      const { runWithMailbox } = await import("./mailbox-command.ts");
      return runWithMailbox(
        { role: this.role, options, link, reporter, cli: this.io, downloadDir, ...(decide ? { decide } : {}) },
        peer,
      );
    }
    if (peer === undefined) {
      link.listen();
    } else {
      const target = link.target(peer);
      if ("problem" in target) {
        link.finish(EXIT_OK);
        await link.exitCode;
        throw new UsageError(target.problem);
      }
      const note = codeOnCommandLineNote(peer);
      if (note) reporter.note(note);
      await link.dial(target);
    }
    return link.exitCode;
  }

  /** Records a transfer's outcome; the exit code is the worst one. */
  record(code: number): void {
    this.worst = Math.max(this.worst, code);
  }

  finish(code: number): void {
    this.link?.finish(code);
  }

  /** What the session events need, loaded with the session layer; the real reporter is made then. */
  private async loadWithSession(): Promise<void> {
    await Promise.all([import("./reason-words.ts"), import("../ui/folder-tally.ts"), import("./reporter.ts")]);
    this.reporter.open();
    this.hooks.loaded?.();
  }

  private sessionEvents(): SessionEvents {
    return {
      chatReceived: (text) => {
        if (!this.hooks.text?.(text)) this.reporter.chat(text);
      },
      transferStarted: (info) => {
        if (info.direction === "send") this.reporter.offered(info);
        else {
          this.opened.add(info.id);
          this.reporter.receiving(info);
        }
      },
      transferProgressed: (info, bytes) => this.reporter.progressed(info, bytes),
      transferResumed: (info, from) => this.reporter.resumed(info, from),
      peerChattedAfterLeaving: () => this.reporter.note(reasonWords().chattedAfterLeavingLine("The peer")),
      transferFinished: (done) => {
        this.opened.delete(done.id);
        this.reporter.done(done);
        if (done.direction === "send" && this.session) this.hooks.settled(this.session);
      },
      transferFailed: (info, reason, code, peer) => {
        const { cancelledByUser, failureWords, peerInputEnded, resumable, resumeHint } = reasonWords();
        // --stdout keeps nothing of a cut file, nor does an offer still waiting for --ask's answer
        // unless an earlier try's .part of it is there (info.partKept): else no resume to promise
        // (our sender hears it from the session: info.nothingKept, unanswered).
        const kept = info.direction === "send" || this.opened.delete(info.id) || info.partKept === true;
        const canResume = kept && (this.role === "send" || !(this.options as ReceiveOptions).stdout);
        const secretKept = info.direction !== "send" || sendPlan().resumeSecretKept();
        const hint = canResume ? resumeHint(info, code, peer, secretKept) : "";
        this.reporter.failed(
          info,
          failureWords(info, reason, peer) + hint,
          code,
          canResume && resumable(info, code, peer, secretKept),
          (this.hooks.unasked?.(info) ?? false) || peerInputEnded(info, peer),
          cancelledByUser(code, peer),
        );
        if (code === "E_CONNECTION" && !peer) this.lostSaid = reason;
        // A file offered to a one-shot sender is declined: that is not the send failing.
        if (this.role === "send" && info.direction === "receive") return;
        this.record(INTEGRITY_CODES.has(code) ? EXIT_INTEGRITY : EXIT_TRANSFER);
        if (info.direction === "send" && this.session?.isActive) {
          const { entriesEnded } = require("../ui/folder-tally.ts") as typeof FolderTally;
          this.hooks.settled(this.session, entriesEnded(info));
        }
      },
      peerLeft: (reason) => {
        // A folder that did not get every announced entry failed, whatever else went well.
        if (this.reporter.sessionEnded() > 0) this.record(EXIT_TRANSFER);
        this.reporter.bye(reason);
        // The receiver is done when the sender leaves; a sender whose receiver left early failed.
        if (this.role === "send" && !this.hooks.allDone?.()) this.record(EXIT_TRANSFER);
        this.finish(this.worst);
      },
      connectionLost: (reason) => {
        this.reporter.sessionEnded();
        // Said once: a file's failed line that gave this reason is where people read it.
        this.reporter.error("E_CONNECTION", reason, reason === this.lostSaid);
        this.finish(Math.max(this.worst, EXIT_TRANSFER));
      },
      closed: (reason) => {
        if (this.reporter.sessionEnded() > 0) this.record(EXIT_TRANSFER);
        // The word our BYE said, which the peer shows too ("done", "terminated", ...).
        this.reporter.bye(reason);
        this.finish(this.worst);
      },
    };
  }
}
