/**
 * The mailbox flow for every command: meets the peer through the mailbox (the session code is
 * loaded only when a mailbox is configured), hands the connection to the rendezvous through the
 * same seam as the direct flow, and words the outcome: the code line, the path line, and one
 * line with an exit code for each way it can fail.
 */

import type * as Codes from "../crypto/codes.ts";
import type { MetPath, Rendezvous } from "../session/index.ts";
import type { LostMailbox } from "../session/mailbox-input.ts";
import type { PlainPeer } from "../session/plain-peer.ts";
import { EXIT_CONNECTION } from "./exit-codes.ts";
import type { MailboxConfig } from "./mailbox-options.ts";

type MeetModule = typeof import("../session/mailbox-rendezvous.ts");

export interface MailboxMeetIo {
  readonly rendezvous: Rendezvous;
  readonly config: MailboxConfig;
  readonly name?: string;
  /** The code is known: show it (`code 7-crossover-clockwork`). */
  code(code: string): void;
  /** The path to a Parley peer stands: said with the session's connected line (path-line.ts connectedWhere). */
  path(via: MetPath): void;
  /** A plain wormhole client joined: its one transfer is the caller's (plain-run.ts). */
  plainPeer(peer: PlainPeer): void;
  /**
   * The mailbox connection was lost before the peer was met: show `line` (it is being tried again
   * for up to `withinMs`).
   */
  mailboxLost?(line: string, withinMs: number): void;
  /** It is back: show `line`. */
  mailboxBack?(line: string): void;
}

/** "5 minutes", "1 minute", "4.7 minutes", "2.5 s": how long a lost mailbox is tried again, in words. */
export function retryWords(ms: number): string {
  if (ms === 60_000) return "1 minute";
  if (ms >= 60_000) return `${Math.round(ms / 6_000) / 10} minutes`;
  return `${Math.round(ms / 100) / 10} s`;
}

/** Said once a mailbox connection is lost while the peer is not met yet. */
export const mailboxLostLine = (withinMs: number): string =>
  `Lost the mailbox server; reconnecting (for up to ${retryWords(withinMs)}) ...`;
/** Said once it is back. */
export const MAILBOX_BACK_LINE = "Reconnected to the mailbox server.";

/**
 * E_MAILBOX_LOST by which loss it was: tried again until the limit (the server is down: run again
 * once it is back), back without the code (it forgot it: a new code), or lost with no retry (it
 * may be restarting).
 */
function lostWords(detail: string, lost: LostMailbox | undefined): string {
  if (lost?.retriedMs !== undefined) {
    return `the connection to the mailbox server was lost before the peer was met and was not back within ${retryWords(lost.retriedMs)}; run Parley again once the server is back`;
  }
  if (lost?.codeForgotten) return `${detail}; run Parley again for a new code`;
  return "the connection to the mailbox server was lost before the peer was met; run Parley again (the server may be restarting)";
}

/** How a failure is told: one line, and the exit code. */
export interface MeetFailure {
  readonly line: string;
  readonly exitCode: number;
  readonly code: string;
}

/**
 * The failures of the mailbox flow, worded (all exit EXIT_CONNECTION = 2, as connection
 * failures do). `detail` is the error's message, used where it adds what the words lack (which
 * URL, what answered there, which relay); where it would only say the same again, it is left out.
 */
const WORDS: Record<string, (detail: string, lost: LostMailbox | undefined) => string> = {
  E_MAILBOX_UNREACHABLE: (detail) => `cannot reach the mailbox server: ${detail}`,
  E_MAILBOX_LOST: lostWords,
  E_MAILBOX_REFUSED: (detail) => `the mailbox server refused: ${detail}`,
  E_MAILBOX_SILENT: (detail) => `the mailbox server stopped answering: ${detail}`,
  E_MAILBOX_PROTOCOL: (detail) => `the mailbox server broke the protocol: ${detail}`,
  E_NAMEPLATE_UNKNOWN: () => "no one is waiting with that code (unknown nameplate)",
  E_NAMEPLATE_TAKEN: () => "that code is already in use by two others (nameplate taken)",
  // Both sides: the side that made the code typed nothing, and must learn that it is used up.
  E_WRONG_CODE: () =>
    "wrong code: the two sides' codes differ (a typo, or someone guessing), and a mailbox code is good for one try: start again for a new one",
  E_PEER_GONE: (detail) => `the peer left: ${detail}`,
  E_PEER_PROTOCOL: (detail) => `the peer broke the protocol: ${detail}`,
  E_RELAY_UNREACHABLE: (detail) => `cannot reach the transit relay ${detail}`,
  E_NO_PATH: (detail) => `no way to reach the peer: ${detail}`,
};

/**
 * A code joined that no one waits with, said when it looks like a direct Parley code (a port, then
 * the direct codes' words: `40123-ribbon-walnut`), as a peer started without --relay/--relay-url
 * shows: a mailbox cannot reach that Parley, which no typo explains. Mailbox servers hand out small
 * nameplates, so a port-sized one with those words is rarely a mailbox code.
 */
function directCodeHint(joined: string | undefined): string {
  const match = joined === undefined ? null : /^(\d+)-(.+)$/.exec(joined);
  if (!match || Number(match[1]) < 1024 || Number(match[1]) > 65535) return "";
  const { isCodeWords } = require("../crypto/codes.ts") as typeof Codes;
  if (!isCodeWords(match[2] as string)) return "";
  return `; ${joined} looks like the code of a Parley that meets directly, not through a mailbox: start both sides with the same --relay or --relay-url, or both without`;
}

const SPENT_BEFORE_KEY = "; the code is used up (a mailbox code is good for one try): start again for a new one";

/**
 * What to do after a code no one waits with (unless it looks like a direct Parley's code, which
 * directCodeHint says): it was mistyped, used up, or its side left, or the peer is on another mailbox.
 */
const NAMEPLATE_UNKNOWN_NEXT =
  ": check the code with the peer (a mailbox code is gone once used, or once the side that made it has left; both sides need the same mailbox server)";

/**
 * What to do after a code two others hold: the side that made it, and whoever typed it first. When
 * that was not the peer, it was a stranger who took the code's number (anyone can list the numbers
 * in use), and the side that made it waits on with it, never told: a mailbox server says nothing of
 * a claim to the side already there. Only this side learns it, so the line says what the peer must do.
 */
const NAMEPLATE_TAKEN_NEXT =
  ": someone typed it before you (if not your peer, someone else who took its number), so it cannot be used; ask your peer to start again for a new code";

/**
 * @param joined - the code this side joined (as parsed), if it joined one
 * @param withNext - the line says what to do next where the failure's words do not (the chat's code
 *   prompt, which asks again, says its own)
 */
export function describeMeetFailure(err: unknown, joined?: string, withNext = true): MeetFailure | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  const name = (err as { name?: unknown } | undefined)?.name;
  if (typeof code !== "string" || (name !== "WormholeError" && name !== "TransitError")) return undefined;
  const detail = err instanceof Error ? err.message : "";
  let words = WORDS[code]?.(detail, (err as { lost?: LostMailbox }).lost) ?? `the mailbox flow failed: ${detail}`;
  if (code === "E_NAMEPLATE_UNKNOWN") words += directCodeHint(joined) || (withNext ? NAMEPLATE_UNKNOWN_NEXT : "");
  if (code === "E_NAMEPLATE_TAKEN" && withNext) words += NAMEPLATE_TAKEN_NEXT;
  // Another side's messages broke it before any key (WormholeError.beforeKey): spent, as by a wrong code.
  if ((err as { beforeKey?: unknown }).beforeKey === true) words += SPENT_BEFORE_KEY;
  return { line: `Error: ${words}`, exitCode: EXIT_CONNECTION, code };
}

/** How long the end of a run waits for the mailbox to let go of a code no peer joined. */
const LET_GO_WAIT_MS = 3_000;

/** A meeting under way; `release` lets go of the mailbox (call when the session is over). */
export class MailboxMeet {
  private releaseMeeting: (() => Promise<void>) | undefined;
  private readonly abort = new AbortController();
  /** meet() has been called and has not handed a connection over. */
  private meeting = false;
  /** After abandon(): settles once the mailbox has let go of the code. */
  private readonly letGo = Promise.withResolvers<void>();

  constructor(private readonly io: MailboxMeetIo) {}

  /**
   * Meets (allocating a code, or joining `code`) and joins the rendezvous; resolves once the
   * connection was handed over (or the peer was a plain wormhole client).
   * @throws WormholeError | TransitError (see describeMeetFailure)
   */
  async meet(code?: string): Promise<void> {
    this.meeting = true;
    const { meetThroughMailbox }: MeetModule = await import("../session/mailbox-rendezvous.ts");
    const { config } = this.io;
    const meeting = await meetThroughMailbox({
      signal: this.abort.signal,
      onLetGo: (closed) => void closed.then(this.letGo.resolve, this.letGo.resolve),
      mailboxUrl: config.mailboxUrl,
      nonce: this.io.rendezvous.nonce,
      features: this.io.rendezvous.helloFeatures,
      noListen: config.noListen,
      ...(config.hintAddresses ? { hintAddresses: config.hintAddresses } : {}),
      ...(config.transitHelper ? { transitHelper: config.transitHelper } : {}),
      ...(code === undefined ? {} : { code }),
      ...(this.io.name === undefined ? {} : { name: this.io.name }),
      onCode: (c) => {
        if (!this.abandoned) this.io.code(c);
      },
      ...(config.retryMs === undefined ? {} : { retryMs: config.retryMs }),
      ...(config.checkMs === undefined ? {} : { idleCheckMs: config.checkMs }),
      ...(config.answerMs === undefined ? {} : { serverAnswerMs: config.answerMs }),
      ...(config.pauseMs === undefined ? {} : { longestPauseMs: config.pauseMs }),
      ...(config.keyExchangeMs === undefined ? {} : { keyExchangeMs: config.keyExchangeMs }),
      ...(config.textAckMs === undefined ? {} : { textAckMs: config.textAckMs }),
      onMailboxChange: (change) => {
        if (this.abandoned) return;
        if (change.connected) this.io.mailboxBack?.(MAILBOX_BACK_LINE);
        else this.io.mailboxLost?.(mailboxLostLine(change.withinMs), change.withinMs);
      },
    }).catch((err: unknown) => {
      // Failed: meetThroughMailbox closed what it opened, so the run's end has nothing to let go
      // of and must not wait for it (unless abandoned: then its let-go is under way).
      if (!this.abandoned) this.meeting = false;
      throw err;
    });
    this.meeting = false; // met: what follows lets go of the mailbox its own way
    if (meeting.kind === "plain") {
      if (this.abandoned) return void meeting.peer.close("errory");
      return this.io.plainPeer(meeting.peer);
    }
    if (this.abandoned) {
      meeting.channel.conn.destroy();
      await meeting.release();
      return;
    }
    this.releaseMeeting = meeting.release;
    const via = { path: meeting.path, address: meeting.address, dialedIn: meeting.dialedIn };
    this.io.path(via);
    await this.io.rendezvous.joined({ ...meeting, via });
  }

  /** This meeting is no longer wanted (the user typed a peer's code instead). */
  abandon(): void {
    this.abort.abort();
  }

  get abandoned(): boolean {
    return this.abort.signal.aborted;
  }

  /**
   * Lets go of the mailbox when the run is over: the meeting's, or one still under way (a
   * signal while waiting for the peer) is abandoned and its nameplate released, so a peer who
   * types the code later hears that it is unknown instead of waiting for ever.
   */
  async release(): Promise<void> {
    if (this.releaseMeeting) return this.releaseMeeting();
    if (!this.meeting) return;
    this.abandon();
    // Bounded: the mailbox may not have been reached yet (then there is nothing to let go).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.letGo.promise, new Promise((r) => (timer = setTimeout(r, LET_GO_WAIT_MS)))]);
    clearTimeout(timer);
  }
}
