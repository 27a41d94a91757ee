/**
 * Why a connection was dropped before it became the session, as a code with what the words
 * need (cli/drop-words.ts words them). A peer's own text never appears here: before the peer
 * is picked only a refusal code from its BYE is kept.
 */

import type { RefusalCode } from "./handshake.ts";
import type { DriverFailure } from "./handshake-driver.ts";

export type DropReason =
  /** The handshake failed (a code of the pure handshake or of its driver). */
  | DriverFailure
  /** A frame broke the protocol before the connection was picked (our own message). */
  | { readonly code: "E_PROTOCOL"; readonly detail: string }
  /** A candidate that never answered our greeting (no READY). */
  | { readonly code: "E_NO_ANSWER" }
  /** An unverified candidate gave way to a peer verified by the code. */
  | { readonly code: "E_DISPLACED" }
  /** A candidate sent BYE before it was picked (a known refusal code, or none). */
  | { readonly code: "E_WITHDRAWN"; readonly refusal: RefusalCode | undefined }
  /** We refused it: already connected to a peer. */
  | { readonly code: "E_BUSY" };

/** A refusal code in a peer's BYE, if it is one we know (its other text is never kept). */
export function knownRefusal(reason: string, known: readonly RefusalCode[]): RefusalCode | undefined {
  return known.find((code) => code === reason);
}
