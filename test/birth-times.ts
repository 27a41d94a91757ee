/**
 * Test helper for the swaps of a folder just made (held-dir.ts justMade): an empty folder of ours
 * made earlier, to swap in between a mkdir and its open, and a loud skip where the file system
 * keeps no birth times (the swap cannot be told there).
 */

import { mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JUST_MADE_SLACK_MS } from "../src/transfer/held-dir.ts";

/**
 * An empty folder `name` of ours in `dir`, made more than JUST_MADE_SLACK_MS ago: the test waits
 * that long (a swap needs a folder made before the one it replaces; one made in the same instant
 * is one Parley could have just made).
 */
export async function emptyFolderMadeEarlier(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  mkdirSync(path);
  await Bun.sleep(JUST_MADE_SLACK_MS + 200);
  return path;
}

/**
 * How long after `path` was made its status last changed, ms, as node:fs tells it (not the
 * code under test); undefined where the file system keeps no birth time.
 */
export function changedAfterMadeMs(path: string): number | undefined {
  const stats = statSync(path);
  return stats.birthtimeMs > 0 ? stats.ctimeMs - stats.birthtimeMs : undefined;
}

/**
 * True (said loudly; a failure on CI) where the file system keeps no birth time: an empty folder
 * swapped in cannot be told there, and the test that swaps one skips.
 */
export function noBirthTimes(changedAfterMade: number | undefined): boolean {
  if (changedAfterMade !== undefined) return false;
  const why = `${tmpdir()} keeps no birth times: an empty folder swapped in cannot be told`;
  if (process.env.CI) throw new Error(why);
  console.warn(`\n*** SKIPPED: ${why} ***\n`);
  return true;
}
