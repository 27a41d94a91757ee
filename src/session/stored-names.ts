/**
 * What a receiver tells its sender in RECEIVED about where a file went: the name it was stored
 * under ("mid50 (1).bin"), and for an entry of a folder the name the folder was stored under
 * ("photos (1)" when photos was taken, "_config" for .config), so that the sender's lines say
 * where it went rather than the name it offered. Base names only, never the download folder's
 * path. Pure.
 */

import { basename, dirname } from "node:path";
import type { TransferInfo } from "./events.ts";

/** RECEIVED's `name` and `root` for `info` stored at `stored.path` (none for "-", standard output). */
export function storedNames(info: TransferInfo, stored: { readonly path?: string }): { name?: string; root?: string } {
  const path = stored.path;
  if (path === undefined || path === "-") return {};
  let folder = path;
  // An entry's path inside its folder has folder.path.length components (an empty folder's too).
  for (let i = 0; i < (info.folder?.path.length ?? 0); i++) folder = dirname(folder);
  return { name: basename(path), ...(info.folder ? { root: basename(folder) } : {}) };
}
