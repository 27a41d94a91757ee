/**
 * Failure: why a transfer ended badly, on this side. `reason` is this side's words (it may
 * name local paths: it never leaves this process), `code` the event's stable code, `tell` what
 * the peer is sent (a code and a path-free token), `peer` what the peer said when it ended it.
 */

import { ProtocolError } from "../protocol/errors.ts";
import type { WireReason } from "../protocol/message-types.ts";
import { wireDetail } from "../protocol/messages.ts";
import type { TransferError } from "../transfer/errors.ts";
import type { FailureWhy, OwnReason, PeerReason, SessionEvents, TransferInfo } from "./events.ts";

export interface Failure {
  readonly reason: string;
  readonly code: string;
  readonly tell?: WireReason;
  /** For the CLI's words: what the peer said, or why we ended it. */
  readonly why?: FailureWhy;
}

/** A TransferError as a Failure: its message stays here; the peer gets its code and errno name. */
export function failureOf(err: TransferError): Failure {
  const errno = err.detail ?? (err.cause as { code?: unknown } | undefined)?.code;
  const detail = typeof errno === "string" ? wireDetail(errno) : undefined;
  const reached = err.reached === undefined ? {} : { bytes: err.reached };
  return { reason: err.message, code: err.code, tell: { code: err.code, ...(detail ? { detail } : {}), ...reached } };
}

/**
 * What the peer said, as a Failure: the words are the CLI's (PeerReason), not ours.
 * @param sentBytes - for the peer's CANCEL of a file we send: the bytes we have sent of it, which
 *   bound CANCEL's `bytes` (what reached the receiver's output). Absent: a CANCEL's `bytes` is
 *   dropped (a sender writes nothing to an output of ours).
 * @throws ProtocolError E_BAD_MESSAGE when CANCEL says more reached the output than was sent
 */
export function peerFailure(said: PeerReason["said"], wire: WireReason, code: string, sentBytes?: number): Failure {
  const reached = said === "cancel" && sentBytes !== undefined ? wire.bytes : undefined;
  if (reached !== undefined && sentBytes !== undefined && reached > sentBytes) {
    throw new ProtocolError(
      "E_BAD_MESSAGE",
      `CANCEL says ${reached} bytes reached the receiver's output, more than the ${sentBytes} sent`,
    );
  }
  const why: PeerReason = {
    by: "peer",
    said,
    code: wire.code,
    ...(wire.detail ? { detail: wire.detail } : {}),
    ...(reached !== undefined ? { bytes: reached } : {}),
  };
  return { reason: wire.detail ? `${wire.code} ${wire.detail}` : wire.code, code, why };
}

/**
 * A failure of ours the CLI words (`why`), told to the peer with `tell` (none: not told).
 * @param code - the event's code; `own.code` says why
 */
export function ownFailure(code: string, own: Omit<OwnReason, "by">, tell?: WireReason): Failure {
  const why: OwnReason = { by: "us", ...own };
  return { reason: own.code, code, why, ...(tell ? { tell } : {}) };
}

/**
 * @param held - receiver: bytes of the file it holds (an earlier `.part`'s included). 0 (a
 *   file, not a folder's entry): TransferInfo.nothingKept, so nobody promises that sending it
 *   again resumes it
 */
export function reportFailure(events: SessionEvents, info: TransferInfo, f: Failure, held?: number): void {
  const told = held === 0 && !info.folder ? { ...info, nothingKept: true } : info;
  if (f.why) events.transferFailed(told, f.reason, f.code, f.why);
  else events.transferFailed(told, f.reason, f.code);
}

/** Ids of transfers that ended, kept so late frames for them are known (bounded, oldest dropped). */
export const MAX_REMEMBERED_ENDED = 1024;

/**
 * A socket's error in words, from its OS code: the runtime's own text ("ECONNRESET: connection
 * reset by peer, read") is not for people. Unknown codes keep that text.
 */
export function socketErrorWords(err: Error): string {
  switch ((err as { code?: unknown }).code) {
    case "ECONNRESET":
      return "the peer's side reset it (its program ended without closing it, or something on the way cut it)";
    case "ETIMEDOUT":
      return "it timed out (no answer from the peer's machine)";
    case "EPIPE":
      return "the peer's side had already closed it";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "the peer's network cannot be reached any more";
    default:
      return err.message;
  }
}

/**
 * Why a connection ended without the peer's BYE. Through a transit relay (`via`, the mailbox
 * flow's relay path) the close or reset came from the relay, which passes on the peer's but also
 * makes its own when it goes away: neither side can tell which, so neither blames the peer (both
 * read "the peer closed the connection" when only the relay had stopped).
 */
export function lostWords(error: Error | undefined, via?: { readonly path: string; readonly address: string }): string {
  if (via?.path !== "relay") {
    return error ? socketErrorWords(error) : "the peer closed the connection without saying goodbye";
  }
  const relay = via.address;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error && code !== "ECONNRESET" && code !== "EPIPE")
    return `${socketErrorWords(error)}, through the relay ${relay}`;
  return `the connection through the relay ${relay} ${error ? "was cut" : "closed"} without a goodbye from the peer (the relay or the peer went away)`;
}
