/**
 * CryptoError: the peer's bytes failed an authentication check (a record that does not
 * open, a bad PAKE share, a wrong key confirmation). The message never says why in detail.
 */

export type CryptoErrorCode = "E_AUTH_FAILED" | "E_BAD_POINT" | "E_BAD_NONCE";

export class CryptoError extends Error {
  override name = "CryptoError";
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
