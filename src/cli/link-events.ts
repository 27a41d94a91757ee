/**
 * What the link does with its rendezvous' events (connect.ts's PeerLink makes the rendezvous with
 * them once the session layer has loaded, after the code is shown, and loads this with it): a
 * session begun goes to the link, which keeps it or ends it; a connection dropped at our listener
 * is a line (drop-lines.ts keeps a flood to a few), one we dialed gives the dial's failure its
 * words (drop-words.ts); a wrong code is said, and the wrong-code policy applied: as the dialer the
 * run ends unless the command lets the user try again, and at our listener the MAX_WRONG_CODES-th
 * stops it, so that the code cannot be guessed.
 */

import type { DropReason, MetPath, RendezvousEvents, Session } from "../session/index.ts";
import { MAX_WRONG_CODES } from "../session/limits.ts";
import { DropLines } from "./drop-lines.ts";
import { dropWords } from "./drop-words.ts";
import { EXIT_CONNECTION } from "./exit-codes.ts";

/** The link, as its rendezvous' events reach it (PeerLink). */
export interface EventsLink {
  /** A one-line notice (LinkOutput.note). */
  note(line: string): void;
  /** A failure with a stable code (LinkOutput.error). */
  error(code: string, message: string): void;
  /** A failed dial or a wrong code as the dialer: true lets the user try again; false ends the run. */
  readonly dialerRetries: boolean;
  /** A session is open (a wrong code at our listener then stops nothing). */
  hasSession(): boolean;
  /** A session began (RendezvousEvents.connected). */
  began(session: Session, via?: MetPath): void;
  /** A connection we dialed was dropped, `words` saying why (the dial says it, once). */
  dialDropped(words: string): void;
  stopListening(): void;
  /** Ends the run with `code`. */
  finish(code: number): void;
}

export class LinkEvents implements RendezvousEvents {
  /** The dropped-connection lines of our listener. */
  private readonly drops: DropLines;

  constructor(private readonly link: EventsLink) {
    this.drops = new DropLines((line) => link.note(line));
  }

  connected(session: Session, via?: MetPath): void {
    this.link.began(session, via);
  }

  dropped(address: string, reason: DropReason, dialed: boolean): void {
    if (dialed) this.link.dialDropped(dropWords(reason));
    else this.drops.dropped(address, dropWords(reason));
  }

  wrongCode(address: string, side: "dialer" | "listener", attempts: number): void {
    const { link } = this;
    if (side === "dialer") {
      link.error("E_WRONG_CODE", "wrong code: the peer's Parley did not accept it");
      if (!link.dialerRetries) link.finish(EXIT_CONNECTION);
      return;
    }
    // Still waiting for a peer, with guesses left: what to do (newuser30: the line said none). A
    // dial while a peer is connected is a stranger's (its line alone); the last guess gets the error.
    const next =
      attempts < MAX_WRONG_CODES && !link.hasSession()
        ? "; still listening with the same code: if that was your peer, ask them to check it and type it again"
        : "";
    link.note(
      `Wrong code from ${address} (${attempts} of ${MAX_WRONG_CODES}): no chat or file data was exchanged${next}.`,
    );
    if (attempts >= MAX_WRONG_CODES && !link.hasSession()) {
      link.stopListening();
      link.error(
        "E_WRONG_CODE",
        `${MAX_WRONG_CODES} wrong codes: stopped listening, so that the code cannot be guessed`,
      );
      link.finish(EXIT_CONNECTION);
    }
  }

  /** The run ended: a summary still owed is said now. */
  close(): void {
    this.drops.close();
  }
}
