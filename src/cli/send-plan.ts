/**
 * What `transfer <paths...>` and `parley send <paths...>` offer: files as they are, folders
 * walked into their files and empty directories (each tagged with its place in the folder),
 * `-` as standard input.
 */

import { statSync } from "node:fs";
import type { FolderEntry } from "../protocol/index.ts";
import { MAX_PATH_DEPTH } from "../protocol/message-types.ts";
import type { Session } from "../session/index.ts";
import { TransferError } from "../transfer/errors.ts";
import type * as FolderWalk from "../transfer/folder-walk.ts";
import type { FileId, FolderListing, NamesRead, SkipKind, SkippedEntry } from "../transfer/folder-walk.ts";
import { checkReadableFile } from "../transfer/readable-file.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { secretFileWarning } from "./secret-files.ts";

export type PlannedSend =
  | { readonly kind: "file"; readonly path: string; readonly folder?: FolderEntry; readonly listed?: FileId }
  | { readonly kind: "dir"; readonly folder: FolderEntry }
  | { readonly kind: "stdin"; readonly name: string };

export interface SendPlan {
  readonly sends: readonly PlannedSend[];
  /** Per folder: its name, entries and bytes, for one line each. */
  readonly folders: ReadonlyArray<{ readonly root: string; readonly entries: number; readonly bytes: number }>;
  /** Folder members left out (symbolic links, special files), their paths starting with the folder's name. */
  readonly skipped: readonly SkippedEntry[];
}

/** The folder walker (node:path, node:fs/promises), loaded when a folder is named: `send FILE`'s start-up does without it. */
function folderWalk(): typeof FolderWalk {
  return require("../transfer/folder-walk.ts") as typeof FolderWalk;
}

/**
 * Paths of one command that cannot be sent (missing, unreadable, not UTF-8...): the whole
 * command is refused and nothing is sent, so the peer never gets part of what was asked.
 */
export class UnsendablePaths extends Error {
  override name = "UnsendablePaths";
  constructor(readonly problems: readonly TransferError[]) {
    super(problems.map((p) => p.message).join("; "));
  }
}

/** Said after UnsendablePaths' errors when the command also named paths that could be sent. */
export const NOTHING_SENT =
  "Nothing was sent: a command sends all of its paths or none (fix the ones above and try again).";

let resumeSecretChecked = false;

/**
 * Once per process, before the first send: the warning line when other users can read or
 * change the resume secret (who reads it can make this account's resume tokens, and so
 * resume into, or learn the digest of, its interrupted transfers), else undefined.
 * @param env - the command's environment, where the session layer has not loaded yet (send: its
 *   load hands XDG_STATE_HOME down otherwise, env-settings.ts)
 */
export function resumeSecretWarning(env?: Readonly<Record<string, string | undefined>>): string | undefined {
  if (resumeSecretChecked) return undefined;
  resumeSecretChecked = true;
  const { resumeSecretFile, resumeSecretUnstored, useStateFolder } =
    require("../transfer/resume-token.ts") as typeof import("../transfer/resume-token.ts");
  if (env) useStateFolder(env.XDG_STATE_HOME);
  const unstored = resumeSecretUnstored();
  if (unstored) return unstoredSecretWarning(unstored.path, unstored.reason);
  const file = resumeSecretFile();
  if (!file) return undefined;
  return secretFileWarning(`the resume secret ${file.path}`, file.path, file, process.getuid?.());
}

/**
 * Whether a file this process sends and sees cut short resumes when sent again later: not when the
 * resume secret could be neither read nor stored (resumeSecretUnstored: the next run has a secret
 * of its own). Only asked once a file of ours was offered, so the secret is loaded by then.
 */
export function resumeSecretKept(): boolean {
  const { resumeSecretUnstored } =
    require("../transfer/resume-token.ts") as typeof import("../transfer/resume-token.ts");
  return resumeSecretUnstored() === undefined;
}

/**
 * The line for a resume secret that could be neither read nor stored at `path` (a read-only
 * home, a state folder one `sudo parley` left root's): the lines saying "sending it again
 * resumes it" hold only within this run then.
 */
export function unstoredSecretWarning(path: string, reason: string): string {
  const folder = sanitizeForTerminal(path.slice(0, path.lastIndexOf("/")) || "/");
  return `Warning: the resume secret cannot be read or stored in ${folder} (${reason}): a file cut short resumes only if sent again before this run ends; make that folder yours and writable, or set XDG_STATE_HOME to a folder of your own.`;
}

/** Folder transfer ids, unique within this process (one session per process). */
let nextGroup = 1;

/**
 * Every path is looked at, so one refusal names each path that cannot be sent.
 * @param stdinName - the name standard input (`-`) is sent under
 * @param listed - folders already walked (listFoldersSoon); the others are walked here
 * @throws UnsendablePaths for paths that are missing, unreadable, or neither a file nor a folder
 */
export function planSends(paths: readonly string[], stdinName: string, listed?: FolderListings): SendPlan {
  const sends: PlannedSend[] = [];
  const folders: Array<{ root: string; entries: number; bytes: number }> = [];
  const skipped: SkippedEntry[] = [];
  const problems: TransferError[] = [];
  for (const path of paths) {
    if (path === "-") {
      sends.push({ kind: "stdin", name: stdinName });
      continue;
    }
    if (path === "") {
      // It would resolve to the current folder: "no such file: /the/current/folder" misleads.
      problems.push(new TransferError("E_NOT_FOUND", 'an empty name ("") is not a path'));
      continue;
    }
    if (!isDirectory(path)) {
      try {
        checkReadableFile(path);
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        problems.push(err);
      }
      sends.push({ kind: "file", path });
      continue;
    }
    let listing: FolderListing;
    try {
      const walked = listed?.get(path);
      if (walked instanceof TransferError) throw walked;
      listing = walked ?? folderWalk().walkFolder(path, MAX_PATH_DEPTH);
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      problems.push(err);
      continue;
    }
    const group = nextGroup++;
    const entries = listing.items.length;
    folders.push({ root: listing.root, entries, bytes: listing.bytes });
    skipped.push(...listing.skipped.map((s) => ({ ...s, rel: `${listing.root}/${s.rel}` })));
    for (const item of listing.items) {
      const folder: FolderEntry = {
        group,
        root: listing.root,
        path: item.rel,
        entries,
        bytes: listing.bytes,
        ...(item.kind === "dir" ? { dir: true } : {}),
      };
      if (item.kind === "dir") sends.push({ kind: "dir", folder });
      else sends.push({ kind: "file", path: item.path, folder, ...(item.id ? { listed: item.id } : {}) });
    }
  }
  if (problems.length > 0) throw new UnsendablePaths(problems);
  return { sends, folders, skipped };
}

/** Folders walked ahead of planSends: each listing, or why it could not be made. */
export type FolderListings = ReadonlyMap<string, FolderListing | TransferError>;

/**
 * Walks the folders among `paths` a slice at a time (walkFolderSoon), so the chat goes on while
 * a big one is listed; planSends then plans with them.
 * @param listing - told between slices: the folder's path and the entries listed so far, and
 *   while a directory's names are read or sorted, which (walkFolderSoon)
 * @param now - the slices' clock, milliseconds (walkFolderSoon)
 */
export async function listFoldersSoon(
  paths: readonly string[],
  listing: (path: string, entries: number, reading?: NamesRead) => void,
  now?: () => number,
): Promise<FolderListings> {
  const listed = new Map<string, FolderListing | TransferError>();
  for (const path of paths) {
    if (listed.has(path) || !namesFolder(path)) continue;
    try {
      listed.set(
        path,
        await folderWalk().walkFolderSoon(
          path,
          (entries, reading) => listing(path, entries, reading),
          now,
          MAX_PATH_DEPTH,
        ),
      );
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      listed.set(path, err);
    }
  }
  return listed;
}

/** True when `paths` names a folder (a walk to wait for). */
export function namesAFolder(paths: readonly string[]): boolean {
  return paths.some(namesFolder);
}

const SKIP_WORDS: Record<SkipKind, string> = {
  link: "a symbolic link (links are not followed)",
  fifo: "a named pipe (FIFO), not a file",
  socket: "a socket, not a file",
  device: "a device, not a file",
  name: "its name is not UTF-8 text, so it cannot be named to the peer",
  gone: "it was gone before it could be sent",
  unreadable: "unreadable, or no longer a file",
  "unreadable-folder": "a folder this user cannot read: left out with all it holds",
  backslash: "its name holds a backslash, which the peer would take for a folder",
  deep: `its entries would be more than ${MAX_PATH_DEPTH} folders deep, more than an offer names: left out with all it holds`,
  "long-path": "its path is longer than this system can open (ENAMETOOLONG), so it is left out",
};

/** "Skipped photos/link: a symbolic link (links are not followed)." */
export function skippedLine(entry: SkippedEntry): string {
  return `Skipped ${sanitizeForTerminal(entry.rel)}: ${SKIP_WORDS[entry.kind]}.`;
}

/** Skipped entries named one a line; the rest are counted in one more line (a home folder has thousands of links). */
export const MAX_SKIPPED_NAMED = 10;

const SKIP_KINDS: Record<SkipKind, string> = {
  link: "symbolic links",
  fifo: "named pipes",
  socket: "sockets",
  device: "devices",
  name: "names that are not UTF-8",
  gone: "gone",
  unreadable: "unreadable",
  "unreadable-folder": "unreadable folders",
  backslash: "names with a backslash",
  deep: "folders too deep",
  "long-path": "paths too long",
};

/**
 * skippedLine for the first MAX_SKIPPED_NAMED entries, then one line counting the rest by kind:
 * "Skipped 1881 more entries: 1879 symbolic links, 2 sockets."
 */
export function skippedLines(entries: readonly SkippedEntry[]): string[] {
  const lines = entries.slice(0, MAX_SKIPPED_NAMED).map(skippedLine);
  const rest = entries.slice(MAX_SKIPPED_NAMED);
  if (rest.length === 0) return lines;
  const kinds = new Map<SkipKind, number>();
  for (const entry of rest) kinds.set(entry.kind, (kinds.get(entry.kind) ?? 0) + 1);
  const counts = [...kinds].map(([kind, n]) => `${n} ${SKIP_KINDS[kind]}`).join(", ");
  lines.push(`Skipped ${rest.length} more ${rest.length === 1 ? "entry" : "entries"}: ${counts}.`);
  return lines;
}

/** Files and folders the plan names (a folder counts once, however many entries it has). */
export function unitsOf(plan: SendPlan): number {
  return plan.sends.filter((send) => send.kind === "stdin" || !send.folder).length + plan.folders.length;
}

/** Commands of several sends, numbered within this process (one session per process). */
let nextCommand = 1;

/**
 * Hands every planned send to the session (which pipelines them). A plan of several files and
 * folders tags each offer with its command and the command's number of transfers, so the
 * receiver can say the command's totals once, at its end.
 * @param failed - told about a send that could not start (a file gone since it was planned)
 */
export function startSends(
  session: Session,
  plan: SendPlan,
  stdin: () => ReadableStream<Uint8Array>,
  failed: (err: TransferError) => void,
): void {
  const command = unitsOf(plan) > 1 ? { seq: nextCommand++, transfers: plan.sends.length } : undefined;
  for (const send of plan.sends) {
    try {
      if (send.kind === "stdin") session.sendStream(send.name, stdin(), command);
      else if (send.kind === "dir") session.sendEmptyDir(send.folder, command);
      else session.sendFile(send.path, send.folder, command, send.listed);
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      failed(err);
    }
  }
}

/** A path typed that is a folder (not "-", standard input, nor "", which would resolve to the current folder). */
function namesFolder(path: string): boolean {
  return path !== "" && path !== "-" && isDirectory(path);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // checkReadableFile says why
  }
}
