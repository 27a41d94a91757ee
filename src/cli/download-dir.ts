/**
 * The download directory: `~` expanded, made absolute, created if missing, checked to be a
 * directory this process can create files in (a run that could not save what it receives
 * fails at start, not when the first file arrives).
 */

import type { DirCalls } from "../transfer/dir-calls.ts";
import { UsageError } from "./flags.ts";
import { expandHome } from "./input.ts";
import { osWords } from "./os-words.ts";
import { plantedLinkProblemHere } from "./planted-link.ts";
import { downloadDirWarning, statFoldersUp } from "./shared-dir.ts";

/** @returns the absolute path; @throws UsageError when it is not a usable directory */
export function prepareDownloadDir(dir: string): string {
  const path = absolutePath(expandHome(dir));
  refuseUndecodable(dir, path);
  // node:fs when used: the chat's start-up checks an existing directory without it (below).
  const fs = require("node:fs") as typeof import("node:fs");
  const { existsSync, statSync } = fs;
  // Before any folder is made through such a link (downloadDirProblem looks again below).
  const planted = plantedLinkProblemHere(path, fs);
  if (planted !== undefined) throw new UsageError(cannotSaveIn(dir, planted));
  let made: string | undefined;
  try {
    if (!existsSync(path)) made = makeNameByName(path, fs);
  } catch (err) {
    throw new UsageError(`cannot create --dir ${dir}: ${osWords(err)}`);
  }
  if (made !== undefined) throw new UsageError(cannotSaveIn(dir, made));
  try {
    if (!statSync(path).isDirectory()) throw new UsageError(`--dir ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot use --dir ${dir}: ${osWords(err)}`);
  }
  const problem = downloadDirProblem(path);
  if (problem !== undefined) throw new UsageError(cannotSaveIn(dir, problem));
  return path;
}

/**
 * Makes the missing folders of the absolute `path` one name at a time, each looked at for a
 * planted link (planted-link.ts) before the next is made inside it: a recursive mkdir gave
 * another user the moment between the first look and the second to put a link in /tmp where
 * `a` of `--dir /tmp/a/b` was still missing, and `b` was then made in the folder it led to
 * (refused only afterwards, an empty folder left where that user chose). A link put there
 * first makes our mkdir fail with EEXIST (mkdir follows no last link), and the look says whose
 * it is; a folder we made in a sticky folder cannot be swapped by anyone else.
 *
 * The walk holds the folder it is in (O_PATH, search permission only; close-on-exec, as every
 * descriptor dir-calls.ts's openat opens: O_CLOEXEC is added there) and opens each next name
 * relative to it without following a link (one openat a name, and a mkdirat before it for a
 * missing one; under a folder it made, the next name is made at once): by
 * path, each name cost a walk from / to it for its existsSync, its mkdir and its link check, each
 * as deep as it (2,000 missing names took over 60 s, session 24). A name that turns out to be a
 * link is judged by its path as the first look judges the whole path (plantedLinkProblemHere),
 * then followed as the kernel would. Where the directory-relative calls cannot be had (not Linux),
 * by path as before.
 * @param calls - dir-calls.ts's (a test's stand-in), or null: by path
 * @returns the planted link's problem, or undefined once every folder is there
 * @throws the mkdir's or the open's error (EEXIST aside)
 */
export function makeNameByName(
  path: string,
  fs: typeof import("node:fs"),
  calls: DirCalls | null = dirCallsModule().dirCalls(),
): string | undefined {
  const names = path.split("/").filter((name) => name !== "");
  if (calls === null) return makeByPath(names, fs);
  const { AT_FDCWD } = dirCallsModule();
  const dirFlags = O_PATH | fs.constants.O_DIRECTORY;
  const noFollow = dirFlags | fs.constants.O_NOFOLLOW;
  let held = calls.openat(AT_FDCWD, "/", dirFlags, 0);
  /** `held` is a folder we made: its next name is missing (made at once; EEXIST, as any, says otherwise). */
  let made = false;
  try {
    for (const [i, name] of names.entries()) {
      let next: number | "missing" | "not a folder" = made ? "missing" : openHere(calls, held, name, noFollow);
      made = next === "missing";
      if (next === "missing") {
        try {
          calls.mkdirat(held, name, 0o777);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
          made = false; // someone else's, or a link put there meanwhile: looked at below
        }
        next = openHere(calls, held, name, noFollow);
        if (next === "missing") throw Object.assign(new Error(`ENOENT: ${name}`), { code: "ENOENT" });
      }
      if (next === "not a folder") {
        // A link (or a file, whose open below says so): judged by its path, then followed.
        const planted = plantedLinkProblemHere(`/${names.slice(0, i + 1).join("/")}`, fs);
        if (planted !== undefined) return planted;
        next = calls.openat(held, name, dirFlags, 0);
        made = false;
      }
      fs.closeSync(held);
      held = next;
    }
  } finally {
    fs.closeSync(held);
  }
  return undefined;
}

/** O_PATH (Linux, x86-64 and arm64 alike; node:fs has no constant for it): a folder we may search but not read opens too. */
const O_PATH = 0o10000000;

/** openat of `name` in `dirfd` with `flags`: the descriptor, "missing" (ENOENT), or "not a folder" (ENOTDIR: with O_NOFOLLOW, a link too). */
function openHere(calls: DirCalls, dirfd: number, name: string, flags: number): number | "missing" | "not a folder" {
  try {
    return calls.openat(dirfd, name, flags, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "missing";
    if (code === "ENOTDIR") return "not a folder";
    throw err;
  }
}

/** makeNameByName by path (no directory-relative calls): each name a walk from /. */
function makeByPath(names: readonly string[], fs: typeof import("node:fs")): string | undefined {
  for (let i = 1; i <= names.length; i++) {
    const at = `/${names.slice(0, i).join("/")}`;
    // Every name is looked at, one already there too: a link put in place of a missing name
    // after the first look leads to a folder that exists.
    try {
      if (!fs.existsSync(at)) fs.mkdirSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const planted = plantedLinkProblemHere(at, fs);
    if (planted !== undefined) return planted;
  }
  return undefined;
}

/** dir-calls.ts (bun:ffi, libc), loaded only when a --dir is to be made. */
function dirCallsModule(): typeof import("../transfer/dir-calls.ts") {
  return require("../transfer/dir-calls.ts") as typeof import("../transfer/dir-calls.ts");
}

/**
 * Bun hands argv over with U+FFFD for bytes that are not UTF-8, so `--dir $'\xff'` arrives as a
 * path that names no folder: creating it would make a look-alike folder and save there. When
 * such a path spells a folder whose real name is not UTF-8, that is said instead (loaded only
 * for a path holding U+FFFD).
 * @throws UsageError
 */
function refuseUndecodable(dir: string, path: string): void {
  if (!path.includes("\uFFFD")) return;
  const { undecodableEntryIn } =
    require("../transfer/readable-file.ts") as typeof import("../transfer/readable-file.ts");
  // The folder itself, or one on its way (`--dir $'\xff'/new`: the rest is created below it).
  let folder: string | undefined;
  for (let at = path; folder === undefined && at.includes("\uFFFD"); at = at.slice(0, at.lastIndexOf("/")) || "/") {
    folder = undecodableEntryIn(at);
  }
  if (folder === undefined) return;
  throw new UsageError(
    `cannot use --dir ${dir}: the name of the folder ${folder} is not UTF-8 text, so Parley cannot open it (rename that folder, or choose another --dir)`,
  );
}

/** The line saying received files cannot go into `dir` (as the user gave it), and why. */
export function cannotSaveIn(dir: string, problem: string): string {
  return `cannot save received files in ${dir}: ${problem} (--dir chooses another folder)`;
}

/**
 * Why received files cannot be saved in the directory `path` ("permission denied", "read-only
 * file system", a link on its path another user planted: planted-link.ts), or undefined when
 * they can: access(2) as this process's user, W_OK | X_OK to
 * create files, and R_OK too, as the receiver opens the folder it saves into (O_RDONLY, held-dir.ts):
 * a write-only folder (mode 0300, a drop folder) passed the start and then declined every file.
 * Root passes every mode check, so only a normal user ever met that.
 * @param access - access(2) (node:fs's accessSync), or a test's stand-in
 */
export function downloadDirProblem(path: string, access?: (path: string, mode: number) => void): string | undefined {
  const fs = require("node:fs") as typeof import("node:fs");
  const { accessSync, constants } = fs;
  const planted = plantedLinkProblemHere(path, fs);
  if (planted !== undefined) return planted;
  const check = access ?? accessSync;
  try {
    check(path, constants.W_OK | constants.X_OK);
  } catch (err) {
    return osWords(err);
  }
  try {
    check(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return `this user may create files in it but not read it (${osWords(err)}), and Parley opens the folder it saves into`;
  }
}

/**
 * prepareDownloadDir for the chat's start-up: an existing directory (the usual case, the
 * default being the current one) whose mode bits let this user create files is seen with
 * Bun's stat, without loading node:fs (5-10 ms before the code is shown); anything else goes
 * through prepareDownloadDir, same errors. What mode bits cannot show (a read-only mount, an
 * ACL) is for downloadDirProblem once the code is shown. A folder other users can change gets
 * its warning line (shared-dir.ts) on `warnTo`.
 */
export async function prepareDownloadDirSoon(dir: string, warnTo?: { write(text: string): unknown }): Promise<string> {
  const path = absolutePath(expandHome(dir));
  // The folder and, for the warning, those above it: all at once (statFoldersUp).
  const up = statFoldersUp(path);
  const own = (await up)[0]?.stat;
  // Missing, not a folder or not ours to write in by its mode bits: prepareDownloadDir creates it or
  // says why not, and the folders are looked at again.
  const quick = own?.isDirectory() === true && modeLetsUsSave(own);
  const ready = quick ? path : prepareDownloadDir(dir);
  const shared = warnTo && (await downloadDirWarning(ready, quick ? up : undefined));
  if (shared) warnTo?.write(`${shared}\n`);
  return ready;
}

/**
 * Whether a directory's owner, group and mode say this process may save files in it (read,
 * write and search: downloadDirProblem), by the class that applies (owner, then group, then
 * others; root: always). Only a hint: access(2) has the last word (downloadDirProblem).
 * @param uid - this process's (a test gives another)
 */
export function modeLetsUsSave(
  stats: { uid: number; gid: number; mode: number },
  uid: number | undefined = process.getuid?.(),
): boolean {
  if (uid === undefined || uid === 0) return true;
  const inGroup = stats.gid === process.getgid?.() || (process.getgroups?.() ?? []).includes(stats.gid);
  const bits = stats.uid === uid ? 0o700 : inGroup ? 0o070 : 0o007;
  return (stats.mode & bits) === bits;
}

/**
 * node:path's `resolve(path)` for POSIX paths (Parley's platforms): relative to `cwd`, with
 * ".", ".." and repeated or trailing slashes resolved away; a unit test holds it to node:path's
 * results. Written out because loading node:path cost the chat's start-up 2-4 ms.
 */
export function absolutePath(path: string, cwd: string = process.cwd()): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "" && part !== ".") parts.push(part);
  }
  return `/${parts.join("/")}`;
}
