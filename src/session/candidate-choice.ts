/**
 * Which handshaken connection becomes the session, as pure rules (no sockets, no timers): a
 * connection verified by the code always beats an unverified one (--insecure-port-only);
 * among equals the leader keeps the connection it dialed, else one it accepted.
 */

import type { Security } from "./handshake.ts";

export interface Choosable {
  readonly security: Security;
  readonly origin: "dialed" | "accepted";
}

/** The leader's pick among the candidates it leads (at least one). */
export function pickCandidate<T extends Choosable>(leading: readonly T[]): T {
  const rank = (c: Choosable): number => (c.security.mode === "code" ? 2 : 0) + (c.origin === "dialed" ? 1 : 0);
  return leading.reduce((best, c) => (rank(c) > rank(best) ? c : best));
}

/** A newcomer from another peer while `held` waits: it displaces `held` only when it is verified and `held` is not. */
export function displaces(newcomer: Security, held: Security): boolean {
  return newcomer.mode === "code" && held.mode === "port";
}

/** An unverified leader's READY waits while a dial of ours with the code is under way. */
export function holdsReady(candidate: Security, verifiedDialsInProgress: number): boolean {
  return candidate.mode === "port" && verifiedDialsInProgress > 0;
}
