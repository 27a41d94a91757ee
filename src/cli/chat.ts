/**
 * `bun run chat`: the interactive two-user session. Wires the listener and dialer (net), the
 * rendezvous and session (session), and the terminal (ui); turns events into lines and the
 * user's lines into commands. Resolves with the process exit code; main.ts exits.
 */

import { existsSync } from "node:fs";
import { randomCodeWords } from "../crypto/index.ts";
import { dial, formatAddress, type Listener, listen, NetError } from "../net/index.ts";
import { chatFits, MAX_CHAT_BYTES } from "../protocol/index.ts";
import { MAX_WRONG_CODES, Rendezvous, type Session, type SessionEvents } from "../session/index.ts";
import { displayText, formatBytes, openTerminal, sanitizeForTerminal, type Terminal } from "../ui/index.ts";
import type { ChatOptions } from "./args.ts";
import { connectionCode, dialWords, WHOLE_CODE_NEEDED } from "./codes.ts";
import { prepareDownloadDir } from "./download-dir.ts";
import { DropLines } from "./drop-lines.ts";
import { EXIT_CONNECTION, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM } from "./exit-codes.ts";
import { parseInputLine, parsePeerAddress, parseTransferPaths } from "./input.ts";
import { dialHostFor, listenerReach } from "./listening.ts";
import { failureWords } from "./reason-words.ts";
import { planSends, type SendPlan, startSends } from "./send-plan.ts";
import { TransferPresenter } from "./transfer-presenter.ts";

/** A lost connection or a failed --connect ends the chat with 1. */
const EXIT_FAILURE = 1;

const IN_CHAT_HELP = `Commands:
  transfer <path>...  send files to the peer (quote names with spaces)
  transfers           list transfers in progress, with their ids
  cancel <id>         stop one transfer (either direction); the rest goes on
  exit                wait for transfers to finish, say goodbye, quit (also Ctrl-D)
  help                this list
  \\text               send text that looks like a command as chat
Any other line is sent to the peer as chat.`;

export async function runChat(options: ChatOptions): Promise<number> {
  const downloadDir = prepareDownloadDir(options.dir);
  const chat = new ChatController(options, downloadDir);
  return chat.run();
}

class ChatController {
  private readonly terminal: Terminal;
  private readonly presenter: TransferPresenter;
  /** The words of our code: the password a dialer must know. */
  private readonly codeWords = randomCodeWords();
  private readonly rendezvous: Rendezvous;
  private readonly drops: DropLines;
  private listener: Listener | undefined;
  private session: Session | undefined;
  private dialing = false;
  private readonly heldLines: string[] = [];
  private heldInputEnd = false;
  private finishing = false;
  private resolveExit: (code: number) => void = () => {};
  private readonly exitCode: Promise<number>;

  constructor(
    private readonly options: ChatOptions,
    downloadDir: string,
  ) {
    this.exitCode = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.terminal = openTerminal(
      {
        line: (text) => this.onLine(text),
        end: () => this.onInputEnd(),
        interrupt: () => this.onSignal("SIGINT"),
      },
      { progress: options.progress },
    );
    this.presenter = new TransferPresenter(this.terminal);
    this.drops = new DropLines((line) => this.terminal.print(line));
    this.rendezvous = new Rendezvous({
      downloadDir,
      checksum: options.checksum,
      ...(options.limitRate === undefined ? {} : { limitRate: options.limitRate }),
      ...(options.name === undefined ? {} : { name: options.name }),
      events: this.sessionEvents(),
      rendezvousEvents: {
        connected: (session) => this.onConnected(session),
        dropped: (address, reason) => this.drops.dropped(address, reason),
        wrongCode: (address, side, attempts) => this.onWrongCode(address, side, attempts),
      },
      codeWords: this.codeWords,
      allowPortOnly: options.insecurePortOnly,
    });
  }

  private onWrongCode(address: string, side: "dialer" | "listener", attempts: number): void {
    if (side === "dialer") {
      this.terminal.print("Wrong code: the peer's Parley did not accept it. Check the code and type it again.");
      return;
    }
    this.terminal.print(
      `Wrong code from ${address} (${attempts} of ${MAX_WRONG_CODES}): no chat or file data was exchanged.`,
    );
    if (attempts >= MAX_WRONG_CODES && !this.session) {
      this.listener?.stop();
      this.terminal.print(`${MAX_WRONG_CODES} wrong codes: stopped listening, so that the code cannot be guessed.`);
      this.finish(EXIT_CONNECTION);
    }
  }

  async run(): Promise<number> {
    const onSigint = (): void => this.onSignal("SIGINT");
    const onSigterm = (): void => this.onSignal("SIGTERM");
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    try {
      try {
        this.listener = listen(this.options.host, this.options.port, (conn) => this.rendezvous.accepted(conn));
      } catch (err) {
        if (err instanceof NetError) {
          this.terminal.print(`Error: ${err.message}`);
          this.finish(EXIT_FAILURE);
          return await this.exitCode;
        }
        throw err;
      }
      this.terminal.print(this.listeningLine(this.listener));
      const target = this.options.connect ?? this.options.peerCode;
      if (this.options.connect !== undefined && /\d-[A-Za-z]/.test(this.options.connect)) {
        this.terminal.print(
          "Note: the code is on this command line, which other users of this machine can see (ps); PARLEY_CODE or --code-file keep it private.",
        );
      }
      if (target !== undefined) this.connectTo(target);
      else this.askForPeer();
      return await this.exitCode;
    } finally {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
    }
  }

  private listeningLine(listener: Listener): string {
    const where = formatAddress(listener.hostname, listener.port);
    const reach = listenerReach(this.options.host, listener.port);
    const code = connectionCode(this.options.host, listener.port, this.codeWords, reach);
    const extra = reach.length > 0 ? ` (a peer can use: ${reach.join(", ")})` : "";
    return `Listening on ${where}${extra} · code ${code}`;
  }

  private askForPeer(): void {
    this.terminal.print(
      this.options.insecurePortOnly
        ? "Enter the peer's code, or its port alone (--insecure-port-only: unverified), or wait for the peer to connect."
        : "Enter the code the peer's Parley shows (like 40123-ribbon-walnut), or wait for the peer to connect.",
    );
    this.terminal.setPrompt("peer code> ");
  }

  private dialHost(): string {
    return dialHostFor(this.options.host);
  }

  private connectTo(text: string): void {
    const address = parsePeerAddress(text, this.dialHost());
    if (typeof address === "string") {
      this.terminal.print(`Error: ${address}. Enter the peer's code, e.g. 40123-ribbon-walnut.`);
      return;
    }
    // Words from PARLEY_CODE or --code-file complete a bare port.
    const words = dialWords(address.words, this.options.peerCode, this.options.insecurePortOnly);
    if (words === undefined) {
      this.terminal.print(`A port alone is not enough: ${WHOLE_CODE_NEEDED}.`);
      return;
    }
    const where = formatAddress(address.host, address.port);
    this.dialing = true;
    this.terminal.print(`Connecting to ${where}${words ? " with the code" : " (port only, unverified)"}...`);
    const handshake = this.rendezvous.dialStarted(words);
    dial(address.host, address.port).then(
      // If the peer connected to us meanwhile, the rendezvous keeps one of the two.
      (conn) => handshake(conn).then(() => this.dialEnded(this.session === undefined)),
      (err: unknown) => {
        void handshake(undefined);
        if (!this.session && !this.finishing) {
          const reason = err instanceof NetError ? err.message : String(err);
          this.terminal.print(`Error: ${reason}. Is the peer's Parley running? Enter the peer's code again.`);
        }
        this.dialEnded(true);
      },
    );
  }

  /**
   * Lines typed (or piped) while a dial was in progress were held back: a script may write
   * `transfer x` right after starting with --connect. Now they are handled, as chat and
   * commands if the dial connected, else as peer addresses; a held end of input follows them.
   */
  private dialEnded(failed: boolean): void {
    this.dialing = false;
    for (const line of this.heldLines.splice(0)) this.onLine(line);
    if (this.heldInputEnd) {
      this.heldInputEnd = false;
      if (!this.session && failed) return this.finish(EXIT_FAILURE);
      this.onInputEnd();
    }
  }

  private onConnected(session: Session): void {
    this.session = session;
    this.listener?.stop();
    const name = this.peerName();
    this.terminal.print(
      `Connected to ${name} at ${session.remoteAddress}. Type a message and press Enter; "help" lists commands.`,
    );
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
    this.terminal.setPrompt("> ");
  }

  private peerName(): string {
    const name = this.session?.peer.name;
    return name ? sanitizeForTerminal(name) : "peer";
  }

  private onLine(text: string): void {
    if (this.finishing) return;
    const input = parseInputLine(text);
    const session = this.session;
    if (!session) {
      switch (input.kind) {
        case "empty":
          return;
        case "exit":
          this.terminal.print("Bye.");
          return this.finish(EXIT_OK);
        case "help":
          this.terminal.print("Enter the code the peer's Parley shows (port-word-word). exit quits.");
          return;
        default:
          if (this.dialing) {
            this.heldLines.push(text);
            return;
          }
          return this.connectTo(text);
      }
    }
    switch (input.kind) {
      case "empty":
        return;
      case "chat":
        if (!session.isOpen) {
          this.terminal.print("Not sent: the session is closing.");
          return;
        }
        if (!chatFits(input.text)) {
          this.terminal.print(
            `Not sent: a chat line can be at most ${MAX_CHAT_BYTES / 1024} KiB; send a file instead.`,
          );
          return;
        }
        session.sendChat(input.text);
        return;
      case "help":
        this.terminal.print(IN_CHAT_HELP);
        return;
      case "transfers":
        return this.listTransfers(session);
      case "cancel":
        if (!session.cancel(input.id)) this.terminal.print(`No transfer #${input.id} in progress (see transfers).`);
        return;
      case "unknown":
        this.terminal.print(`Unknown command ${sanitizeForTerminal(input.word)}. ${IN_CHAT_HELP}`);
        return;
      case "exit":
        return this.leave();
      case "transfer":
        return this.startTransfers(session, input.args);
    }
  }

  private listTransfers(session: Session): void {
    const list = session.transferStatus;
    if (list.length === 0) {
      this.terminal.print("No transfers in progress.");
      return;
    }
    for (const { info, bytes, checking } of list) {
      const arrow = info.direction === "send" ? "sending" : "receiving";
      const name = sanitizeForTerminal(info.name);
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

  private startTransfers(session: Session, args: string): void {
    let plan: SendPlan;
    try {
      plan = planSends(
        parseTransferPaths(args, (p) => existsSync(p)),
        "stdin",
      );
    } catch (err) {
      this.terminal.print(`Error: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (plan.sends.some((send) => send.kind === "stdin")) {
      this.terminal.print("Error: - (standard input) is the chat's own input here; use parley send - instead.");
      return;
    }
    for (const rel of plan.skipped)
      this.terminal.print(`Skipped ${sanitizeForTerminal(rel)}: not a regular file (links are not followed).`);
    startSends(
      session,
      plan,
      () => new ReadableStream(),
      (err) => this.terminal.print(`Error: ${err.message}`),
    );
  }

  private onInputEnd(): void {
    if (this.finishing) return;
    if (!this.session && this.dialing) {
      this.heldInputEnd = true;
      return;
    }
    if (!this.session) return this.finish(EXIT_OK);
    this.leave();
  }

  private leave(): void {
    const session = this.session;
    if (!session) return this.finish(EXIT_OK);
    const active = session.activeTransfers.length;
    if (active > 0) this.terminal.print(`Waiting for ${active} transfer(s) to finish before leaving...`);
    session.exit();
  }

  private onSignal(signal: "SIGINT" | "SIGTERM"): void {
    const code = signal === "SIGINT" ? EXIT_SIGINT : EXIT_SIGTERM;
    if (this.finishing) return;
    const what = signal === "SIGINT" ? "Interrupted (Ctrl-C)" : "Terminated (SIGTERM)";
    const session = this.session;
    if (!session?.isActive) {
      this.terminal.print(`${what}. Bye.`);
      return this.finish(code);
    }
    this.terminal.print(`${what}: telling the peer and closing the connection.`);
    this.pendingCode = code;
    session.abort(signal === "SIGINT" ? "interrupted" : "terminated");
  }

  private pendingCode: number | undefined;

  private sessionEvents(): SessionEvents {
    return {
      chatReceived: (text) => this.terminal.print(`<${this.peerName()}> ${displayText(text)}`),
      transferStarted: (info) => this.presenter.started(info),
      transferProgressed: (info, bytes) => this.presenter.progressed(info, bytes),
      transferFinished: (done) => this.presenter.finished(done),
      transferFailed: (info, reason, _code, peer) => this.presenter.failed(info, failureWords(info, reason, peer)),
      peerLeft: (reason) => {
        this.terminal.print(`${this.peerName()} left (${sanitizeForTerminal(reason)}). Connection closed.`);
        this.finish(this.pendingCode ?? EXIT_OK);
      },
      connectionLost: (reason) => {
        // The session's reason may already say "connection lost: ...": say it once.
        const why = reason.replace(/^connection lost: /i, "");
        this.terminal.print(`Connection lost: ${sanitizeForTerminal(why)}.`);
        this.finish(this.pendingCode ?? EXIT_FAILURE);
      },
      closed: () => {
        this.terminal.print("Connection closed. Bye.");
        this.finish(this.pendingCode ?? EXIT_OK);
      },
    };
  }

  private finish(code: number): void {
    if (this.finishing) return;
    this.finishing = true;
    this.listener?.stop();
    this.drops.close();
    void this.terminal.close().then(() => this.resolveExit(code));
  }
}
