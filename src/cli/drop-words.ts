/**
 * Words for why a connection was dropped before it became the session (the rendezvous gives
 * a code, see session/drop-reasons.ts). A peer's own text is never shown: a refusal code from
 * its BYE is worded here, anything else it said is not kept.
 */

import type { DropReason } from "../session/index.ts";

/** Our words for a refusal code in a peer's BYE. */
const REFUSAL_WORDS: Readonly<Record<string, string>> = {
  E_CODE_REQUIRED: "this listener needs its code, not just the port",
  E_BUSY: "busy: already connected to a peer",
};

export function dropWords(reason: DropReason): string {
  switch (reason.code) {
    case "E_NOT_PARLEY":
      return `not a Parley peer (${reason.detail})`;
    case "E_OWN_PORT":
      return "that is this Parley's own port; enter the peer's";
    case "E_CODE_REQUIRED":
      return "refused: the peer gave the port without the code (this listener needs it)";
    case "E_REFUSED":
      return `the peer refused the connection (${
        reason.refusal ? REFUSAL_WORDS[reason.refusal] : "its reason is not shown before it is verified"
      })`;
    case "E_TOO_MANY_GUESSES":
      return "refused: too many wrong codes already";
    case "E_WRONG_CODE":
      return "wrong code";
    case "E_SILENT":
      return "not a Parley peer (no greeting)";
    case "E_TIMEOUT":
      return "its greeting did not finish within 5 s (not a Parley peer, or one too slow to answer: a busy machine)";
    case "E_CLOSED":
      return "closed before the greeting";
    case "E_EVICTED":
      return "dropped to make room for others (it had not finished its greeting)";
    case "E_PROTOCOL":
      return reason.detail;
    case "E_NO_ANSWER":
      return "no answer to the greeting";
    case "E_DISPLACED":
      return "dropped: a peer verified by the code came in, and this one was not verified";
    case "E_WITHDRAWN":
      return `the peer refused the connection (${reason.refusal ? REFUSAL_WORDS[reason.refusal] : "no reason shown"})`;
    case "E_BUSY":
      return "refused: already connected to a peer";
  }
}
