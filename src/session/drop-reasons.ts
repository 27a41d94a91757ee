/**
 * Why a connection was dropped before it became the session, in words for the rendezvous's
 * `dropped` event. A peer's own text never appears here: before the peer is verified only our
 * words reach the user (a refusal code in its BYE is mapped to ours).
 */

import { Refusal, type RefusalCode } from "./handshake.ts";
import type { DriverFailure } from "./handshake-driver.ts";

/** Our words for a refusal code in a peer's BYE (its own text is never shown). */
export const REFUSAL_WORDS: Record<RefusalCode, string> = {
  [Refusal.CodeRequired]: "this listener needs its code, not just the port",
  [Refusal.Busy]: "busy: already connected to a peer",
};

/** Why a handshake failed, in words for the `dropped` event. */
export function failureReason(failure: DriverFailure): string {
  switch (failure.code) {
    case "E_NOT_PARLEY":
      return `not a Parley peer (${failure.detail})`;
    case "E_OWN_PORT":
      return "that is this Parley's own port; enter the peer's";
    case "E_CODE_REQUIRED":
      return "refused: the peer gave the port without the code (this listener needs it)";
    case "E_REFUSED":
      return `the peer refused the connection (${
        failure.refusal ? REFUSAL_WORDS[failure.refusal] : "its reason is not shown before it is verified"
      })`;
    case "E_TOO_MANY_GUESSES":
      return "refused: too many wrong codes already";
    case "E_WRONG_CODE":
      return "wrong code";
    case "E_SILENT":
      return "not a Parley peer (no greeting)";
    case "E_TIMEOUT":
      return "not a Parley peer (no greeting within 5 s)";
    case "E_CLOSED":
      return "closed before the greeting";
    case "E_EVICTED":
      return "dropped to make room for others (it had not finished its greeting)";
  }
}
