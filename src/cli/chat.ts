/**
 * `bun run chat`: the interactive two-user session. Reaches the peer through the connect
 * module (connect.ts), drives the terminal (ui), turns events into lines, and owns the input
 * before a peer connects (the code prompt, a dial, lines held meanwhile, exit and the end of
 * input there) and leaving; the lines typed with a peer go to chat-connected.ts, loaded with the
 * session layer. Resolves with the process exit code; main.ts exits.
 */

import { formatAddress } from "../net/endpoints.ts";
import type { MetPath, Session, SessionEvents } from "../session/index.ts";
import { displayText, sanitizeForTerminal } from "../ui/sanitize.ts";
import { openTerminalSoon } from "../ui/starting-terminal.ts";
import type { Terminal } from "../ui/terminal.ts";
import type { ChatOptions } from "./args.ts";
import type { ChatWithPeer } from "./chat-connected.ts";
import { codeOnCommandLineNote, sameCode, WHOLE_CODE_NEEDED } from "./codes.ts";
import { PeerLink } from "./connect.ts";
import { dialTarget } from "./dial-target.ts";
import { cannotSaveIn, downloadDirProblem, prepareDownloadDirSoon } from "./download-dir.ts";
import { EXIT_OK } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { HeldInput } from "./held-input.ts";
import { parseInputLine } from "./input.ts";
import { type CliIo, SIGNAL_WORDS, type Signal } from "./io.ts";
import type { MailboxChat } from "./mailbox-chat.ts";
import { mistypedMailboxCode } from "./mailbox-options.ts";
import { pathLine } from "./path-line.ts";
import { relativePathsLine } from "./shell-folder.ts";

const EXIT_FAILURE = 1; // a lost connection or a failed --connect ends the chat with 1

const CODE_PROMPT = "peer code> ";

export async function runChat(options: ChatOptions, io: CliIo): Promise<number> {
  // A --connect that is not a code at all is a usage error when no one can type a better one
  // (asked only then: io.stdin and io.stdout are made when first asked for, see below).
  const interactive = () => Boolean((io.stdin as { isTTY?: boolean }).isTTY && io.stdout.isTTY);
  if (options.connect !== undefined && !options.mailbox) {
    const target = dialTarget(options.connect, options);
    if ("problem" in target && !interactive()) throw new UsageError(`--connect: ${target.problem}`);
  }
  const givenCode = options.connect ?? options.peerCode;
  if (givenCode !== undefined && options.mailbox) {
    // A mistyped word would spend the peer's code: said before anything is tried.
    const typo = mistypedMailboxCode(givenCode);
    if (typo !== undefined) throw new UsageError(typo);
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
  private mailbox: MailboxChat | undefined;
  private session: Session | undefined;
  private dialing = false;
  /** The last dial failed (and none connected since): input ending now ends with exit 1. */
  private dialFailed = false;
  /** The code being dialed or joined, as typed: the same typed again meanwhile is not chat. */
  private codeTried: string | undefined;
  /** Lines (and the end of input) kept while a dial runs or the mailbox joins a code. */
  private readonly held: HeldInput;
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
    this.held = new HeldInput(this.terminal);
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
        error: (code, message) => this.onLinkError(code, message),
        interrupted: (signal, active) => this.onInterrupted(signal, active),
      },
      io,
      () => this.terminal.close(),
    );
  }

  async run(): Promise<number> {
    if (this.options.mailbox) {
      if (this.cannotSave()) return this.link.exitCode;
      await this.link.ready();
      const { MailboxChat } = await import("./mailbox-chat.ts");
      this.mailbox = new MailboxChat(
        this.options,
        this.link,
        this.terminal,
        this.downloadDir,
        relativePathsLine(this.io.cwd),
        () => this.releaseHeld(),
        this.typedAtTerminal ? () => this.mailboxJoinFailed() : undefined,
      );
      // run() joins a code given up front at once; lines piped meanwhile follow it.
      this.codeTried = this.options.connect ?? this.options.peerCode;
      const exitCode = this.mailbox.run();
      this.releaseHeld();
      return exitCode;
    }
    if (!this.link.listen()) return this.link.exitCode;
    if (this.cannotSave()) return this.link.exitCode;
    this.terminal.print(relativePathsLine(this.io.cwd));
    const target = this.options.connect ?? this.options.peerCode;
    this.codeTried = target;
    const note = codeOnCommandLineNote(this.options.connect);
    if (note) this.terminal.print(note);
    if (target !== undefined) this.connectTo(target);
    else this.askForPeer();
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

  private onLinkError(code: string, message: string): void {
    if (code === "E_WRONG_CODE" && message.startsWith("wrong code")) {
      this.terminal.print("Wrong code: the peer's Parley did not accept it. Check the code and type it again.");
    } else if (code === "E_WRONG_CODE" || code === "E_LISTEN") {
      this.terminal.print(code === "E_LISTEN" ? `Error: ${message}` : `${message}.`);
    } else {
      const dial = message.charAt(0).toUpperCase() + message.slice(1); // PeerLink.dial's "could not connect to ..."
      this.terminal.print(`${dial}. Check the code and that the peer's Parley is running, then type it again.`);
    }
  }

  private onInterrupted(signal: Signal, active: boolean): void {
    const what = SIGNAL_WORDS[signal];
    if (!active && this.held.holding) this.terminal.print(this.held.notSentLine()); // as exit says
    this.terminal.print(active ? `${what}: telling the peer and closing the connection.` : `${what}. Bye.`);
  }

  private askForPeer(): void {
    this.terminal.print(
      this.options.insecurePortOnly
        ? "Enter the peer's code, or its port alone (--insecure-port-only: unverified), or wait for the peer to connect."
        : "Enter the code the peer's Parley shows (like 40123-ribbon-walnut), or wait for the peer to connect.",
    );
    this.terminal.setPrompt(CODE_PROMPT);
  }

  private connectTo(text: string): void {
    const target = this.link.target(text);
    if ("problem" in target) {
      this.terminal.print(
        target.onlyPort
          ? `A port alone is not enough: ${WHOLE_CODE_NEEDED}.`
          : `Error: ${sanitizeForTerminal(target.problem)}. Enter the peer's code, e.g. 40123-ribbon-walnut.`,
      );
      this.terminal.setPrompt(CODE_PROMPT);
      return;
    }
    this.dialing = true;
    const where = formatAddress(target.host, target.port);
    this.terminal.print(`Connecting to ${where}${target.words ? " with the code" : " (port only, unverified)"}...`);
    // If the peer connected to us meanwhile, the rendezvous keeps one of the two.
    void this.link.dial(target).then((outcome) => this.dialEnded(outcome !== "session"));
  }

  /**
   * Lines typed (or piped) while a dial was in progress were held back: a script may write
   * `transfer x` right after starting with --connect. Now they are handled, as chat and
   * commands if the dial connected, else as peer codes; a held end of input follows them.
   */
  private dialEnded(failed: boolean): void {
    this.dialing = false;
    this.dialFailed = failed;
    this.held.release((line) => this.onLine(line));
    if (this.held.inputEnded) {
      this.held.inputEnded = false;
      if (!this.session && failed) return this.link.finish(EXIT_FAILURE);
      this.onInputEnd();
    }
  }

  /**
   * Mailbox flow: lines (and the end of input) that came before the mailbox was set up, or
   * while it joins the peer's code, wait as they do while a dial runs: a script may pipe
   * `code`, or chat lines after --connect CODE, and end its input at once.
   */
  private get heldForMailbox(): boolean {
    return this.options.mailbox !== undefined && !this.session && (!this.mailbox || this.mailbox.waiting);
  }

  /** Mailbox flow, at a terminal: a code typed failed, ours still waits; as dialEnded(true). */
  private mailboxJoinFailed(): void {
    this.dialFailed = true;
    this.releaseHeld();
  }

  /** Mailbox flow: the held lines and end of input, now that they can be handled. */
  private releaseHeld(): void {
    if (this.dialing) return;
    this.held.release((line) => this.onLine(line));
    if (this.held.inputEnded && !this.heldForMailbox) {
      this.held.inputEnded = false;
      this.onInputEnd();
    }
  }

  private onConnected(session: Session, via: MetPath | undefined): void {
    this.session = session;
    // Half a code typed when the peer connected: that line must not go out as chat.
    this.codeLineOpen = this.terminal.typing;
    // Mailbox flow: the session's path (both meetings may find one; only the session's is said).
    if (via) this.terminal.print(pathLine(via));
    this.withPeer.sayConnected(session, this.peerName(), via?.path === "relay");
    this.terminal.setPrompt("> ");
    if (this.options.mailbox !== undefined) this.releaseHeld();
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
    if (!session) {
      switch (input.kind) {
        case "empty":
          return;
        case "exit":
          // Piped while a dial runs (a script's `CODE`, `hi`, `exit`): behind the dial and the lines
          // held meanwhile, as the end of input is; after a failed dial it ends with 1, as that does.
          // Typed at a terminal, exit means now: joining a mailbox code can take 30 s and more.
          if (!this.typedAtTerminal && (this.held.holding || this.dialing || this.heldForMailbox)) {
            return this.held.hold(text);
          }
          return this.quitBeforePeer("Bye.");
        case "help":
          this.terminal.print("Enter the code the peer's Parley shows (port-word-word). exit quits.");
          return;
        default:
          if (this.dialing || this.heldForMailbox) {
            // Typed again (no answer showed yet): held, it went to the peer as chat once connected.
            if (sameCode(text, this.codeTried)) this.terminal.print("Already connecting with that code.");
            else this.held.hold(text);
            return;
          }
          this.codeTried = text;
          return this.mailbox ? this.mailbox.join(text) : this.connectTo(text);
      }
    }
    if (input.kind === "exit") this.leave();
    else this.withPeer.command(session, input);
  }

  private onInputEnd(): void {
    if (this.link.finished) return;
    // A script's end waits for the dial, behind its lines; Ctrl-D at a terminal means now, as exit.
    if (!this.session && !this.typedAtTerminal && (this.dialing || this.heldForMailbox)) {
      this.held.inputEnded = true;
      return;
    }
    const by = this.typedAtTerminal ? "Ctrl-D: leaving" : "End of input";
    if (!this.session) return this.quitBeforePeer(`${by} before a peer connected: nothing was sent. Bye.`);
    this.leave();
  }

  /**
   * `exit` or the end of input before a peer connected: after a failed dial (or a mailbox code
   * refused as mistyped) 1 for a script's (`parley --connect CODE < commands`), 0 for a person's;
   * either waits for a plain peer's transfer.
   */
  private quitBeforePeer(bye: string): void {
    if (this.mailbox?.leavingAfterPlain()) return;
    if (this.held.holding) this.terminal.print(this.held.notSentLine());
    this.terminal.print(bye);
    const failed = this.dialFailed || this.mailbox?.codeRefused === true;
    this.link.finish(failed && !this.typedAtTerminal ? EXIT_FAILURE : EXIT_OK);
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
      transferFinished: (done) => this.withPeer.transferEvents.transferFinished(done),
      transferFailed: (...failed) => this.withPeer.transferEvents.transferFailed(...failed),
      peerLeft: (reason) => {
        this.withPeer.sessionEnded(); // a folder still missing entries ends with its summary
        this.terminal.print(`${this.peerName()} left (${sanitizeForTerminal(reason)}). Connection closed.`);
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
