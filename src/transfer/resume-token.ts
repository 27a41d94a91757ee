/**
 * Resume tokens: which sender and file an interrupted `.part` belongs to. The sender offers
 * each file with a token that only it can make (an HMAC of the file's absolute path under a
 * secret kept in the user's state folder, 0600); the receiver writes the token into the
 * `.part`'s mark and resumes a `.part` only for an offer with the same token. A stranger
 * offering the same name gets a new file: it learns nothing of the `.part` (no prefix
 * digest), and cannot truncate or delete it.
 *
 * The same file sent again from the same account gets the same token, also after a restart
 * of either side; a changed file at that path too (its prefix digest then differs, and the
 * transfer starts over in its own `.part`).
 */

import { createHmac, randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Token text: 32 lowercase hex characters (128 bits). */
export const RESUME_TOKEN_PATTERN = /^[0-9a-f]{32}$/;
const SECRET_BYTES = 32;

let secret: Buffer | undefined;
/** The stat of the secret's file as it was read (undefined: made now, or kept in memory only). */
let secretStat: { readonly mode: number; readonly uid: number } | undefined;

/** Where the secret lives: $XDG_STATE_HOME/parley or ~/.local/state/parley. */
function secretPath(): string {
  const state = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(state, "parley", "resume-secret");
}

/**
 * This account's secret, made on first use. Where it cannot be stored, one for this process
 * only (resuming then works until the process ends).
 */
function resumeSecret(): Buffer {
  if (secret) return secret;
  const path = secretPath();
  try {
    const fd = openSync(path, "r");
    try {
      const bytes = Buffer.alloc(SECRET_BYTES + 1);
      const length = readSync(fd, bytes, 0, bytes.length, 0);
      if (length === SECRET_BYTES) {
        secretStat = fstatSync(fd);
        secret = bytes.subarray(0, SECRET_BYTES);
        return secret;
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not made yet (or unreadable): make one below.
  }
  secret = randomBytes(SECRET_BYTES);
  try {
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, secret);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Another process made it meanwhile: use theirs, so that both give the same tokens.
    try {
      const theirs = readFileSync(path);
      if (theirs.length === SECRET_BYTES) secret = theirs;
    } catch {
      // Cannot be stored: this process's own secret stands.
    }
  }
  return secret;
}

/**
 * The secret's file and its mode and owner as read, for the CLI's warning when other users
 * can read it (they could make this account's tokens) or change it; reads (or makes) the
 * secret. Undefined when the secret was made now (0600) or cannot be stored.
 */
export function resumeSecretFile(): { path: string; mode: number; uid: number } | undefined {
  resumeSecret();
  return secretStat && { path: secretPath(), mode: secretStat.mode, uid: secretStat.uid };
}

/** The token this account offers `path` with (see the header). */
export function resumeTokenFor(path: string): string {
  return createHmac("sha256", resumeSecret())
    .update(`parley/v1/resume-token\0${resolve(path)}`)
    .digest("hex")
    .slice(0, 32);
}
