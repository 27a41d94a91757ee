/**
 * What the mailbox server owes us: an answer to each request that has one (allocate, list,
 * claim, release) and each message we add handed back to us (a mailbox server hands every add
 * to every side that opened the mailbox, ours included, at once). A server that welcomed us and
 * then answers one of them not within SERVER_ANSWER_MS of connected time is silent: a server that
 * accepts and never answers, or a dead one behind a proxy that keeps the socket open, left a
 * waiting side waiting for ever with a code nobody could use (the claim unanswered, the key
 * exchange message never stored). The close has its own bound (wormhole.ts).
 *
 * Sans-I/O but for its one timer: the Wormhole hands it what it sends and what it takes, and
 * `reset()` on a lost connection (the new one asks again, and owes from then on).
 */

import type { MailboxMessage } from "../net/index.ts";

/**
 * How long the mailbox server has to answer a request (allocate, list, claim, release) or to
 * hand back a message we added, once it has welcomed us: a real one answers in milliseconds.
 */
export const SERVER_ANSWER_MS = 10_000;

/** What an unanswered request is, in words: "… did not answer WORDS within 10 s". */
const OWED_WORDS: Record<string, string> = {
  allocated: "with a code",
  nameplates: "which codes are in use",
  claimed: "our claim of the code's number",
  released: "our release of the code's number",
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
    case "add":
      return `message/${String(message.phase)}`;
    default:
      return undefined; // bind, open, close (bounded by the close itself), ping
  }
}

export class ServerAnswers {
  /** Each answer owed, and when its request went (performance.now()). */
  private readonly owed = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  /**
   * @param side - our side (the adds handed back to us carry it)
   * @param ms - SERVER_ANSWER_MS (tests lower it)
   * @param silent - called once, with what was not answered in words ("with a code"), when the oldest answer owed is late
   */
  constructor(
    private readonly side: string,
    readonly ms: number,
    private readonly silent: (words: string) => void,
  ) {}

  /** We sent `message`. */
  sent(message: Record<string, unknown>): void {
    const key = owedFor(message);
    if (this.stopped || key === undefined || this.owed.has(key)) return;
    this.owed.set(key, performance.now());
    if (this.owed.size === 1) this.arm();
  }

  /** The server sent `message`. */
  received(message: MailboxMessage): void {
    const key =
      message.type === "message"
        ? message.side === this.side
          ? `message/${String(message.phase)}`
          : undefined
        : message.type;
    if (key !== undefined && this.owed.delete(key)) this.arm();
  }

  /** The connection is gone: nothing is owed on it (a new one asks again). */
  reset(): void {
    this.owed.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** No more answers are looked for (closed, failed, or the meeting no longer needs the mailbox). */
  stop(): void {
    this.stopped = true;
    this.reset();
  }

  /** The timer for the oldest answer owed. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    let oldest: [string, number] | undefined;
    for (const entry of this.owed) if (!oldest || entry[1] < oldest[1]) oldest = entry;
    if (!oldest) return;
    const [key, at] = oldest;
    this.timer = setTimeout(
      () => {
        this.stop();
        this.silent(OWED_WORDS[key] ?? "the message we added (a mailbox server hands each back at once)");
      },
      Math.max(0, at + this.ms - performance.now()),
    );
  }
}
