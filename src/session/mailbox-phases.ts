/**
 * The peer's mailbox messages on their way up (mailbox-client.ts), bounded: what comes before
 * the key exchange is done waits to be opened once it is (MAX_EARLY_MESSAGES, MAX_EARLY_BYTES),
 * and numbered phases opened out of order wait for the ones before them (MAX_PENDING_MESSAGES,
 * MAX_PENDING_BYTES), then go up in phase order. A phase handed out again (a re-opened mailbox
 * hands all out again), or one no peer sends, is dropped. No I/O, no keys: the client opens each
 * message and says what fails.
 */

import { MAX_EARLY_BYTES, MAX_EARLY_MESSAGES, MAX_PENDING_BYTES, MAX_PENDING_MESSAGES } from "./mailbox-input.ts";

/** A message as the server handed it out: its phase, the side that added it, its sealed body. */
export interface SealedMessage {
  readonly phase: string;
  readonly side: string;
  readonly body: Uint8Array;
}

/** The phases a peer's message may have: its key exchange, its versions, and numbered ones. */
const KNOWN_PHASE = /^(?:pake|version|\d+)$/;

export class MailboxPhases {
  /**
   * `side/phase` of each message taken. Bounded by what the meeting holds before it fails
   * (MAX_EARLY_*, MAX_PENDING_*, the Wormhole's unread bound).
   */
  private readonly seen = new Set<string>();
  private readonly early: SealedMessage[] = [];
  private earlyBytes = 0;
  private readonly pending = new Map<number, Uint8Array>();
  private pendingBytes = 0;
  private nextPhase = 0;

  /**
   * Whether `side`'s `phase` is one to take: a phase a peer sends, not handed out before (a
   * re-opened mailbox, or added twice). Phases we do not know are never remembered in `seen`: a
   * server's endless made-up phases grew a connected chat without bound (839 MB after 8 million).
   */
  isNew(side: string, phase: string): boolean {
    if (!KNOWN_PHASE.test(phase)) return false;
    const key = `${side}/${phase}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  /** Holds a message that came before the key. @returns false (nothing held) when it is one too many */
  holdEarly(message: SealedMessage): boolean {
    if (this.early.length >= MAX_EARLY_MESSAGES || this.earlyBytes + message.body.length > MAX_EARLY_BYTES) {
      return false;
    }
    this.earlyBytes += message.body.length;
    this.early.push(message);
    return true;
  }

  /** The held messages `side` added (the peer's: another side's are not for us), in the order they came; none held after. */
  takeEarly(side: string): SealedMessage[] {
    this.earlyBytes = 0;
    return this.early.splice(0).filter((m) => m.side === side);
  }

  /**
   * Phase `n`'s plaintext came.
   * @returns "again" for a phase handed out before (dropped), "flood" when too many wait already
   *   (nothing kept), else "kept"
   */
  put(n: number, plaintext: Uint8Array): "kept" | "again" | "flood" {
    if (n < this.nextPhase || this.pending.has(n)) return "again";
    if (this.pending.size >= MAX_PENDING_MESSAGES || this.pendingBytes >= MAX_PENDING_BYTES) return "flood";
    this.pendingBytes += plaintext.length;
    this.pending.set(n, plaintext);
    return "kept";
  }

  /** The next phase's plaintext, taken, if it has come. */
  next(): Uint8Array | undefined {
    const next = this.pending.get(this.nextPhase);
    if (!next) return undefined;
    this.pending.delete(this.nextPhase++);
    this.pendingBytes -= next.length;
    return next;
  }
}
