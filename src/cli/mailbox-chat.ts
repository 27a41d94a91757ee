/**
 * `bun run chat` with a mailbox: instead of "Listening on ... · code", a code from the mailbox
 * (`Waiting in the mailbox · code 7-purple-sausage`); a code typed at the prompt (or given with
 * --connect, --code-file, PARLEY_CODE) joins the peer's instead. The path in use is said once
 * connected. With a plain wormhole client, its one transfer runs instead (plain-chat.ts).
 */

import { parseWormholeCode } from "../crypto/wormhole-code.ts";
import type { Terminal } from "../ui/index.ts";
import type { ChatOptions } from "./args.ts";
import { codeOnCommandLineNote } from "./codes.ts";
import type { PeerLink } from "./connect.ts";
import { describeMeetFailure, MailboxMeet } from "./mailbox-meet.ts";
import type { MailboxConfig } from "./mailbox-options.ts";
import type { PlainChat } from "./plain-chat.ts";

export class MailboxChat {
  private current: MailboxMeet | undefined;
  private joining = false;
  private plain: PlainChat | undefined;

  constructor(
    private readonly options: ChatOptions,
    private readonly link: PeerLink,
    private readonly terminal: Terminal,
    /** Where files from a plain wormhole client go. */
    private readonly downloadDir: string,
    /** A plain wormhole client's chat started: lines held while joining can go to it. */
    private readonly plainStarted: () => void = () => {},
  ) {}

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
    if (given !== undefined) this.join(given);
    else {
      this.start(undefined);
      this.terminal.setPrompt("peer code> ");
    }
    const code = await this.link.exitCode;
    this.plain?.stop();
    await this.current?.release();
    return code;
  }

  /** A line typed before the session: the peer's code (or, to a plain wormhole client, what to send it). */
  join(text: string): void {
    if (this.plain) return this.plain.line(text);
    const parsed = parseWormholeCode(text);
    if (!parsed) {
      this.terminal.print("Error: not a mailbox code. Type the code the peer's Parley shows, like 7-purple-sausage.");
      return;
    }
    if (this.joining) return;
    this.joining = true;
    this.current?.abandon();
    this.terminal.print(`Joining ${parsed.code}...`);
    this.start(parsed.code);
  }

  private start(code: string | undefined): void {
    const meet = new MailboxMeet({
      rendezvous: this.link.rendezvous,
      config: this.options.mailbox as MailboxConfig,
      ...(this.options.name === undefined ? {} : { name: this.options.name }),
      code: (c) => {
        if (code !== undefined) return;
        this.terminal.print(`Waiting in the mailbox · code ${c}`);
        this.terminal.print("Give the peer this code, or type the code its Parley shows.");
        this.link.codeShown();
      },
      path: (line) => this.terminal.print(line),
      plainPeer: (peer) => {
        this.link.peerMet(); // no Session will say so: the warm-up stops here
        void import("./plain-chat.ts").then(({ PlainChat }) => {
          this.plain = new PlainChat(peer, this.terminal, this.downloadDir, (exitCode) => this.link.finish(exitCode));
          this.plain.start();
          this.plainStarted();
        });
      },
    });
    this.current = meet;
    if (code === undefined) this.link.codeComing(); // the warm-up's delay counts from its line
    meet.meet(code).catch((err: unknown) => {
      if (meet.abandoned) return;
      const failure = describeMeetFailure(err);
      if (!failure) throw err;
      this.terminal.print(failure.line);
      this.link.finish(failure.exitCode);
    });
  }
}
