/**
 * The mailbox connection's life as a pure state machine (sans-I/O, as handshake.ts): it takes
 * what happened to the connection and says what the Wormhole (wormhole.ts: sockets, timers) is to
 * do next. No socket, no timer, no clock: each event carries its time (performance.now()).
 *
 *   connecting ─opened─▶ welcomed ─answered─▶ up ◀────────────answered all─────────────┐
 *                           │ silent             │ lost, silent                          │
 *                           ▼                    ▼                                       │
 *                         failed      lost-pausing ─pause over─▶ lost-opening ─opened─▶ lost-unanswered ─silent─▶ failed
 *                                          ▲   └─time up─▶ failed   │ open failed        │ lost
 *                                          └────────────────────────┴────────────────────┘ (the same outage)
 *
 *   any state but closed ─close─▶ closed; ─fail─▶ failed; a live one ─quiet─▶ settled ─lost─▶ failed
 *
 * welcomed: the first connection, the server has answered nothing yet: a silence is the
 * server's (E_MAILBOX_SILENT at once, as an unreachable one). up: it answered; a silence may be
 * the path's (half-open: Wi-Fi changed, a NAT forgot the flow), so it is a loss. A connection
 * opened again that the server welcomed and left silent is tried once more (a network flapping
 * can fail just after a welcome), and the second in a row fails (E_MAILBOX_SILENT, SILENT_BACKS;
 * a try that fails to open between them is the network's): a welcome shows the path worked, so
 * the silence is likely the server's. A loss starts an
 * outage: tried again at once, then after growing pauses (nextPause), until its deadline
 * (`withinMs` after the loss). A connection opened again is lost-unanswered until the server has
 * answered all asked on it: said neither back nor lost, and a loss (a close) there goes on with
 * the same outage, as does one within RETRY_MAX_MS of a return (a server that welcomes and closes at once
 * is not tried in a tight loop for ever). settled (`quiet`): the meeting no longer needs the
 * mailbox; a loss is neither retried nor said.
 */

import type { WormholeError } from "./mailbox-input.ts";
import { brokenError, gaveUp, lostError, type OutageWords, silentError } from "./mailbox-life-errors.ts";
import { longestPause, type MailboxLinkChange, nextPause, RETRY_MAX_MS } from "./mailbox-retry.ts";

/** One loss and the tries after it, until the connection is back and stays so (its words: OutageWords). */
export interface Outage extends OutageWords {
  /**
   * When the connection was lost (performance.now() time): the tries end `withinMs` after. Kept
   * as the loss's time, not as its deadline: the time left is withinMs less the time since, so a
   * new outage's is withinMs exactly (at + withinMs - at is not, for a third of the fractions).
   */
  readonly since: number;
  /** The pause before the next try, ms (0: at once). */
  readonly pause: number;
  /**
   * The loss was a silence, and no try since failed to open: what went unanswered, in words
   * ("our claim of the code's number"). The outage's end then says the server stopped answering.
   */
  readonly silence: string | undefined;
  /** The server answered something, on some connection: a silence may be the path's, not the server's. */
  readonly answered: boolean;
  /**
   * Connections back that the server welcomed and left silent, in a row (SILENT_BACKS): since the
   * last one back, or the last try that failed to open (the network's failure, not the server's).
   */
  readonly silentBacks: number;
}

export type LifeState =
  /** The first connection is being opened (Wormhole.open). */
  | { readonly name: "connecting" }
  /** The first connection is open; the server has answered nothing on it yet. */
  | { readonly name: "welcomed" }
  /** Open and answering: since the first answer, or back `since` (then `outage` is the last one). */
  | { readonly name: "up"; readonly since: number; readonly outage?: Outage }
  /** Lost: waiting the outage's pause before the next try. */
  | { readonly name: "lost-pausing"; readonly outage: Outage }
  /** Lost: a try is being opened. */
  | { readonly name: "lost-opening"; readonly outage: Outage }
  /** Open again, welcomed; not back until the server answered all asked on it. */
  | { readonly name: "lost-unanswered"; readonly outage: Outage }
  /** quiet(): a loss is not retried. `up`: a connection that counted as up is still open. */
  | { readonly name: "settled"; readonly up: boolean }
  /** close() was called. */
  | { readonly name: "closed" }
  /** The Wormhole failed (a loss not retried, the server, the peer). */
  | { readonly name: "failed" };

export type LifeStateName = LifeState["name"];

export type LifeEvent =
  /** A connection's welcome came: the socket is the Wormhole's. */
  | { readonly type: "opened"; readonly at: number }
  /** A connection could not be opened (nothing there, no welcome in time, given up). */
  | { readonly type: "open-failed"; readonly at: number }
  /** The server answered something owed; `all`: nothing more is owed on this connection. */
  | { readonly type: "answered"; readonly all: boolean; readonly at: number }
  /**
   * The server did not answer in time what `words` says ("with a code"): ServerAnswers. `atBound`:
   * the outage's deadline came first (the server had less than its time to answer).
   */
  | { readonly type: "silent"; readonly words: string; readonly at: number; readonly atBound?: boolean }
  /** The connection closed; `broken`: we closed it, the server broke the protocol (its words). */
  | { readonly type: "lost"; readonly broken?: string; readonly at: number }
  /** The pause before the next try is over. */
  | { readonly type: "pause-over"; readonly at: number }
  /** The meeting no longer needs the mailbox. */
  | { readonly type: "quiet" }
  | { readonly type: "close" }
  /** The Wormhole failed for a reason of its own (the peer, the server's error, a close's). */
  | { readonly type: "fail" };

/** What the shell does after one event, in this order: drop, bound, tell, fail, pause or open, check. */
export interface LifeStep {
  /** Close the connection as lost: its close is no event. */
  readonly drop?: true;
  /** Answers owed are looked for until this time (Infinity: no bound): ServerAnswers.bound. */
  readonly bound?: number;
  /** Tell each listener the connection is lost or back. */
  readonly tell?: MailboxLinkChange;
  /** The Wormhole fails with this error. */
  readonly fail?: WormholeError;
  /** Wait this long (ms), then feed pause-over. */
  readonly pause?: number;
  /** Open a connection again, with this long (ms) until its welcome; then feed opened or open-failed. */
  readonly open?: number;
  /** Ask at once whether the connection stands (ServerAnswers.check), after the client asked again. */
  readonly check?: true;
  /** No more answers are looked for (ServerAnswers.stop). */
  readonly stopAnswers?: true;
  /** Stop the pause under way (no pause-over follows). */
  readonly stopPause?: true;
  /** Give up the connection being opened (its timer and socket go). */
  readonly abortOpening?: true;
  /** The event cannot happen in this state (a bug in the shell): nothing was done. */
  readonly illegal?: true;
}

export interface LifeOptions {
  /** The mailbox server's URL (its errors name it). */
  readonly url: string;
  /** How long a lost connection is tried again, ms (0: a loss fails at once). */
  readonly withinMs: number;
  /** How long the server has to answer, ms (its silences say it). */
  readonly answerMs: number;
  /** The longest an opening may take until the welcome, ms (OPEN_TIMEOUT_MS). */
  readonly openTimeoutMs: number;
  /** The longest pause between tries, ms: RETRY_MAX_MS unless a test shortens it (longestPause). */
  readonly longestPauseMs?: number;
}

/**
 * How many connections back, each welcomed by the server and then left silent, end an outage
 * (E_MAILBOX_SILENT at the last): the first may have met a network that failed again (Wi-Fi
 * flapping on a train) just after the welcome came through; a second is the server's silence.
 */
export const SILENT_BACKS = 2;

const NOTHING: LifeStep = {};
const ILLEGAL: LifeStep = { illegal: true };
/** The shortest time a try is given to open, even near the outage's end. */
const MIN_OPEN_MS = 1_000;

export class MailboxLife {
  private current: LifeState = { name: "connecting" };

  constructor(private readonly options: LifeOptions) {}

  private nextPause(pause: number): number {
    return nextPause(pause, longestPause(this.options.longestPauseMs));
  }

  get state(): LifeState {
    return this.current;
  }

  /** Whether the connection is up: the waits on the peer count this time only (mailbox-deadline.ts). */
  get connected(): boolean {
    const s = this.current;
    return s.name === "welcomed" || s.name === "up" || (s.name === "settled" && s.up);
  }

  /** One event; what the shell is to do. */
  step(event: LifeEvent): LifeStep {
    const s = this.current;
    switch (event.type) {
      case "close":
        if (s.name === "closed") return NOTHING;
        this.current = { name: "closed" };
        return { stopAnswers: true, stopPause: true, abortOpening: true };
      case "fail":
        if (s.name === "closed" || s.name === "failed") return NOTHING;
        this.current = { name: "failed" };
        return { stopAnswers: true, stopPause: true, abortOpening: true };
      case "quiet":
        return this.quiet(s);
      default:
    }
    switch (s.name) {
      case "connecting":
        if (event.type === "opened") return this.enter({ name: "welcomed" });
        if (event.type === "open-failed") return this.enter({ name: "failed" }); // open() throws
        return ILLEGAL; // the socket is not ours before its welcome: nothing is asked, nothing lost
      case "welcomed":
      case "up":
      case "lost-unanswered":
        return this.open(s, event);
      case "lost-pausing":
        return event.type === "pause-over" ? this.tryAgain(s.outage, event.at) : ILLEGAL;
      case "lost-opening":
        if (event.type === "opened") return this.enter({ name: "lost-unanswered", outage: s.outage }, { check: true });
        if (event.type !== "open-failed") return ILLEGAL;
        // Not there yet: the next try after a longer pause (a silence before it is no longer the
        // last word, nor a connection back left silent evidence against the server: the network
        // failed in between, as a flapping one does).
        return this.pauseThen(
          { ...s.outage, pause: this.nextPause(s.outage.pause), silence: undefined, silentBacks: 0 },
          event.at,
        );
      case "settled":
        switch (event.type) {
          case "opened": // a try that was opening: kept, for close() to release the nameplate
            return this.enter({ name: "settled", up: false });
          case "lost": // not tried again; one the server broke is still said as broken (its words)
            return this.enter(
              { name: "failed" },
              { fail: event.broken === undefined ? lostError() : brokenError(event.broken) },
            );
          case "answered":
          case "silent":
            return ILLEGAL; // answers are no longer looked for
          default:
            return NOTHING; // a try that failed, a pause stopped: nothing more is tried
        }
      default:
        // closed, failed: a socket opened meanwhile goes; anything else came too late to matter.
        return event.type === "opened" ? { drop: true } : NOTHING;
    }
  }

  /** An event while a connection is open: welcomed, up, lost-unanswered. */
  private open(s: LifeState & { name: "welcomed" | "up" | "lost-unanswered" }, event: LifeEvent): LifeStep {
    switch (event.type) {
      case "answered":
        if (s.name === "welcomed") return this.enter({ name: "up", since: Number.NEGATIVE_INFINITY });
        if (s.name === "up") return NOTHING;
        if (!event.all) return this.enter({ name: "lost-unanswered", outage: { ...s.outage, answered: true } });
        // Back: everything asked again is answered (a server that answers the claim and drops every add is not).
        return this.enter(
          { name: "up", since: event.at, outage: { ...s.outage, silence: undefined, answered: true, silentBacks: 0 } },
          { bound: Number.POSITIVE_INFINITY, tell: { connected: true } },
        );
      case "silent":
        // Up: the server answered on this connection, so a silence may be the path's (half-open).
        if (s.name === "up") return this.lost(s, event.at, event.words);
        // The outage's end came before the server's time to answer was up: no silence of its own
        // to tell ("did not answer ... within 10 s" after a second), the outage's end is the news.
        if (s.name === "lost-unanswered" && event.atBound) {
          return this.enter({ name: "failed" }, { fail: gaveUp(this.options, s.outage) });
        }
        // A connection back the server welcomed and then did not answer: the path to it worked
        // (its welcome came through), so the silence is likely the server's, and trying on for
        // the rest of the outage would only put off the same answer, with nothing said meanwhile.
        // Likely, not sure: a network failing again and again (Wi-Fi flapping) can fail just
        // after a welcome, so one more try is given (SILENT_BACKS), to a server that answered
        // before only (one that never answered is no mailbox server to come back to).
        if (s.name === "lost-unanswered" && s.outage.answered && s.outage.silentBacks + 1 < SILENT_BACKS) {
          return this.lost(s, event.at, event.words);
        }
        return this.enter(
          { name: "failed" },
          { fail: silentError(this.options, s.name === "lost-unanswered" ? s.outage : undefined, event.words) },
        );
      case "lost":
        if (event.broken !== undefined) return this.enter({ name: "failed" }, { fail: brokenError(event.broken) });
        return this.lost(s, event.at, undefined);
      default:
        return ILLEGAL; // opened, open-failed, pause-over: no try is under way
    }
  }

  /** The open connection is lost (`silence`: it was silent, and is to be dropped). */
  private lost(s: LifeState & { name: "welcomed" | "up" | "lost-unanswered" }, at: number, silence?: string): LifeStep {
    const drop = silence === undefined ? {} : { drop: true as const };
    const { withinMs } = this.options;
    if (withinMs <= 0) return this.enter({ name: "failed" }, { ...drop, fail: lostError() });
    const prior = s.name === "welcomed" ? undefined : s.outage;
    const back = s.name !== "lost-unanswered";
    let outage: Outage;
    if (prior && !back) {
      // Not back (open but closed, or welcomed and silent): the same outage goes on, after a
      // longer pause; its first silence stays its word (silentError names it with this one).
      const silentBack = silence === undefined ? 0 : 1;
      outage = { ...prior, pause: this.nextPause(prior.pause), silentBacks: prior.silentBacks + silentBack };
    } else if (prior && s.name === "up" && at - s.since < RETRY_MAX_MS) {
      // Back only briefly: the same outage goes on, after a longer pause.
      outage = { ...prior, pause: this.nextPause(prior.pause), silence: silence ?? prior.silence };
    } else outage = { since: at, pause: 0, silence, answered: s.name === "up", silentBacks: 0 };
    const left = this.left(outage, at);
    if (left <= 0) return this.enter({ name: "failed" }, { ...drop, fail: gaveUp(this.options, outage) }); // an outage already at its end
    // One not back yet was never said: its loss is no news.
    const tell: LifeStep = back ? { tell: { connected: false, withinMs: left } } : {};
    return this.pauseThen(outage, at, { ...drop, bound: outage.since + withinMs, ...tell });
  }

  /** The time `outage` has left at `at`, ms: withinMs at its loss, exactly (Outage.since). */
  private left(outage: Outage, at: number): number {
    return this.options.withinMs - (at - outage.since);
  }

  /** The next try of `outage`: at once (no pause), or after its pause. */
  private pauseThen(outage: Outage, at: number, also: LifeStep = {}): LifeStep {
    if (outage.pause <= 0) return this.tryAgain(outage, at, also);
    const left = this.left(outage, at);
    return this.enter({ name: "lost-pausing", outage }, { ...also, pause: Math.min(outage.pause, Math.max(0, left)) });
  }

  /** Opens the connection again, unless the outage's time is up. */
  private tryAgain(outage: Outage, at: number, also: LifeStep = {}): LifeStep {
    const left = this.left(outage, at);
    if (left <= 0) return this.enter({ name: "failed" }, { ...also, fail: gaveUp(this.options, outage) });
    const open = Math.max(MIN_OPEN_MS, Math.min(this.options.openTimeoutMs, left));
    return this.enter({ name: "lost-opening", outage }, { ...also, open });
  }

  private quiet(s: LifeState): LifeStep {
    switch (s.name) {
      case "closed":
      case "failed":
      case "settled":
        return NOTHING;
      default:
        // A pause under way stops (its "Reconnected" would come in the middle of the session, and
        // its tries go on for minutes for nothing); a try already opening is kept, for close().
        return this.enter(
          { name: "settled", up: s.name === "welcomed" || s.name === "up" },
          { stopAnswers: true, ...(s.name === "lost-pausing" ? { stopPause: true } : {}) },
        );
    }
  }

  private enter(state: LifeState, step: LifeStep = NOTHING): LifeStep {
    this.current = state;
    return step;
  }
}
