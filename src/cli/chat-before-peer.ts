/**
 * The chat's input before a peer connects: the code prompt, a dial of the code typed (or given
 * with --connect, --code-file, PARLEY_CODE) and its failure's line, the lines (and the end of
 * input) held while a dial runs or the mailbox joins a code, the mailbox chat's start, and
 * leaving before a peer (`exit`, the end of input: 1 for a script after a failed dial, else 0).
 * chat.ts owns the chat as a whole and hands lines here until a session stands; lines held
 * here go back to it, as they may be chat once the dial connected.
 */

import { formatAddress } from "../net/endpoints.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import type { Terminal } from "../ui/terminal-interface.ts";
import type { ChatOptions } from "./args.ts";
import { codeOnCommandLineNote, OWN_CODE_TYPED, sameCode, WHOLE_CODE_NEEDED } from "./codes.ts";
import type { PeerLink } from "./connect.ts";
import { EXIT_OK } from "./exit-codes.ts";
import type { InputLine } from "./input.ts";
import type { MailboxChat } from "./mailbox-chat.ts";

const EXIT_FAILURE = 1; // a failed --connect: a script's end of input after it ends with 1

const CODE_PROMPT = "peer code> ";

/** Lines held while a dial runs or the mailbox joins a code, before input is paused. */
const MAX_HELD_LINES = 1_000;

/**
 * The chat's input lines held until they can be handled: while a dial runs or the mailbox joins
 * the peer's code, what a script writes (`transfer x` right after --connect, a piped code) and
 * the end of its input wait here, in order. At MAX_HELD_LINES the input is paused (a pipe then
 * holds the rest), so `yes | parley --connect CODE` waiting for an absent peer does not grow
 * without bound. ChatBeforePeer decides when a line is held and when the held ones are handled.
 */
class HeldInput {
  private readonly lines: string[] = [];
  /** Input is paused: MAX_HELD_LINES lines are held. */
  private paused = false;
  /** The input ended while lines were held: handled after them. */
  inputEnded = false;

  constructor(private readonly input: Pick<Terminal, "pauseInput" | "resumeInput">) {}

  /** Lines are held: a line that must keep its place after them (an `exit`) is held too. */
  get holding(): boolean {
    return this.lines.length > 0;
  }

  /** Said when the held lines are dropped (exit or Ctrl-D typed at the terminal, a signal). */
  notSentLine(): string {
    const n = this.lines.length;
    return n === 1 ? "Not sent: the line typed while connecting." : `Not sent: the ${n} lines typed while connecting.`;
  }

  /** A line kept until the dial ends or the mailbox has joined; at MAX_HELD_LINES the input is paused. */
  hold(text: string): void {
    this.lines.push(text);
    if (this.lines.length >= MAX_HELD_LINES && !this.paused) {
      this.paused = true;
      this.input.pauseInput();
    }
  }

  /**
   * The held lines, each handed to `handle` in order (which may hold it again: a code that
   * starts another dial); input goes on if it was paused and there is room again.
   */
  release(handle: (line: string) => void): void {
    for (const line of this.lines.splice(0)) handle(line);
    if (this.paused && this.lines.length < MAX_HELD_LINES) {
      this.paused = false;
      this.input.resumeInput();
    }
  }
}

/** What ChatBeforePeer asks of the chat it is part of. */
export interface ChatBeforePeerHost {
  /** A session stands (lines go to it from then on). */
  connected(): boolean;
  /** A person types the input (stdin is a terminal, TERM=dumb too), not a script. */
  typedAtTerminal(): boolean;
  /** A line to handle as the chat does (held lines, once they can be: chat if a session stands). */
  line(text: string): void;
  /** The end of input, handled as the chat does (held, once it can be). */
  end(): void;
}

export class ChatBeforePeer {
  private readonly held: HeldInput;
  private mailbox: MailboxChat | undefined;
  private dialing = false;
  /** The last dial failed (and none connected since): input ending now ends with exit 1. */
  private dialFailed = false;
  /** The code being dialed or joined, as typed: the same typed again meanwhile is not chat. */
  private codeTried: string | undefined;

  constructor(
    private readonly options: ChatOptions,
    private readonly link: PeerLink,
    private readonly terminal: Terminal,
    private readonly chat: ChatBeforePeerHost,
  ) {
    this.held = new HeldInput(terminal);
  }

  /** Direct flow, listening: dials the code given up front, else asks for one. */
  start(): void {
    const target = this.options.connect ?? this.options.peerCode;
    this.codeTried = target;
    const note = codeOnCommandLineNote(this.options.connect);
    if (note) this.terminal.print(note);
    if (target !== undefined) this.connectTo(target);
    else this.askForPeer();
  }

  /** Mailbox flow: makes a code or joins the one given; resolves with the chat's exit code. */
  async startMailbox(downloadDir: string, pathsLine: string): Promise<number> {
    const { MailboxChat } = await import("./mailbox-chat.ts");
    this.mailbox = new MailboxChat(
      this.options,
      this.link,
      this.terminal,
      downloadDir,
      pathsLine,
      () => this.releaseHeld(),
      this.chat.typedAtTerminal() ? () => this.mailboxJoinFailed() : undefined,
    );
    // run() joins a code given up front at once; lines piped meanwhile follow it.
    this.codeTried = this.options.connect ?? this.options.peerCode;
    const exitCode = this.mailbox.run();
    this.releaseHeld();
    return exitCode;
  }

  /** PeerLink's error line: a failed dial (the prompt stays), or the listener's. */
  linkError(code: string, message: string): void {
    if (code === "E_WRONG_CODE" && message.startsWith("wrong code")) {
      this.terminal.print("Wrong code: the peer's Parley did not accept it. Check the code and type it again.");
    } else if (code === "E_WRONG_CODE" || code === "E_LISTEN") {
      this.terminal.print(code === "E_LISTEN" ? `Error: ${message}` : `${message}.`);
    } else {
      const dial = message.charAt(0).toUpperCase() + message.slice(1); // PeerLink.dial's "could not connect to ..."
      this.terminal.print(`${dial}. Check the code and that the peer's Parley is running, then type it again.`);
    }
  }

  /** A signal that ends the chat before a peer: the held lines are not sent (as exit says). */
  interrupted(): void {
    if (this.held.holding) this.terminal.print(this.held.notSentLine());
  }

  /** A session stands: in the mailbox flow the lines held while joining go to it now. */
  peerConnected(): void {
    if (this.options.mailbox !== undefined) this.releaseHeld();
  }

  /** A line before a peer connected: a peer code, `exit`, `help`, or held while a code is tried. */
  line(text: string, input: InputLine): void {
    switch (input.kind) {
      case "empty":
        return;
      case "exit":
        // Piped while a dial runs (a script's `CODE`, `hi`, `exit`): behind the dial and the lines
        // held meanwhile, as the end of input is; after a failed dial it ends with 1, as that does.
        // Typed at a terminal, exit means now: joining a mailbox code can take 30 s and more.
        if (!this.chat.typedAtTerminal() && (this.held.holding || this.dialing || this.heldForMailbox)) {
          return this.held.hold(text);
        }
        return this.quit("Bye.");
      case "help":
        // A mailbox code is not port-word-word: the example the flow's own prompt line gives.
        this.terminal.print(
          `Enter the code the peer's Parley shows (${this.mailbox ? "like 7-crossover-clockwork" : "port-word-word"}). exit quits.`,
        );
        return;
      default: {
        if (this.dialing || this.heldForMailbox) {
          // Typed again (no answer showed yet): held, it went to the peer as chat once connected.
          if (sameCode(text, this.codeTried)) this.terminal.print("Already connecting with that code.");
          else this.held.hold(text);
          return;
        }
        // A connected chat's command (the mailbox flow took it for a code: "not a mailbox code").
        const command = input.kind === "transfer" || input.kind === "transfers" || input.kind === "cancel";
        if (command && !this.mailbox?.withPlainPeer) {
          const example = this.mailbox ? "7-crossover-clockwork" : "40123-ribbon-walnut";
          this.terminal.print(
            `Error: not connected yet: "${input.kind}" works once the peer is connected. Enter the peer's code, e.g. ${example}.`,
          );
          return;
        }
        this.codeTried = text;
        if (this.mailbox) this.mailbox.join(text);
        else this.connectTo(text);
      }
    }
  }

  /** The end of input before a peer connected: a script's waits for the dial, behind its lines. */
  inputEnded(): void {
    // Ctrl-D at a terminal means now, as exit.
    if (!this.chat.typedAtTerminal() && (this.dialing || this.heldForMailbox)) {
      this.held.inputEnded = true;
      return;
    }
    const by = this.chat.typedAtTerminal() ? "Ctrl-D: leaving" : "End of input";
    this.quit(`${by} before a peer connected: nothing was sent. Bye.`);
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
    if (this.link.isOwnCode(target)) {
      // Dialed, it failed only after "Connecting..." with "this Parley's own port", then "check that
      // the peer's Parley is running": the mix-up is which code goes where.
      this.terminal.print(OWN_CODE_TYPED);
      this.terminal.setPrompt(CODE_PROMPT);
      this.dialFailed = true; // a script's end of input after it ends with 1, as after a failed dial
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
    this.held.release((line) => this.chat.line(line));
    if (this.held.inputEnded) {
      this.held.inputEnded = false;
      if (!this.chat.connected() && failed) return this.link.finish(EXIT_FAILURE);
      this.chat.end();
    }
  }

  /**
   * Mailbox flow: lines (and the end of input) that came before the mailbox was set up, or
   * while it joins the peer's code, wait as they do while a dial runs: a script may pipe
   * `code`, or chat lines after --connect CODE, and end its input at once.
   */
  private get heldForMailbox(): boolean {
    return this.options.mailbox !== undefined && !this.chat.connected() && (!this.mailbox || this.mailbox.waiting);
  }

  /** Mailbox flow, at a terminal: a code typed failed, ours still waits; as dialEnded(true). */
  private mailboxJoinFailed(): void {
    this.dialFailed = true;
    this.releaseHeld();
  }

  /** Mailbox flow: the held lines and end of input, now that they can be handled. */
  private releaseHeld(): void {
    if (this.dialing) return;
    this.held.release((line) => this.chat.line(line));
    if (this.held.inputEnded && !this.heldForMailbox) {
      this.held.inputEnded = false;
      this.chat.end();
    }
  }

  /**
   * `exit` or the end of input before a peer connected: after a failed dial (or a mailbox code
   * refused as mistyped) 1 for a script's (`parley --connect CODE < commands`), 0 for a person's;
   * either waits for a plain peer's transfer.
   */
  private quit(bye: string): void {
    if (this.mailbox?.leavingAfterPlain()) return;
    if (this.held.holding) this.terminal.print(this.held.notSentLine());
    this.terminal.print(bye);
    const failed = this.dialFailed || this.mailbox?.codeRefused === true;
    this.link.finish(failed && !this.chat.typedAtTerminal() ? EXIT_FAILURE : EXIT_OK);
  }
}
