/**
 * What a transit race is given (TransitPlan) and gives (TransitResult, TransitError), and the
 * receiver's wait for a relayed "go" (DIRECT_GRACE_MS, HELD_PROOF_BYTES): transit.ts runs it.
 */

import type { Connection } from "./connection.ts";

/** A host and port to try. */
export interface TransitHint {
  readonly host: string;
  readonly port: number;
}

export interface TransitPlan {
  readonly role: "sender" | "receiver";
  /** Our handshake line and the one we expect from the peer. */
  readonly send: Uint8Array;
  readonly expect: Uint8Array;
  /** "please relay ..." for our side. */
  readonly relayHandshake: Uint8Array;
  /** The peer's direct hints. */
  readonly direct: readonly TransitHint[];
  /** Transit relays (ours and the peer's). */
  readonly relays: readonly TransitHint[];
  /** How long to give the direct hints before trying the relays. */
  readonly relayDelayMs: number;
  /** When to give up. */
  readonly timeoutMs: number;
  /**
   * Receiver: how long a "go" on a relayed connection waits for one on a direct connection still
   * in its handshake (default DIRECT_GRACE_MS).
   */
  readonly directGraceMs?: number;
  /**
   * Receiver: whether what followed a relayed "go" begins with a record sealed with the key only
   * the sender holds: true; false for one that does not open (not the sender's); undefined while
   * it is not whole. A held relay "go" followed by such a record is the sender's, and is taken at
   * once: a forger cannot seal one. Reads go on while the "go" is held, up to HELD_PROOF_BYTES.
   */
  readonly senderRecord?: (bytes: Uint8Array) => boolean | undefined;
  /**
   * Receiver, with senderRecord: the sender writes a record right after its "go" (a plain
   * sender's file's first bytes). A held relay "go" then waits for that record, the sender's "go"
   * on a direct connection, or the close of every direct one, never for DIRECT_GRACE_MS alone:
   * a forged "go" is not taken however slow the direct path. Without it (a plain sender's empty
   * file: it sends nothing before our answer) the grace still ends the wait.
   */
  readonly senderWritesFirst?: boolean;
}

/**
 * How long a receiver's "go" on a relayed connection waits while a direct connection is still in
 * its handshake: a relay can forge "go" (see above), the sender's on the direct one comes a round
 * trip after the direct connection stood at most. As long as the relay's own head start
 * (RELAY_DELAY_MS, mailbox-rendezvous.ts): waited only while such a connection stays open and
 * silent, since a sender that chose the relay closes the others.
 */
export const DIRECT_GRACE_MS = 2_000;

/**
 * How much may follow a held relay "go" while senderRecord decides: a first record larger than
 * this (a plain client's are 16 KiB, a Parley's READY a few bytes) is not waited for; reading
 * pauses and the grace decides, as without senderRecord; with senderWritesFirst the grace is not
 * used then either (the direct connection's "go" or the close of every direct one decides).
 */
export const HELD_PROOF_BYTES = 256 * 1024;

export type TransitPath = "direct" | "relay";

export interface TransitResult {
  readonly connection: Connection;
  readonly path: TransitPath;
  /**
   * Where the winning connection goes: the relay's address as named, or the peer's as connected
   * (the socket's far end, not the hint as the peer wrote it).
   */
  readonly address: string;
  /**
   * The peer dialed our listener: `address` is its end of the connection, a port its system
   * picked for this one connection (nothing listens there), not one of its hints.
   */
  readonly dialedIn: boolean;
}

export type TransitErrorCode = "E_RELAY_UNREACHABLE" | "E_NO_PATH";

/** No path to the peer; the message names the relay or the time waited (the CLI says what failed). */
export class TransitError extends Error {
  override name = "TransitError";
  constructor(
    readonly code: TransitErrorCode,
    message: string,
  ) {
    super(message);
  }
}
