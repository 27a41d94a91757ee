/**
 * A download folder other users can change: one warning line at the start of a receiving
 * command. In such a folder (writable by others or by a group with other members, without the
 * sticky bit; or owned by another user, who can chmod it) another local user can rename a
 * `.part`, or a folder being received, and put something else in its place. The receiver
 * checks device:inode before it uses them (part-files.ts, folder-target.ts), but a swap between
 * that check and the use stays possible: so the user is told, and the run goes on (people
 * receive into shared folders on purpose). `/tmp` (sticky, root's) is not warned about.
 * The folders above it are judged the same way: in one others can change, they could put
 * another folder (or a link to one of ours) in place of the download folder, or of a folder on
 * its way, before it is opened.
 */

import { sanitizeForTerminal } from "../ui/sanitize.ts";

/** What the rule needs of the folder's stat. */
export interface DirStat {
  /** st_mode: the permission bits and the sticky bit are looked at. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

const STICKY = 0o1000;
const GROUP_WRITE = 0o020;
const OTHERS_WRITE = 0o002;

/** The `--json` event's code for the warning. */
export const SHARED_DIR_CODE = "W_SHARED_DIR";

/**
 * The warning for the download folder `path`, or for `path` a folder above the download folder
 * `below`; undefined when only we (or root) can change it. Pure: the caller stats the folder.
 * @param ownUid - this process's uid (undefined where there are none: no warning)
 * @param groupHasOthers - whether users other than us and root are in the folder's group
 *   (asked only for a group-writable folder)
 */
export function sharedDirWarning(
  path: string,
  stat: DirStat,
  ownUid: number | undefined,
  groupHasOthers: () => boolean,
  below?: string,
): string | undefined {
  if (ownUid === undefined) return undefined;
  const mode = `mode ${(stat.mode & 0o7777).toString(8).padStart(4, "0")}`;
  const shown = sanitizeForTerminal(path);
  const above = below === undefined ? "" : `, a folder above the download folder ${sanitizeForTerminal(below)},`;
  const risk =
    below === undefined
      ? "files received there could be swapped before they are stored; use a folder only you can write to."
      : "the download folder could be swapped for another (or a link to one of yours) before it is opened; use a folder only you can write to.";
  if (stat.uid !== ownUid && stat.uid !== 0) {
    return `Warning: ${shown}${above} belongs to another user (uid ${stat.uid}, ${mode}), who can change it: ${risk}`;
  }
  if ((stat.mode & STICKY) !== 0) return undefined;
  const tail = above.slice(0, -1); // ", a folder above ...", before the colon
  if ((stat.mode & OTHERS_WRITE) !== 0) {
    return `Warning: other users can change ${shown} (${mode}, no sticky bit)${tail}: ${risk}`;
  }
  if ((stat.mode & GROUP_WRITE) !== 0 && groupHasOthers()) {
    return `Warning: other users can change ${shown} (${mode}, writable by group ${stat.gid}, no sticky bit)${tail}: ${risk}`;
  }
  return undefined;
}

/**
 * Whether group `gid` has a member other than the user `ownUid` and root, by the user and
 * group lists (`/etc/passwd`, `/etc/group` text): a member by name, or a user whose primary
 * group it is. A group known only elsewhere (LDAP) has none here. Pure.
 */
export function othersInGroup(gid: number, ownUid: number, passwd: string, group: string): boolean {
  const users = passwd.split("\n").map((line) => line.split(":"));
  const ours = new Set(users.filter((u) => Number(u[2]) === ownUid || u[2] === "0").map((u) => u[0]));
  if (users.some((u) => u.length > 3 && Number(u[3]) === gid && !ours.has(u[0]))) return true;
  const entry = group.split("\n").find((line) => line.split(":")[2] === String(gid));
  const members = entry?.split(":")[3]?.split(",") ?? [];
  return members.some((name) => name.trim() !== "" && !ours.has(name.trim()));
}

/** A folder and its stat (undefined: it could not be stat'ed). */
export interface FolderStat {
  readonly path: string;
  readonly stat: (DirStat & { isDirectory(): boolean }) | undefined;
}

/**
 * `path` (absolute, no `..`) and each folder above it up to `/`, stat'ed at once (following
 * links): each stat is a trip to Bun's thread pool and back, before the code line, and one after
 * another a folder 3 deep took 4 of them (on a busy machine each waits for a CPU).
 */
export function statFoldersUp(path: string): Promise<FolderStat[]> {
  const folders = [path];
  for (let at = path; at !== "/"; ) {
    at = at.slice(0, at.lastIndexOf("/")) || "/";
    folders.push(at);
  }
  return Promise.all(
    folders.map((at) =>
      Bun.file(at)
        .stat()
        .then(
          (stat) => ({ path: at, stat }),
          () => ({ path: at, stat: undefined }),
        ),
    ),
  );
}

/**
 * The warning for the download folder at `path` (absolute, no `..`), or else for the first
 * folder above it others can change (each stat'ed, following links: a link's target is judged,
 * and the folder holding the link); undefined when all are private, or the download folder
 * cannot be stat'ed (the command's own checks say why).
 * @param up - statFoldersUp(path), when already asked for
 */
export async function downloadDirWarning(path: string, up?: Promise<FolderStat[]>): Promise<string | undefined> {
  const ownUid = process.getuid?.();
  for (const { path: at, stat } of await (up ?? statFoldersUp(path))) {
    if (stat === undefined && at === path) return undefined;
    // A folder above we may not look at is passed over: the next one up is judged.
    if (stat !== undefined) {
      const { gid } = stat;
      const groupHasOthers = () => othersInGroup(gid, ownUid ?? -1, readText("/etc/passwd"), readText("/etc/group"));
      const warning = sharedDirWarning(at, stat, ownUid, groupHasOthers, at === path ? undefined : path);
      if (warning !== undefined) return warning;
    }
  }
  return undefined;
}

/** A small system file's text, "" when it cannot be read (node:fs loaded only then). */
function readText(path: string): string {
  const { readFileSync } = require("node:fs") as typeof import("node:fs");
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
