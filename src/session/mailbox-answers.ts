/**
 * What the mailbox server owes us: an answer to each request that has one (allocate, list,
 * claim, release, ping) and each message we add handed back to us (a mailbox server hands every
 * add to every side that opened the mailbox, ours included, at once). A server that welcomed us
 * and then answers one of them not within SERVER_ANSWER_MS is silent. The time counts from when
 * the request's bytes have left this process, not from the send: a large add on a slow uplink
 * (a 64 KiB text is ~130 KB of hex, ~8 s at 128 kbit/s) takes seconds to leave; while they are
 * leaving, each SERVER_ANSWER_MS without a byte leaving is a silence too (a dead uplink). Silent: a server
 * that accepts and never answers, a dead one behind a proxy that keeps the socket open, or a
 * connection that died without a word (half-open: Wi-Fi changed, a NAT forgot the flow). The
 * Wormhole takes a silence as a lost connection (closes it and opens it again). While nothing is
 * owed (a side waiting for its peer), a ping goes every IDLE_CHECK_MS, its pong owed as the rest:
 * a connection that died silently then was never noticed. The close has its own bound.
 *
 * Sans-I/O but for its timers: the Wormhole hands it what it sends and what it takes, and
 * `reset()` on a lost connection (the new one asks again, and owes from then on).
 */

import { type MailboxMessage, OPEN_TIMEOUT_MS } from "../net/index.ts";

/**
 * How long the mailbox server has to answer a request (allocate, list, claim, release) or to
 * hand back a message we added, once it has welcomed us: a real one answers in milliseconds.
 */
export const SERVER_ANSWER_MS = 10_000;
/**
 * How long the server has to answer (SERVER_ANSWER_MS) and, for a connection being opened, to
 * welcome us (OPEN_TIMEOUT_MS). `serverAnswerMs` (PARLEY_MAILBOX_ANSWER_MS, for tests) shortens
 * both, and never lengthens either.
 */
export function answerTimes(serverAnswerMs?: number): { readonly answerMs: number; readonly openMs: number } {
  return {
    answerMs: Math.min(serverAnswerMs ?? SERVER_ANSWER_MS, SERVER_ANSWER_MS),
    openMs: Math.min(serverAnswerMs ?? OPEN_TIMEOUT_MS, OPEN_TIMEOUT_MS),
  };
}

/** How long the connection may be idle (nothing owed) before a ping asks whether it still stands. */
export const IDLE_CHECK_MS = 30_000;
/**
 * A deadline timer this late (ms past its time) ran after the process stood still (Ctrl-Z, a
 * laptop asleep): the answer may be in the socket already, unread (Bun may run an expired timer
 * before it reads), so the server gets its whole time to answer again, counted from now. Not one
 * short turn: on a loaded machine a 50 ms timer can expire again before the socket is read.
 */
export const STALL_MS = 1_000;

/** What an unanswered request is, in words: "… did not answer WORDS within 10 s". */
const OWED_WORDS: Record<string, string> = {
  allocated: "with a code",
  nameplates: "which codes are in use",
  claimed: "our claim of the code's number",
  released: "our release of the code's number",
  pong: "a ping (asked whether the connection still stands)",
};

/** The answer `message` (one we send) is owed, or undefined when it has none. */
function owedFor(message: Record<string, unknown>): string | undefined {
  switch (message.type) {
    case "allocate":
      return "allocated";
    case "list":
      return "nameplates";
    case "claim":
      return "claimed";
    case "release":
      return "released";
    case "ping":
      return "pong";
    case "add":
      return `message/${String(message.phase)}`;
    default:
      return undefined; // bind, open, close (bounded by the close itself)
  }
}

export class ServerAnswers {
  /**
   * Each answer owed, and when its request went (performance.now()): when its bytes had all
   * left, or, `leaving`, when the last of them did.
   */
  private readonly owed = new Map<string, { at: number; leaving: boolean; graced?: boolean }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The ping's timer while nothing is owed. */
  private idle: ReturnType<typeof setTimeout> | undefined;
  /** No answer owed is looked for past this time (performance.now()): the retry's deadline. */
  private until = Number.POSITIVE_INFINITY;
  private stopped = false;
  private pings = 0;

  /**
   * @param side - our side (the adds handed back to us carry it)
   * @param ms - SERVER_ANSWER_MS (tests lower it)
   * @param silent - called once a connection, with what was not answered in words ("with a code"),
   *   when the oldest answer owed on it is late (reset() before the next connection); `atBound`:
   *   the outage's deadline (bound()) came before the server's whole time to answer was up
   * @param ping - sends {type: "ping", ping: N} (through sent(), so its pong is owed)
   * @param idleMs - IDLE_CHECK_MS, and at most (tests lower it)
   * @param answered - the server answered something owed; `all`: nothing more is owed (the
   *   connection stands). Call received() after the client took the message (what it asks in
   *   turn is owed by then).
   */
  constructor(
    private readonly side: string,
    readonly ms: number,
    private readonly silent: (words: string, atBound: boolean) => void,
    private readonly ping: (n: number) => void = () => {},
    private readonly idleMs = IDLE_CHECK_MS,
    private readonly answered: (all: boolean) => void = () => {},
  ) {}

  /**
   * We sent `message`.
   * @param leaving - some of its bytes still wait in this process to leave (written() says as they go)
   */
  sent(message: Record<string, unknown>, leaving = false): void {
    const key = owedFor(message);
    if (this.stopped || key === undefined || this.owed.has(key)) return;
    this.owed.set(key, { at: performance.now(), leaving });
    if (this.owed.size === 1) this.arm();
  }

  /**
   * Bytes of what we sent left: each answer whose request is still leaving counts from now
   * (`waiting` bytes still wait here), or, all gone from here (`waiting` 0), from when what the
   * kernel holds is reckoned gone too (`restMs` from now).
   */
  written(waiting: number, restMs = 0): void {
    const at = performance.now() + (waiting > 0 ? 0 : restMs);
    let moved = false;
    for (const entry of this.owed.values()) {
      if (!entry.leaving) continue;
      entry.at = at;
      entry.leaving = waiting > 0;
      moved = true;
    }
    if (moved) this.arm();
  }

  /** The server sent `message`. */
  received(message: MailboxMessage): void {
    const key =
      message.type === "message"
        ? message.side === this.side
          ? `message/${String(message.phase)}`
          : undefined
        : message.type;
    if (key === undefined || !this.owed.delete(key)) return;
    this.arm();
    this.answered(this.owed.size === 0);
  }

  /** Asks at once whether the connection stands (a ping), unless an answer is owed already. */
  check(): void {
    if (!this.stopped && this.owed.size === 0) this.ping(++this.pings);
  }

  /** Answers owed are not looked for past `at` (performance.now()); Infinity: no bound. */
  bound(at: number): void {
    this.until = at;
    if (this.owed.size > 0) this.arm();
  }

  /** The connection is gone: nothing is owed on it (a new one asks again). */
  reset(): void {
    this.owed.clear();
    clearTimeout(this.timer);
    clearTimeout(this.idle);
    this.timer = undefined;
    this.idle = undefined;
  }

  /** No more answers are looked for (closed, failed, or the meeting no longer needs the mailbox). */
  stop(): void {
    this.stopped = true;
    this.reset();
  }

  /** The timer for the oldest answer owed, or, with none owed, the idle check's. */
  private arm(): void {
    clearTimeout(this.timer);
    clearTimeout(this.idle);
    this.timer = undefined;
    this.idle = undefined;
    if (this.stopped) return;
    let oldest: [string, { at: number; graced?: boolean }] | undefined;
    for (const entry of this.owed) if (!oldest || entry[1].at < oldest[1].at) oldest = entry;
    if (!oldest) {
      this.idle = setTimeout(() => this.check(), Math.min(this.idleMs, IDLE_CHECK_MS));
      return;
    }
    const [key, entry] = oldest;
    const late = (atBound: boolean): void => {
      this.reset();
      this.silent(OWED_WORDS[key] ?? "the message we added (a mailbox server hands each back at once)", atBound);
    };
    // Stood still: the server's whole time again, once a request (an answer read meanwhile ends
    // this timer through received()). Seen by a timer that ran late, or here: stopped between the
    // send and this arm (the server woke on our bytes and stopped us: mailbox-stall at load), no
    // timer ran, and the deadline is long past when we run again. Within the outage's deadline
    // still (`until`): the grace ran one answer time past it, so an outage stood still through
    // its end went on for up to 10 s more.
    const grace = (): void => {
      entry.graced = true;
      const left = this.until - performance.now();
      this.timer = setTimeout(() => late(left < this.ms), Math.max(0, Math.min(this.ms, left)));
    };
    const now = performance.now();
    if (!entry.graced && now - (entry.at + this.ms) > STALL_MS) return grace();
    const delay = Math.max(0, Math.min(entry.at + this.ms, this.until) - now);
    this.timer = setTimeout(() => {
      if (!entry.graced && performance.now() - now - delay > STALL_MS) grace();
      else late(this.until < entry.at + this.ms);
    }, delay);
  }
}
