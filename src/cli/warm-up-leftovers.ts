/**
 * The warm-up's folders that a killed run left behind. A warm-up (warm-up.ts) removes its
 * temporary folder when it ends, and at the process's exit; a run killed outright (SIGKILL, a
 * crash of the runtime) cannot, and its folder (a sparse source and what was received of it)
 * would stay in the temporary folder for good. So each folder is named after its process
 * (`parley-warm-<pid>-XXXXXX`), and a run's first warm-up removes those of processes that no
 * longer exist: only directories (never a link), owned by this user, whose name is exactly of
 * that shape, unchanged for LEFTOVER_MIN_AGE_MS. A pid that was reused since is alive to us, and
 * its folder stays.
 *
 * Against others on the machine (session 16's attack):
 * - Only in a temporary folder that no one else can rename entries in: owned by this user or
 *   root, and not group/other-writable unless sticky (/tmp's 1777). Elsewhere another user could
 *   swap a folder they may rename but not empty (a third user's, or ours) in under the name
 *   between our lstat and rm, and have us empty it; the folder's real path is used throughout.
 * - Links are never followed: lstat here, and Bun's rm unlinks a link and walks a directory by
 *   descriptor with O_NOFOLLOW (strace, Bun 1.4.5), so a link inside, or one swapped in, is
 *   removed and its target left.
 * - Bounded work: the listing is read off the event loop, and at most MAX_CANDIDATES names of
 *   the shape are looked at a run, from a random one on (kill + lstat: ~11 µs each; 20k that
 *   another user made in the folder blocked the start ~230 ms before).
 * - A process gone to us may be alive in another pid namespace or on another host sharing the
 *   folder (a container's bind-mounted /tmp, a shared TMPDIR): a folder changed in the last
 *   LEFTOVER_MIN_AGE_MS (a warm-up lasts at most seconds) stays.
 */

import { lstatSync, realpathSync, rmSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** The start of a warm-up folder's name for process `pid` (mkdtemp adds six characters). */
export function warmUpFolderPrefix(pid = process.pid): string {
  return `parley-warm-${pid}-`;
}

const WARM_UP_FOLDER = /^parley-warm-(\d+)-[A-Za-z0-9]{6}$/;

/** Names of the shape looked at (kill + lstat) in one run, at most. */
export const MAX_CANDIDATES = 32;

/** A leftover's folder is removed only once unchanged for this long, ms. */
export const LEFTOVER_MIN_AGE_MS = 60_000;

const STICKY = 0o1000;

/** Whether process `pid` exists (one of another user's counts: kill(2) says EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The real path of `base` if only this user (or root) can rename entries in it, else undefined.
 * @param uid - this user's, undefined where there are none (then any folder will do)
 */
function privateEnough(base: string, uid: number | undefined): string | undefined {
  const real = realpathSync(base);
  if (uid === undefined) return real;
  const stats = statSync(real);
  if (stats.uid !== uid && stats.uid !== 0) return undefined;
  return (stats.mode & 0o022) === 0 || (stats.mode & STICKY) !== 0 ? real : undefined;
}

/**
 * Removes, in `base`, the warm-up folders of this user's processes that are gone. Never rejects:
 * what cannot be read or removed is left.
 * @returns the names removed
 */
export async function removeLeftoverWarmUps(
  base: string,
  alive: (pid: number) => boolean = processAlive,
): Promise<string[]> {
  const removed: string[] = [];
  const uid = process.getuid?.();
  let real: string | undefined;
  let names: string[];
  try {
    real = privateEnough(base, uid);
    if (real === undefined) return removed;
    names = await readdir(real);
  } catch {
    return removed;
  }
  const candidates: Array<[string, number]> = [];
  for (const name of names) {
    const pid = Number(WARM_UP_FOLDER.exec(name)?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid) candidates.push([name, pid]);
  }
  // From a random start: names another user made cannot hide ours from every run.
  const start = Math.floor(Math.random() * candidates.length);
  const oldest = Date.now() - LEFTOVER_MIN_AGE_MS;
  for (let i = 0; i < Math.min(candidates.length, MAX_CANDIDATES); i++) {
    const [name, pid] = candidates[(start + i) % candidates.length] as [string, number];
    if (alive(pid)) continue;
    const path = join(real, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) continue;
      if (stats.mtimeMs > oldest) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to remove: left.
    }
  }
  return removed;
}
