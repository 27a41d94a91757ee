/**
 * ProtocolError: the peer sent bytes that break the wire protocol. The connection that carried
 * them is closed; the process goes on.
 */

export type ProtocolErrorCode =
  | "E_FRAME_TOO_LARGE"
  | "E_FRAME_TOO_SMALL"
  | "E_UNKNOWN_TYPE"
  | "E_BAD_MESSAGE"
  | "E_UNEXPECTED"
  | "E_VERSION";

export class ProtocolError extends Error {
  override name = "ProtocolError";
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
