/** NetError: a socket-level failure (dial refused, connection closed), with a stable code. */

export type NetErrorCode = "E_CONNECT_REFUSED" | "E_CONNECT" | "E_CLOSED" | "E_LISTEN";

export class NetError extends Error {
  override name = "NetError";
  constructor(
    readonly code: NetErrorCode,
    message: string,
    options?: ErrorOptions,
    /** Why, without the address (a dial's: "no answer within 5 s"), where the message says one. */
    readonly reason?: string,
  ) {
    super(message, options);
  }
}
