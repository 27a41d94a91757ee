/**
 * A download folder reached through a symbolic link another user put in a folder anyone can
 * write (`/tmp`'s 1777): `ln -s /etc/cron.d /tmp/incoming` made before our `parley receive
 * --dir /tmp/incoming`, and received files are saved where that user chose, in a folder only
 * we may write. Linux's fs.protected_symlinks=1 refuses to follow such a link; where it is 0
 * (some containers and older systems; macOS has no such rule) nothing did, and no warning was
 * given (shared-dir.ts judges the folder the link leads to, ours, and the sticky folder holding
 * it). So the same rule is applied here, to each link met while resolving the folder's path
 * (its own names, and since session 24 the names of each link's target in turn, as the kernel
 * follows them: our link to /tmp/dl, where another user put a link, led there unjudged): a
 * link in a sticky, world-writable folder is followed only when it is ours, or its folder's
 * owner's.
 */

import { sanitizeForTerminal } from "../ui/sanitize.ts";

/** What the rule needs of an lstat or a stat. */
export interface LinkStat {
  readonly uid: number;
  readonly mode: number;
  isSymbolicLink(): boolean;
}

export interface LinkCalls {
  /** lstat(2), undefined when the name cannot be looked at. */
  lstat(path: string): LinkStat | undefined;
  /** stat(2), undefined when it cannot. */
  stat(path: string): LinkStat | undefined;
  readlink(path: string): string | undefined;
}

const STICKY_WORLD_WRITABLE = 0o1002;

/** Links followed at most while resolving a path (the kernel's limit: beyond it, ELOOP). */
const MAX_LINKS = 40;

/**
 * Why the absolute, normalised `path` may not be used as a download folder: the first symbolic
 * link met while resolving it, as the kernel does (on its names, and on the names of each
 * link's target in turn), that another user (not us, not root, not the owner of the folder
 * holding it) made in a sticky, world-writable folder; undefined when there is none.
 * @param ownUid - this process's uid (undefined where there are none: never a problem)
 */
export function plantedLinkProblem(path: string, ownUid: number | undefined, calls: LinkCalls): string | undefined {
  if (ownUid === undefined) return undefined;
  const pending = path.split("/").filter((name) => name !== "");
  /** Where the names taken so far lead ("" is the root). */
  let at = "";
  let links = 0;
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (name === ".") continue;
    if (name === "..") {
      at = at.slice(0, at.lastIndexOf("/"));
      continue;
    }
    const parent = at === "" ? "/" : at;
    const here = `${at}/${name}`;
    const link = calls.lstat(here);
    if (!link?.isSymbolicLink()) {
      at = here;
      continue;
    }
    // The other user chose the link's text: made visible, as a peer's words are.
    const target = calls.readlink(here);
    if (link.uid !== ownUid && link.uid !== 0) {
      const holder = calls.stat(parent);
      const planted =
        holder !== undefined &&
        (holder.mode & STICKY_WORLD_WRITABLE) === STICKY_WORLD_WRITABLE &&
        holder.uid !== link.uid;
      if (planted) {
        const to = target === undefined ? "" : ` (to ${sanitizeForTerminal(target)})`;
        return `${sanitizeForTerminal(here)} is a symbolic link${to} that another user (uid ${link.uid}) made in ${sanitizeForTerminal(parent)}, a folder anyone can write: following it would save what you receive where that user chose (the kernel's protected_symlinks rule); name the folder itself`;
      }
    }
    // Followed: its target's names are looked at too (a link of ours may lead to one of theirs).
    if (target === undefined || ++links > MAX_LINKS) return undefined; // the open fails on its own
    if (target.startsWith("/")) at = "";
    pending.unshift(...target.split("/").filter((part) => part !== ""));
  }
  return undefined;
}

/** plantedLinkProblem with node:fs (loaded by the caller); a name that cannot be looked at is passed over. */
export function plantedLinkProblemHere(path: string, fs: typeof import("node:fs")): string | undefined {
  const quietly = <T>(call: () => T): T | undefined => {
    try {
      return call();
    } catch {
      return undefined; // missing, or a folder on the way this user may not search
    }
  };
  return plantedLinkProblem(path, process.getuid?.(), {
    lstat: (p) => quietly(() => fs.lstatSync(p)),
    stat: (p) => quietly(() => fs.statSync(p)),
    readlink: (p) => quietly(() => fs.readlinkSync(p, "utf8")),
  });
}
