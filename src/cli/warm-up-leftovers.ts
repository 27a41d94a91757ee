/**
 * The warm-up's folders that a killed run left behind. A warm-up (warm-up.ts) removes its
 * temporary folder when it ends, and at the process's exit; a run killed outright (SIGKILL, a
 * crash of the runtime) cannot, and its folder (a sparse source and what was received of it)
 * would stay in the temporary folder for good. So each folder is named after its process
 * (`parley-warm-<pid>-XXXXXX`), and a run's first warm-up removes those of processes that no
 * longer exist: only directories (never a link), owned by this user, whose name is exactly of
 * that shape. A pid that was reused since is alive to us, and its folder stays.
 */

import { lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The start of a warm-up folder's name for process `pid` (mkdtemp adds six characters). */
export function warmUpFolderPrefix(pid = process.pid): string {
  return `parley-warm-${pid}-`;
}

const WARM_UP_FOLDER = /^parley-warm-(\d+)-[A-Za-z0-9]{6}$/;

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
 * Removes, in `base`, the warm-up folders of this user's processes that are gone. Never throws:
 * what cannot be read or removed is left.
 * @returns the names removed
 */
export function removeLeftoverWarmUps(base: string, alive: (pid: number) => boolean = processAlive): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const pid = Number(WARM_UP_FOLDER.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    const path = join(base, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to remove: left.
    }
  }
  return removed;
}
