/**
 * Which crypto code this process uses where there is a choice, as the user asked: the CLI reads
 * PARLEY_CRYPTO_BACKEND and hands it down (cli/env-settings.ts; no layer below the CLI reads the
 * environment). "libcrypto" seals and opens records through OpenSSL where it loads (aes-gcm.ts);
 * "node" keeps every cipher in the packaged code (node:crypto for records, @noble for transit's
 * SecretBox: secretbox.ts); none, each one's default. A diagnostic and benchmark switch, set
 * before the first record.
 */

export type CryptoBackendChoice = "libcrypto" | "node";

let chosen: CryptoBackendChoice | undefined;

/** @param choice - the backend asked for; undefined: the defaults */
export function useCryptoBackend(choice: CryptoBackendChoice | undefined): void {
  chosen = choice;
}

/** The backend asked for (useCryptoBackend), if any. */
export function cryptoBackendChoice(): CryptoBackendChoice | undefined {
  return chosen;
}
