/**
 * A download folder reached through a symbolic link another user put in a folder anyone can
 * write (`/tmp`'s 1777): `ln -s /etc/cron.d /tmp/incoming` made before our `parley receive
 * --dir /tmp/incoming`, and received files are saved where that user chose, in a folder only
 * we may write. Linux's fs.protected_symlinks=1 refuses to follow such a link; where it is 0
 * (some containers and older systems; macOS has no such rule) nothing did, and no warning was
 * given (shared-dir.ts judges the folder the link leads to, ours, and the sticky folder holding
 * it). So the same rule is applied here, to each name on the folder's path: a link in a
 * sticky, world-writable folder is followed only when it is ours, or its folder's owner's.
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

/**
 * Why the absolute, normalised `path` may not be used as a download folder: the first name on
 * it that is a symbolic link another user (not us, not root, not the owner of the folder
 * holding it) made in a sticky, world-writable folder; undefined when there is none.
 * @param ownUid - this process's uid (undefined where there are none: never a problem)
 */
export function plantedLinkProblem(path: string, ownUid: number | undefined, calls: LinkCalls): string | undefined {
  if (ownUid === undefined) return undefined;
  const names = path.split("/").filter((name) => name !== "");
  for (let i = 1; i <= names.length; i++) {
    const at = `/${names.slice(0, i).join("/")}`;
    const link = calls.lstat(at);
    if (!link?.isSymbolicLink() || link.uid === ownUid || link.uid === 0) continue;
    const parent = `/${names.slice(0, i - 1).join("/")}`;
    const holder = calls.stat(parent);
    if (holder === undefined || (holder.mode & STICKY_WORLD_WRITABLE) !== STICKY_WORLD_WRITABLE) continue;
    if (holder.uid === link.uid) continue;
    // The other user chose the link's text: made visible, as a peer's words are.
    const target = calls.readlink(at);
    const to = target === undefined ? "" : ` (to ${sanitizeForTerminal(target)})`;
    return `${sanitizeForTerminal(at)} is a symbolic link${to} that another user (uid ${link.uid}) made in ${sanitizeForTerminal(parent)}, a folder anyone can write: following it would save what you receive where that user chose (the kernel's protected_symlinks rule); name the folder itself`;
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
