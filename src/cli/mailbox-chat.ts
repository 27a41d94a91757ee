/**
 * `bun run chat` with a mailbox: instead of "Listening on ... · code", a code from the mailbox
 * (`Waiting in the mailbox · code 7-crossover-clockwork`); a code typed at the prompt (or given with
 * --connect, --code-file, PARLEY_CODE) joins the peer's instead. The path in use is said once
 * connected. At a terminal, its code spent by a joiner (a wrong code, or a joiner that died inside
 * the key exchange) is followed by a new one, up to MAX_WRONG_CODES, as a direct listener takes
 * wrong codes. With a plain wormhole client, its one transfer runs instead (plain-chat.ts).
 */

import { parseWormholeCode, wormholeCodeTypo } from "../crypto/wormhole-code.ts";
import { MAX_WRONG_CODES } from "../session/limits.ts";
import { sanitizeForTerminal, type Terminal } from "../ui/index.ts";
import type { ChatOptions } from "./args.ts";
import { codeOnCommandLineNote, OWN_CODE_TYPED } from "./codes.ts";
import type { PeerLink } from "./connect.ts";
import { describeMeetFailure, MailboxMeet } from "./mailbox-meet.ts";
import type { MailboxConfig } from "./mailbox-options.ts";
import type { PlainChat } from "./plain-chat.ts";

/** A code typed that failed this way, while ours waits: what to do next. */
const TYPE_AGAIN: Readonly<Record<string, string>> = {
  E_NAMEPLATE_UNKNOWN: "Check it and type it again",
  E_NAMEPLATE_TAKEN: "Check it and type it again",
  E_PEER_GONE: "Type its new code",
  E_WRONG_CODE: "Type its new one",
};

/**
 * Our own code spent by whoever typed it (the peer, or a stranger who took the code's number: the
 * chat cannot tell), this way: each is a guess at the code (a joiner
 * that dies after its key exchange message could test its guess against ours), as a wrong code
 * or a key share left behind is at a direct listener.
 */
const SPENT_BY_JOINER: Readonly<Record<string, string>> = {
  E_WRONG_CODE: "Wrong code from whoever typed this chat's code",
  E_PEER_GONE: "Whoever typed this chat's code left inside the key exchange",
};

/**
 * A joiner's messages that broke the key exchange before any key (no usable key exchange message,
 * a malformed one, too many before it): a third party who took the code's number can do that
 * without guessing, and it spends the code as a wrong code does, so it is counted as one.
 */
function brokeKeyExchange(err: unknown): string | undefined {
  // By its fields, as describeMeetFailure: the mailbox's modules load only with the meeting.
  const { name, beforeKey, message } = err as { name?: unknown; beforeKey?: unknown; message?: unknown };
  if (name !== "WormholeError" || beforeKey !== true) return undefined;
  return `Whoever typed this chat's code broke the key exchange: ${sanitizeForTerminal(String(message))}`;
}

/** exit or the end of input while a plain wormhole client's transfer runs (Ctrl-C cuts it, as with a Parley peer). */
const PLAIN_LEAVING_LINE =
  "Waiting for the transfer with the wormhole peer to finish before leaving (Ctrl-C leaves at once, cancelling it)...";

/**
 * Said instead of describeMeetFailure's for a code typed whose other side's messages broke the key
 * exchange before any key (WormholeError.beforeKey): whoever holds that code's number (a stranger
 * who took it: the server lists them) can send one, so it gives the prompt back as a wrong code does.
 */
const BROKEN_CODE_TYPED =
  "Error: the key exchange with that code broke (its other side's key exchange message is not usable: someone who took the code's number, or a broken client), and that code is used up (good for one try)";

/** Said instead of describeMeetFailure's, which tells the side with no other code to start again. */
const WRONG_CODE_TYPED =
  "Error: wrong code: the peer's code and the one typed differ (a typo, or someone guessing), and the peer's is used up (good for one try)";

export class MailboxChat {
  /** Meetings under way: our own code's, and the code typed. */
  private readonly meets = new Set<MailboxMeet>();
  /** Every meeting started, for the release at the end. */
  private readonly started: MailboxMeet[] = [];
  private joining = false;
  /** The meeting of the code we made (none when the chat started with a code to join). */
  private own: MailboxMeet | undefined;
  /** Its code's number (nameplate), once the mailbox gave it. */
  private ownNameplate: string | undefined;
  /** The codes refused as mistyped: one typed again as it is, even after another, is tried. */
  private readonly typosSaid = new Set<string>();
  /** A code was refused as mistyped and none joined since: a script's end of input is then a failure (exit 1). */
  private refused = false;
  private plain: PlainChat | undefined;
  /** The line that exit waits for the plain client's transfer was said (leavingAfterPlain). */
  private leavingSaid = false;
  /** Meetings whose mailbox connection is lost: the two of one chat lose it together, said once. */
  private readonly lost = new Set<MailboxMeet>();
  /** Our codes spent by whoever typed them (SPENT_BY_JOINER): at MAX_WRONG_CODES no new one. */
  private spent = 0;
  /** Our code's lines, held while a code typed before it came is joined: said if that join fails. */
  private ownCodeLines: string[] = [];

  constructor(
    private readonly options: ChatOptions,
    private readonly link: PeerLink,
    private readonly terminal: Terminal,
    /** Where files from a plain wormhole client go. */
    private readonly downloadDir: string,
    /** What relative paths are resolved from (shell-folder.ts): said after the code, as the direct flow's. */
    private readonly pathsLine: string,
    /** A plain wormhole client's chat started: lines held while joining can go to it. */
    private readonly plainStarted: () => void = () => {},
    /**
     * Set where a person types (a terminal): a code typed that failed while ours still waits
     * gives the prompt back, and this is called (lines held meanwhile go as peer codes, as after
     * a failed dial); our code spent by a joiner is followed by a new one. Unset (a script):
     * either failure ends the chat, exit 2.
     */
    private readonly typeAgain?: () => void,
  ) {}

  /**
   * `exit` or the end of input: true while a plain wormhole client's one transfer is under way (or
   * being prepared), whose end ends the run (said once), as exit waits for a Parley peer's transfers.
   */
  leavingAfterPlain(): boolean {
    if (this.plain?.busy !== true) return false;
    if (!this.leavingSaid) this.terminal.print(PLAIN_LEAVING_LINE);
    this.leavingSaid = true;
    return true;
  }

  /** The last code typed was refused as mistyped (none joined since): as a failed dial for a script. */
  get codeRefused(): boolean {
    return this.refused;
  }

  /** A plain wormhole client joined: the lines typed are for it (`transfer PATH`, its text). */
  get withPlainPeer(): boolean {
    return this.plain !== undefined;
  }

  /** A code is being joined and neither a session nor a plain peer is there yet. */
  get waiting(): boolean {
    return this.joining && !this.plain;
  }

  /**
   * Starts (joining the code given, else allocating one) and resolves with the chat's exit
   * code once the mailbox has been let go.
   */
  async run(): Promise<number> {
    const given = this.options.connect ?? this.options.peerCode;
    const note = codeOnCommandLineNote(this.options.connect);
    if (note) this.terminal.print(note);
    if (given !== undefined) {
      this.join(given);
      this.terminal.print(this.pathsLine);
      // Not tried (a --connect at a terminal that looks mistyped, or is no code): the prompt
      // asks again, as for a direct --connect there.
      if (!this.joining) this.terminal.setPrompt("peer code> ");
    } else {
      this.own = this.start(undefined);
      this.terminal.setPrompt("peer code> ");
    }
    const code = await this.link.exitCode;
    this.plain?.stop();
    await Promise.all(this.started.map((meet) => meet.release()));
    return code;
  }

  /** A line typed before the session: the peer's code (or, to a plain wormhole client, what to send it). */
  join(text: string): void {
    if (this.plain) return this.plain.line(text);
    const parsed = parseWormholeCode(text);
    if (!parsed) {
      this.terminal.print(
        "Error: not a mailbox code. Type the code the peer's Parley shows, like 7-crossover-clockwork.",
      );
      return;
    }
    if (this.joining) return;
    const typo = wormholeCodeTypo(parsed.code);
    if (typo !== undefined && !this.typosSaid.has(parsed.code)) {
      // A wrong code would spend the peer's code on both sides: said, not tried, unless typed again.
      this.typosSaid.add(parsed.code);
      this.refused = true;
      this.terminal.print(
        `Not tried, it looks mistyped (a mailbox code is good for one try): ${typo}. Type the code again; the very same code again is tried as typed.`,
      );
      return;
    }
    if (parsed.nameplate === this.ownNameplate) {
      // Joined, it met our own meeting, which it used up (it was kept while joining, below).
      this.terminal.print(OWN_CODE_TYPED);
      return;
    }
    this.joining = true;
    this.refused = false;
    // Our own code stays in the mailbox until one meeting is the session: a peer who typed it
    // at the same moment (each typing the other's code) finds it there and meets us through it,
    // and the rendezvous keeps one connection, as when both dial at once in the direct flow.
    // Let go of first, each side found the other's code gone: "no one is waiting" on both.
    this.terminal.print(`Joining ${parsed.code}...`);
    this.start(parsed.code);
  }

  /** Our own code's meeting (`again`: after a code spent, whose paths line was said already). */
  private start(code: string | undefined, again = false): MailboxMeet {
    const meet = new MailboxMeet({
      rendezvous: this.link.rendezvous,
      config: this.options.mailbox as MailboxConfig,
      ...(this.options.name === undefined ? {} : { name: this.options.name }),
      code: (c) => {
        if (code !== undefined) return;
        this.ownNameplate = parseWormholeCode(c)?.nameplate;
        const lines = [
          `Waiting in the mailbox · code ${c}`,
          "Give the peer this code, or type the code its Parley shows.",
        ];
        // A code typed (pasted) before ours came is being joined: after "Joining X..." ours read
        // as the code typed waiting. Said only if that join fails and the prompt comes back.
        if (this.joining) this.ownCodeLines = lines;
        else for (const line of lines) this.terminal.print(line);
        if (!again) this.terminal.print(this.pathsLine);
        this.link.codeShown();
      },
      // Both meetings may find a path (each typed the other's code): the session's is said, from
      // the connected event (Chat.onConnected).
      path: () => {},
      mailboxLost: (line) => {
        if (this.lost.size === 0) this.terminal.print(line);
        this.lost.add(meet);
      },
      mailboxBack: (line) => {
        if (this.lost.delete(meet) && this.lost.size === 0) this.terminal.print(line);
      },
      plainPeer: (peer) => {
        this.meets.delete(meet);
        this.abandonOthers();
        this.link.peerMet(); // no Session will say so: the warm-up stops here
        void import("./plain-chat.ts").then(({ PlainChat }) => {
          this.plain = new PlainChat(
            peer,
            this.terminal,
            this.downloadDir,
            (exitCode) => this.link.finish(exitCode),
            this.options.limitRate,
          );
          this.plain.start();
          this.plainStarted();
        });
      },
    });
    this.meets.add(meet);
    this.started.push(meet);
    if (code === undefined) this.link.codeComing(); // the warm-up's delay counts from its line
    meet.meet(code).then(
      () => {
        this.meets.delete(meet);
        if (this.link.rendezvous.current) this.abandonOthers();
      },
      (err: unknown) => this.failed(meet, code, err),
    );
    return meet;
  }

  /** One meeting is the session (or a plain peer's): the others are not wanted. */
  private abandonOthers(): void {
    for (const other of this.meets) other.abandon();
    this.meets.clear();
  }

  /**
   * Our own code's meeting failed: if whoever typed it spent it (SPENT_BY_JOINER) where a
   * person types, says so and, below MAX_WRONG_CODES, makes a new code (true), as a direct
   * listener goes on after a wrong code: starting again by hand would give the guesser no less.
   * At the last one the failure's line follows, and the chat ends as a script's does.
   */
  private spentByJoiner(err: unknown): boolean {
    const failure = describeMeetFailure(err);
    const what = failure && (SPENT_BY_JOINER[failure.code] ?? brokeKeyExchange(err));
    if (!what || !this.typeAgain) return false;
    this.spent += 1;
    const exchanged = `${what} (${this.spent} of ${MAX_WRONG_CODES}): no chat or file data was exchanged`;
    if (this.spent >= MAX_WRONG_CODES) {
      this.terminal.print(`${exchanged}; no new code, so that codes cannot be guessed.`);
      return false;
    }
    this.terminal.print(`${exchanged}; a mailbox code is good for one try, so here is a new one.`);
    this.own = this.start(undefined, true);
    return true;
  }

  private failed(meet: MailboxMeet, code: string | undefined, err: unknown): void {
    this.meets.delete(meet);
    this.lost.delete(meet);
    if (meet.abandoned) return;
    if (code === undefined && this.spentByJoiner(err)) return;
    // Our own code's meeting, while a code typed is joined: that meeting says how it ends.
    if (code === undefined && this.joining) {
      if (describeMeetFailure(err)) return;
      throw err;
    }
    const again = code !== undefined && this.own !== undefined && this.meets.has(this.own);
    // Broken before any key by the other side's messages: one message from whoever took the
    // code's number, which ended the chat (exit 2) where a wrong code gives the prompt back.
    const broken = (err as { beforeKey?: unknown }).beforeKey === true;
    const errCode = (err as { code?: unknown }).code;
    const typeAgain = again ? this.typeAgain : undefined;
    const promptBack = typeAgain && ((typeof errCode === "string" && errCode in TYPE_AGAIN) || broken);
    // Where the prompt comes back, the line ends with its own next step (TYPE_AGAIN) instead of
    // the one-shot commands' (describeMeetFailure's withNext).
    const failure = describeMeetFailure(err, code, !promptBack);
    if (!failure) throw err;
    if (promptBack) {
      // The code typed failed, ours still waits in the mailbox: the prompt comes back, as after
      // a failed dial in the direct flow (it ended the chat, exit 2, for a mistyped number).
      this.joining = false;
      const line = broken
        ? BROKEN_CODE_TYPED
        : failure.code === "E_WRONG_CODE"
          ? WRONG_CODE_TYPED
          : sanitizeForTerminal(failure.line);
      const next = broken ? "Type its new one" : TYPE_AGAIN[failure.code];
      this.terminal.print(`${line}. ${next}, or wait for the peer to type yours.`);
      for (const held of this.ownCodeLines.splice(0)) this.terminal.print(held);
      this.terminal.setPrompt("peer code> ");
      typeAgain();
      return;
    }
    // Its detail may be the server's words (its error, its welcome's) or the peer's (why it gave
    // up): made visible, as the reporter does for parley send and receive.
    this.terminal.print(sanitizeForTerminal(failure.line));
    this.link.finish(failure.exitCode);
  }
}
