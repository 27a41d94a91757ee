/**
 * How a Wormhole (wormhole.ts) tries a lost mailbox connection again: for how long, the pauses
 * between tries, who hears of each loss and return (the error once the time is up:
 * mailbox-life-errors.ts).
 */

/** How long a lost mailbox connection is tried again before the meeting fails (5 minutes). */
export const MAILBOX_RETRY_MS = 5 * 60_000;
/** The pause before the second try; each later pause doubles, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 250;
export const RETRY_MAX_MS = 5_000;

/**
 * A loss of the mailbox connection (`connected: false`: it is opened again for up to `withinMs`
 * more, once per loss: the whole time, or what is left of an outage whose connection came back
 * only briefly), or its return (`connected: true`: a new connection is open and the client has
 * picked up).
 */
export type MailboxLinkChange = { readonly connected: false; readonly withinMs: number } | { readonly connected: true };

/** Hears each loss and return of the mailbox connection. */
export type MailboxLinkListener = (change: MailboxLinkChange) => void;

/** What a Wormhole does when its connection is lost (see wormhole.ts's module comment). */
export interface WormholeRetry {
  /** How long to keep trying (0: fail at once, as before): MAILBOX_RETRY_MS when not given, and at most. */
  readonly withinMs?: number;
  /**
   * The longest pause between tries, ms (for tests): RETRY_MAX_MS when not given, and at most; the
   * first pause is a twentieth of it (RETRY_FIRST_MS of RETRY_MAX_MS), each later one double the last.
   */
  readonly longestPauseMs?: number;
  /**
   * Hears each loss and return from the first connection on (a loss can come before open()
   * resolves); the same list as onConnectedChange's.
   */
  readonly listener?: MailboxLinkListener;
}

/**
 * The pause after `pause` (0: the first try was at once), pauses growing to `longest` (a test's
 * shorter RETRY_MAX_MS: the first is as much shorter).
 */
export const nextPause = (pause: number, longest = RETRY_MAX_MS): number =>
  pause === 0 ? (RETRY_FIRST_MS * longest) / RETRY_MAX_MS : Math.min(pause * 2, longest);

/** WormholeRetry.longestPauseMs as used: RETRY_MAX_MS when not given, never longer (nor under 20 ms). */
export const longestPause = (ms?: number): number =>
  ms === undefined || !(ms > 0) ? RETRY_MAX_MS : Math.min(Math.max(ms, 20), RETRY_MAX_MS);
