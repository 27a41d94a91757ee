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

import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { isNoHardLinksErrno, osReason } from "./errors.ts";

type NodeCrypto = typeof import("node:crypto");

/**
 * node:crypto, loaded when a secret is made or a token is computed: `parley send` reads a stored
 * secret's mode before its code is shown (resumeSecretFile) without it (loading node:crypto cost
 * that start-up 9-21 ms).
 */
function nodeCrypto(): NodeCrypto {
  loadedCrypto ??= require("node:crypto") as NodeCrypto;
  return loadedCrypto;
}
let loadedCrypto: NodeCrypto | undefined;

const SECRET_BYTES = 32;

let secret: Buffer | undefined;
/** The stat of the secret's file as it was read (undefined: made now, or kept in memory only). */
let secretStat: { readonly mode: number; readonly uid: number } | undefined;
/**
 * Why the secret could be neither read nor stored (the OS's words), when it is this process's
 * only: a state folder not writable by this user (a read-only home; one `sudo parley` left
 * root's). Root never meets it, reading and writing anything: so it went unsaid.
 */
let unstoredBecause: string | undefined;

/** The user's state folder (useStateFolder); undefined: ~/.local/state. */
let stateFolder: string | undefined;

/**
 * Where this account keeps its state, as the user said: the CLI reads XDG_STATE_HOME and hands
 * it down (cli/env-settings.ts; no layer below the CLI reads the environment). Set before the
 * secret is first read: it is read once a process.
 * A relative one is ignored, as the XDG Base Directory spec says: it named a folder under
 * wherever the run started, so a script run from another folder had another secret and resumed
 * nothing (newuser31: `XDG_STATE_HOME=state`, the checkout not writable, the secret unstored).
 * @param folder - an absolute folder; undefined, "" or relative: ~/.local/state
 */
export function useStateFolder(folder: string | undefined): void {
  stateFolder = folder && isAbsolute(folder) ? folder : undefined;
}

/** Where the secret lives: $XDG_STATE_HOME/parley or ~/.local/state/parley. */
function secretPath(): string {
  const state = stateFolder ?? join(homedir(), ".local", "state");
  return join(state, "parley", "resume-secret");
}

/**
 * This account's secret, made on first use. Where it cannot be stored, one for this process
 * only (resuming then works until the process ends). It is written whole under a temporary
 * name and then linked to its own, so a run that dies or finds the disk full meanwhile never
 * leaves a short secret; one found of another length anyway (an older version's) is replaced:
 * kept, it made every later run use a secret of its own, and nothing resumed again.
 */
function resumeSecret(): Buffer {
  if (secret) return secret;
  const path = secretPath();
  const found = readSecret(path);
  if (found && found !== "wrong-length") {
    secretStat = found.stat;
    secret = found.bytes;
    return secret;
  }
  secret = nodeCrypto().randomBytes(SECRET_BYTES);
  const temp = `${path}.${process.pid}.new`;
  let madeFailure: unknown;
  try {
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    const fd = openSync(temp, "wx", 0o600);
    try {
      for (let done = 0; done < SECRET_BYTES; ) done += writeSync(fd, secret, done);
    } finally {
      closeSync(fd);
    }
    if (found === "wrong-length") renameSync(temp, path);
    else linkOrRename(temp, path); // EEXIST: another process made it meanwhile
  } catch (err) {
    // Made meanwhile (EEXIST), or cannot be stored: read below.
    madeFailure = err;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed, or never made.
    }
  }
  // What is there now, so that processes racing to make it give the same tokens.
  let readFailure: unknown;
  const now = readSecret(path, (err) => {
    readFailure = err;
  });
  if (now && now !== "wrong-length") {
    secret = now.bytes;
    return secret;
  }
  // Neither read nor stored: this process's own. Making it says why, unless all it met was a
  // file there already (then reading that says why).
  const made = (madeFailure as { code?: string } | undefined)?.code;
  unstoredBecause = osReason(made !== undefined && made !== "EEXIST" ? madeFailure : (readFailure ?? madeFailure));
  return secret;
}

/** link(2), which never replaces; where the file system has no hard links, rename (the name still free). */
function linkOrRename(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (err) {
    if (!isNoHardLinksErrno((err as { code?: string }).code)) throw err;
    if (readSecret(path) === undefined) renameSync(temp, path);
  }
}

/**
 * The secret in `path`, "wrong-length" when the file holds another length, undefined when it
 * cannot be read (`failed` is told why).
 */
function readSecret(
  path: string,
  failed?: (err: unknown) => void,
): { bytes: Buffer; stat: { mode: number; uid: number } } | "wrong-length" | undefined {
  try {
    const fd = openSync(path, "r");
    try {
      const bytes = Buffer.alloc(SECRET_BYTES + 1);
      const length = readSync(fd, bytes, 0, bytes.length, 0);
      if (length !== SECRET_BYTES) return "wrong-length";
      return { bytes: bytes.subarray(0, SECRET_BYTES), stat: fstatSync(fd) };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    failed?.(err);
    return undefined;
  }
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

/**
 * Where the secret should be and why it is this process's only (it could be neither read nor
 * stored there: a transfer cut short resumes only while this process runs), else undefined.
 * Reads (or makes) the secret.
 */
export function resumeSecretUnstored(): { path: string; reason: string } | undefined {
  resumeSecret();
  return unstoredBecause === undefined ? undefined : { path: secretPath(), reason: unstoredBecause };
}

/**
 * Runs `fn` with a secret made now and never stored, the one loaded before (if any) back
 * after: the tokens made meanwhile match no `.part`, and no secret is read or written in the
 * state folder (the CLI's warm-up sends a file of its own before any real send).
 */
export function withThrowawaySecret<T>(fn: () => T): T {
  const kept = secret;
  secret = nodeCrypto().randomBytes(SECRET_BYTES);
  try {
    return fn();
  } finally {
    secret = kept;
  }
}

/**
 * The token this account offers `path` with (see the header): 32 lowercase hex characters (128
 * bits), as an OFFER's token must be (protocol/messages.ts).
 */
export function resumeTokenFor(path: string): string {
  return nodeCrypto()
    .createHmac("sha256", resumeSecret())
    .update(`parley/v1/resume-token\0${resolve(path)}`)
    .digest("hex")
    .slice(0, 32);
}
