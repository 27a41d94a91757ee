/**
 * The environment's settings for the layers below the CLI, which read no environment of their
 * own (DESIGN.md's layers; layering.test): read from the command's `io.env` and handed down.
 *
 *   PARLEY_CRYPTO_BACKEND=libcrypto|node   crypto/backend-choice.ts (records, transit's SecretBox)
 *   PARLEY_XXH3_BACKEND=node-rs            transfer/xxh3-native.ts (file digests)
 *   XDG_STATE_HOME                         transfer/resume-token.ts (the resume secret's folder)
 *
 * Applied with the session layer (PeerLink's load, before the first record, digest or token of
 * a session or the warm-up); send reads the resume secret before its code is shown, and hands
 * XDG_STATE_HOME down there itself (send-plan.ts resumeSecretWarning), without the rest.
 */

import { type CryptoBackendChoice, useCryptoBackend } from "../crypto/backend-choice.ts";
import { useStateFolder } from "../transfer/resume-token.ts";
import { useXxh3Backend } from "../transfer/xxh3-native.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** PARLEY_CRYPTO_BACKEND's choice; anything else (unset, a typo): the defaults, as before. */
function cryptoBackendOf(env: Env): CryptoBackendChoice | undefined {
  const value = env.PARLEY_CRYPTO_BACKEND;
  return value === "libcrypto" || value === "node" ? value : undefined;
}

/** Hands the environment's settings to the layers below (see the header). */
export function applyEnvSettings(env: Env): void {
  useCryptoBackend(cryptoBackendOf(env));
  useXxh3Backend(env.PARLEY_XXH3_BACKEND === "node-rs" ? "node-rs" : undefined);
  useStateFolder(env.XDG_STATE_HOME);
}
