/**
 * `bun run chat`: the interactive two-user session. Reaches the peer through the connect
 * module (connect.ts), drives the terminal (ui), turns the session's events into lines, and
 * owns leaving. The input before a peer connects (the code prompt, dials, lines held meanwhile,
 * leaving then) is chat-before-peer.ts's; the lines typed with a peer go to chat-connected.ts,
 * loaded with the session layer. Resolves with the process exit code; main.ts exits.
 */

import { formatAddress } from "../net/endpoints.ts";
import { shownReason } from "../protocol/message-types.ts";
import type { MetPath, Session, SessionEvents } from "../session/index.ts";
import { displayText, sanitizeForTerminal } from "../ui/sanitize.ts";
import { openTerminalSoon } from "../ui/starting-terminal.ts";
import type { Terminal } from "../ui/terminal-interface.ts";
import type { ChatOptions } from "./args.ts";
import { ChatBeforePeer } from "./chat-before-peer.ts";
import type { ChatWithPeer } from "./chat-connected.ts";
import { PeerLink } from "./connect.ts";
import { dialTarget } from "./dial-target.ts";
import { cannotSaveIn, downloadDirProblem, prepareDownloadDirSoon } from "./download-dir.ts";
import { EXIT_OK } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { parseInputLine } from "./input.ts";
import { type CliIo, SIGNAL_WORDS, type Signal } from "./io.ts";
import { mailboxCodeProblem } from "./mailbox-options.ts";
import type * as ReasonWords from "./reason-words.ts";
import { relativePathsLine } from "./shell-folder.ts";

const EXIT_FAILURE = 1; // a lost connection or a download folder found unusable ends the chat with 1

export async function runChat(options: ChatOptions, io: CliIo): Promise<number> {
  // A --connect that is not a code at all (with a mailbox: or one that looks mistyped, which would
  // spend the peer's code) is a usage error when no one can type a better one; at a terminal the
  // code prompt says why and asks again. Asked only then: io.stdin and io.stdout are made when
  // first asked for, see below.
  const interactive = () => Boolean((io.stdin as { isTTY?: boolean }).isTTY && io.stdout.isTTY);
  if (options.connect !== undefined && !options.mailbox) {
    const target = dialTarget(options.connect, options);
    if ("problem" in target && !interactive()) throw new UsageError(`--connect: ${target.problem}`);
  }
  if (options.mailbox) {
    // A code from --code-file or PARLEY_CODE is a mailbox code (mailboxCodeFromEnvironment) and
    // refused if mistyped, as a direct flow's that is not a code.
    const given = options.connect ?? options.peerCode;
    const problem = given === undefined ? undefined : mailboxCodeProblem(given, options.connect !== undefined);
    if (problem !== undefined && (options.connect === undefined || !interactive())) throw new UsageError(problem);
  }
  // stderr only to write a warning: a first Node stdio stream costs 14-16 ms before the code (session 16).
  const downloadDir = await prepareDownloadDirSoon(options.dir, { write: (text) => io.stderr.write(text) });
  return new ChatController(options, downloadDir, io).run();
}

class ChatController {
  private readonly terminal: Terminal;
  private readonly link: PeerLink;
  /** What only a connected peer needs; loaded with the session layer (`loadWithSession`). */
  private loadedWithPeer: ChatWithPeer | undefined;
  private session: Session | undefined;
  /** The input until a session stands: the code prompt, dials, lines held meanwhile. */
  private readonly beforePeer: ChatBeforePeer;
  /** A line half typed at the code prompt when the peer connected: it is not chat. */
  private codeLineOpen = false;

  constructor(
    private readonly options: ChatOptions,
    private readonly downloadDir: string,
    private readonly io: CliIo,
  ) {
    this.terminal = openTerminalSoon(
      {
        line: (text) => this.onLine(text),
        end: () => this.onInputEnd(),
        interrupt: () => this.link.signal("SIGINT"),
        outputFailed: (err) => this.link.outputFailed(err),
      },
      {
        progress: options.progress,
        skippedLine: (n) =>
          `${n} chat line${n === 1 ? "" : "s"} from the peer not shown: the output could not keep up.`,
        tooLongLine:
          "Not read: an input line longer than 256 Ki characters (a chat line can be at most 64 KiB); send a file instead.",
        dumb: io.env.TERM === "dumb",
      },
      () => ({ input: io.stdin, output: io.stdout }),
      io.writeLineNow,
    );
    this.link = new PeerLink(
      {
        host: options.host,
        port: options.port,
        insecurePortOnly: options.insecurePortOnly,
        ...(options.peerCode === undefined ? {} : { peerCode: options.peerCode }),
        dialerRetries: true,
        warmFirstPass: true,
        loadWithSession: async () => {
          const { ChatWithPeer } = await import("./chat-connected.ts");
          this.loadedWithPeer = new ChatWithPeer(this.terminal);
        },
        session: {
          downloadDir,
          checksum: options.checksum,
          ...(options.limitRate === undefined ? {} : { limitRate: options.limitRate }),
          ...(options.name === undefined ? {} : { name: options.name }),
          events: this.sessionEvents(),
        },
      },
      {
        listening: (host, port, reach, code) => {
          const extra = reach.length > 0 ? ` (a peer can use: ${reach.join(", ")})` : "";
          this.terminal.print(`Listening on ${formatAddress(host, port)}${extra} · code ${code}`);
        },
        connected: (session, via) => this.onConnected(session, via),
        note: (line) => this.terminal.print(line),
        error: (code, message) => this.beforePeer.linkError(code, message),
        interrupted: (signal, active) => this.onInterrupted(signal, active),
      },
      io,
      () => this.terminal.close(),
    );
    this.beforePeer = new ChatBeforePeer(options, this.link, this.terminal, {
      connected: () => this.session !== undefined,
      typedAtTerminal: () => this.typedAtTerminal,
      line: (text) => this.onLine(text),
      end: () => this.onInputEnd(),
    });
  }

  async run(): Promise<number> {
    if (this.options.mailbox) {
      if (this.cannotSave()) return this.link.exitCode;
      await this.link.ready();
      return this.beforePeer.startMailbox(this.downloadDir, relativePathsLine(this.io.cwd));
    }
    if (!this.link.listen()) return this.link.exitCode;
    if (this.cannotSave()) return this.link.exitCode;
    this.terminal.print(relativePathsLine(this.io.cwd));
    this.beforePeer.start();
    return this.link.exitCode;
  }

  /**
   * The download folder's last check, once the code is shown (it loads node:fs): what its mode
   * bits did not show (a read-only mount, an ACL) ends the chat here, not when a file comes.
   */
  private cannotSave(): boolean {
    const problem = downloadDirProblem(this.downloadDir);
    if (problem === undefined) return false;
    this.terminal.print(`Error: ${cannotSaveIn(this.options.dir, problem)}.`);
    this.link.finish(EXIT_FAILURE);
    return true;
  }

  private onInterrupted(signal: Signal, active: boolean): void {
    const what = SIGNAL_WORDS[signal];
    if (!active) this.beforePeer.interrupted();
    this.terminal.print(active ? `${what}: telling the peer and closing the connection.` : `${what}. Bye.`);
  }

  private onConnected(session: Session, via: MetPath | undefined): void {
    this.session = session;
    // Half a code typed when the peer connected: that line must not go out as chat.
    this.codeLineOpen = this.terminal.typing;
    // Mailbox flow: the session's path (both meetings may find one; only the session's is said),
    // in the line that says who: "Connected directly to X" before it said the same news again.
    this.withPeer.sayConnected(session, this.peerName(), via);
    this.terminal.setPrompt("> ");
    this.beforePeer.peerConnected();
  }

  /** A person types the input (stdin is a terminal, TERM=dumb too), not a script. */
  private get typedAtTerminal(): boolean {
    return (this.io.stdin as { isTTY?: boolean }).isTTY === true;
  }

  private peerName(): string {
    const name = this.session?.peer.name;
    return name ? sanitizeForTerminal(name) : "peer";
  }

  private onLine(text: string): void {
    if (this.link.finished) return;
    if (this.codeLineOpen) {
      this.codeLineOpen = false;
      this.terminal.print(`Not sent: that line was typed at the code prompt, before ${this.peerName()} connected.`);
      return;
    }
    const input = parseInputLine(text);
    const session = this.session;
    if (!session) this.beforePeer.line(text, input);
    else if (input.kind === "exit") this.leave();
    else this.withPeer.command(session, input);
  }

  private onInputEnd(): void {
    if (this.link.finished) return;
    if (!this.session) this.beforePeer.inputEnded();
    else this.leave();
  }

  private leave(): void {
    const session = this.session;
    if (!session) return this.link.finish(EXIT_OK);
    if (this.withPeer.leaving(session, () => this.leave())) return; // said once; a folder being listed goes first
    session.exit();
  }

  /** Loaded before any session exists: the link loads it with the session layer. */
  private get withPeer(): ChatWithPeer {
    if (!this.loadedWithPeer) throw new Error("chat-connected.ts is loaded with the session layer");
    return this.loadedWithPeer;
  }

  private sessionEvents(): SessionEvents {
    return {
      chatReceived: (text) => this.terminal.printFromPeer(`<${this.peerName()}> ${displayText(text)}`),
      transferStarted: (info) => this.withPeer.transferEvents.transferStarted(info),
      transferProgressed: (info, bytes) => this.withPeer.transferEvents.transferProgressed(info, bytes),
      transferResumed: (info, from) => this.withPeer.transferEvents.transferResumed?.(info, from),
      transferFinished: (done) => this.withPeer.transferEvents.transferFinished(done),
      transferFailed: (...failed) => this.withPeer.transferEvents.transferFailed(...failed),
      // reason-words is loaded by then (with the session layer, by chat-connected): not on the start-up path.
      peerChattedAfterLeaving: () =>
        this.terminal.print(
          (require("./reason-words.ts") as typeof ReasonWords).chattedAfterLeavingLine(this.peerName()),
        ),
      // Its exit waits for the transfers under way: said now, not only by a declined offer.
      peerLeaving: (reason) => {
        const [name, why] = [this.peerName(), sanitizeForTerminal(shownReason(reason))];
        this.terminal.print(
          `${name} is leaving (${why}): the connection closes once the transfers under way have ended; ${name} sends no more lines, and new transfers are declined.`,
        );
      },
      peerLeft: (reason) => {
        this.withPeer.sessionEnded(); // a folder still missing entries ends with its summary
        this.terminal.print(
          `${this.peerName()} left (${sanitizeForTerminal(shownReason(reason))}). Connection closed.`,
        );
        this.link.finish(EXIT_OK);
      },
      connectionLost: (reason) => {
        this.withPeer.sessionEnded();
        // The session's reason may already say "connection lost: ...": say it once.
        const why = reason.replace(/^connection lost: /i, "");
        this.terminal.print(`Connection lost: ${sanitizeForTerminal(why)}.`);
        this.link.finish(EXIT_FAILURE);
      },
      closed: (reason) => {
        // The word our BYE said, as the peer's line shows it ("alice left (exit)"; "interrupted").
        this.terminal.print(`Connection closed (${sanitizeForTerminal(reason)}). Bye.`);
        this.link.finish(EXIT_OK);
      },
    };
  }
}
