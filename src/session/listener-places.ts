/**
 * Our listener's accepted connections while their handshakes run: the places they hold (which
 * one gives its place up: admission.ts) and the listener's budget of guesses at the code. Each
 * key share tried against the code counts as a guess, one that proves right is given back, and
 * after MAX_WRONG_CODES wrong ones no share is tried and no connection is accepted: guessing
 * the code must be hopeless. The rendezvous runs the handshakes and reports.
 */

import { type Arrival as AdmissionArrival, silentToDrop, spokenToDrop } from "./admission.ts";
import type { DrivenHandshake } from "./handshake-driver.ts";
import { MAX_WRONG_CODES } from "./limits.ts";

/** An accepted connection whose handshake is under way. */
export interface Arrival extends AdmissionArrival {
  driven?: DrivenHandshake;
}

export class ListenerPlaces {
  /** Accepted connections in their handshake, oldest first (a Set keeps insertion order). */
  private readonly arrivals = new Set<Arrival>();
  private wrong = 0;

  /** Well-formed handshakes at our listener that failed key confirmation (a wrong code). */
  get wrongCodes(): number {
    return this.wrong;
  }

  /**
   * A connection from `host` was accepted: its place (a silent one may be evicted to make room),
   * or undefined when the guesses are spent and it is to be closed at once.
   */
  arrived(host: string): Arrival | undefined {
    if (this.wrong >= MAX_WRONG_CODES) return undefined;
    silentToDrop(this.arrivals, host)?.driven?.evict();
    const arrival: Arrival = { host, spoke: false, guessing: false };
    this.arrivals.add(arrival);
    return arrival;
  }

  /** An accepted connection spoke: it takes one of the handshake places. */
  spoke(arrival: Arrival): void {
    arrival.spoke = true;
    spokenToDrop(this.arrivals, arrival)?.driven?.evict();
  }

  /** Its key share is about to be tried against our code: false when no guess is left. */
  mayGuess(arrival: Arrival): boolean {
    if (this.wrong >= MAX_WRONG_CODES) return false;
    this.wrong++;
    arrival.guessing = true;
    return true;
  }

  /** Its handshake ended; `ok`: with the right code, so its share was not a wrong guess after all. */
  ended(arrival: Arrival, ok: boolean): void {
    this.arrivals.delete(arrival);
    if (ok && arrival.guessing) this.wrong--;
  }
}
