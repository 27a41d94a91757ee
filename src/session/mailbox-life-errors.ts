/**
 * How the mailbox connection's life ends, in words (mailbox-life.ts decides when): a loss not
 * tried again, a server that broke the protocol, a silence on a connection the server welcomed,
 * and an outage whose time ran out, back never or only silent. Each is a WormholeError whose code
 * the CLI branches on (E_MAILBOX_LOST, E_MAILBOX_SILENT, E_MAILBOX_PROTOCOL); the words name the
 * server, what it did not answer and for how long it was tried.
 */

import { secondsWords } from "./mailbox-deadline.ts";
import { WormholeError } from "./mailbox-input.ts";

/** What the words need of the life's options (LifeOptions). */
export interface MailboxTerms {
  /** The mailbox server's URL. */
  readonly url: string;
  /** How long the server has to answer, ms. */
  readonly answerMs: number;
  /** How long a lost connection is tried again, ms. */
  readonly withinMs: number;
}

/** What an outage saw, as far as its words go (mailbox-life.ts's Outage). */
export interface OutageWords {
  /** What went unanswered when the connection was lost to a silence ("our claim of the code's number"). */
  readonly silence: string | undefined;
  /** The server answered something, on some connection. */
  readonly answered: boolean;
  /** Connections back that the server welcomed and left silent, in a row. */
  readonly silentBacks: number;
}

/** A loss not tried again (none allowed, or the mailbox no longer needed). */
export function lostError(): WormholeError {
  return new WormholeError("E_MAILBOX_LOST", "the connection to the mailbox was lost");
}

/** We closed the connection: the server broke the protocol (`words`, what it sent). Never tried again. */
export function brokenError(words: string): WormholeError {
  return new WormholeError("E_MAILBOX_PROTOCOL", words);
}

/**
 * A silence on a connection the server welcomed and has not answered all on.
 * @param outage - the outage it came back in; undefined: the first connection
 * @param words - what went unanswered on it ("with a code")
 */
export function silentError(terms: MailboxTerms, outage: OutageWords | undefined, words: string): WormholeError {
  const { url, answerMs } = terms;
  let message: string;
  // This connection and the ones back before it that were welcomed and silent too (SILENT_BACKS).
  const backs = (outage?.silentBacks ?? 0) + 1;
  const connections = backs === 1 ? "a new connection" : `${backs} new connections`;
  if (!outage?.answered)
    message = `${url} welcomed us but ${didNotAnswer(words, answerMs)}`; // never answered anything
  else if (outage.silence === undefined) {
    message = `${url} welcomed us again but ${didNotAnswer(words, answerMs)}${backs === 1 ? "" : `, on ${connections}`}`;
  } else {
    // Silent, and again on each connection back: both said.
    const again = outage.silence === words ? "" : `${words} `;
    message = `${url} ${didNotAnswer(outage.silence, answerMs)}, nor ${again}on ${connections} it welcomed`;
  }
  return new WormholeError("E_MAILBOX_SILENT", message);
}

/** The outage's time is up: back never, or only silent. */
export function gaveUp(terms: MailboxTerms, outage: OutageWords): WormholeError {
  const { url, answerMs, withinMs } = terms;
  return outage.silence === undefined
    ? notBackWithin(withinMs)
    : silentWithin(url, didNotAnswer(outage.silence, answerMs), withinMs);
}

/** "did not answer WORDS within 10 s". */
function didNotAnswer(words: string, answerMs: number): string {
  return `did not answer ${words} within ${secondsWords(answerMs)}`;
}

/** Tried again for `withinMs` without the connection's return. */
function notBackWithin(withinMs: number): WormholeError {
  return new WormholeError(
    "E_MAILBOX_LOST",
    `the connection to the mailbox was lost and not back within ${secondsWords(withinMs)}`,
    {
      lost: { retriedMs: withinMs },
    },
  );
}

/**
 * Tried again for `withinMs`, each connection back silent: `silence` says what the server did not
 * answer ("did not answer our claim of the code's number within 10 s").
 */
function silentWithin(url: string, silence: string, withinMs: number): WormholeError {
  return new WormholeError(
    "E_MAILBOX_SILENT",
    `${url} ${silence}; reconnecting for ${secondsWords(withinMs)} did not help`,
  );
}
