/**
 * Every `code` a `--json` `error` event can carry: the README's list of stable codes ("Error
 * codes", one line each: when, and the exit code). test/unit/json-error-codes.test.ts holds the
 * README's list equal to this one, and fails on any `E_...` code in src/ that is neither here nor
 * among the codes it lists as never reaching an event (wire reasons, handshake drops, protocol
 * errors: they end as E_REJECTED, E_CONNECT or E_CONNECTION). JsonReporter emits no other code: one
 * from elsewhere (a newer or another peer's reason for a file it could not store: RECEIVED may
 * carry any `E_...`) goes out as E_REMOTE, its own code kept in the message.
 */

export const JSON_ERROR_CODES = [
  "E_USAGE",
  "E_NO_CODE",
  // Reaching the peer.
  "E_LISTEN",
  "E_CONNECT_REFUSED",
  "E_CONNECT",
  "E_WRONG_CODE",
  "E_CONNECTION",
  "E_BOTH_RECEIVING",
  // A transfer.
  "E_REJECTED",
  "E_CANCELLED",
  "E_INTERRUPTED",
  "E_BAD_CHECKSUM",
  "E_SIZE_MISMATCH",
  "E_NOT_FOUND",
  "E_NOT_A_FILE",
  "E_UNREADABLE",
  "E_BAD_NAME",
  "E_READ",
  "E_WRITE",
  "E_NO_SPACE",
  "E_TOO_MANY_FOLDERS",
  "E_REMOTE",
  // At the session's end.
  "E_FOLDER_INCOMPLETE",
  "E_COMMAND_INCOMPLETE",
  // The mailbox flow (--relay-url).
  "E_MAILBOX_UNREACHABLE",
  "E_MAILBOX_SILENT",
  "E_MAILBOX_REFUSED",
  "E_MAILBOX_LOST",
  "E_MAILBOX_PROTOCOL",
  "E_NAMEPLATE_UNKNOWN",
  "E_NAMEPLATE_TAKEN",
  "E_PEER_GONE",
  "E_PEER_PROTOCOL",
  "E_RELAY_UNREACHABLE",
  "E_NO_PATH",
  // A plain wormhole client.
  "E_AUTH_FAILED",
  "E_BAD_NONCE",
  "E_PEER_REFUSED",
  "E_UNSUPPORTED_OFFER",
  "E_ONE_FILE",
  "E_NO_OFFER",
  "E_NO_ACK",
  "E_ZIP_CORRUPT",
  "E_ZIP_BAD_NAME",
  "E_ZIP_LINK",
  "E_ZIP_SPECIAL",
  "E_ZIP_ENCRYPTED",
  "E_ZIP_METHOD",
  "E_ZIP_DUPLICATE",
  "E_ZIP_TOO_MANY",
  "E_ZIP_TOO_LARGE",
  "E_ZIP_BOMB",
  "E_ZIP_SIZE",
] as const;

export type JsonErrorCode = (typeof JSON_ERROR_CODES)[number];

const LISTED: ReadonlySet<string> = new Set(JSON_ERROR_CODES);

/** The code an `error` event carries for `code`: itself when listed, else E_REMOTE. */
export function jsonErrorCode(code: string): JsonErrorCode {
  return LISTED.has(code) ? (code as JsonErrorCode) : "E_REMOTE";
}
