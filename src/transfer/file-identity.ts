/**
 * Whether a file opened to be sent is the one a folder's listing saw (its device and inode, as
 * lstat gave them: folder-walk.ts FileId). A folder on the way swapped for a link, or the file for
 * another, opens another file, which must not go under the entry's name.
 *
 * On FUSE the inode numbers are the file system's own to give: libfuse's high-level API without
 * `use_ino` numbers a file per lookup, and sshfs or rclone may number it anew once the kernel has
 * forgotten it (review21), so a slow send of a big folder from such a mount would fail good
 * entries as replaced. There the device alone is compared.
 */

import { statfsSync } from "node:fs";
import type { FileId } from "./folder-walk.ts";

/** statfs f_type of a FUSE mount. */
export const FUSE_SUPER_MAGIC = 0x65735546;

/** The file system type `path` is on (statfs f_type); undefined when it cannot be told. */
function fileSystemType(path: string): number | undefined {
  try {
    return statfsSync(path).type;
  } catch {
    return undefined;
  }
}

/**
 * @param opened - fstat of the file opened at `path`
 * @param listed - its identity when listed
 * @param typeOf - the file system type of a path (injectable for tests)
 */
export function isListedFile(
  opened: FileId,
  listed: FileId,
  path: string,
  typeOf: (path: string) => number | undefined = fileSystemType,
): boolean {
  if (opened.dev !== listed.dev) return false;
  return opened.ino === listed.ino || typeOf(path) === FUSE_SUPER_MAGIC;
}
