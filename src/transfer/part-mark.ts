/**
 * Parley's own `.part` files carry an extended attribute, so that a stranger's `name.part` in
 * the download folder (a browser's unfinished download, say) is never taken for an
 * interrupted Parley transfer of `name`, and so never resumed into or truncated. Where the
 * file system keeps no extended attributes (or libc cannot be loaded) nothing can be told
 * apart, and every `.part` counts as ours, as before marks.
 */

import { ptr } from "bun:ffi";
import { loadLibc } from "./libc.ts";

const NAME = Buffer.from("user.parley.part\0");
/** The xattr calls' signatures differ on macOS: marks are a Linux matter here. */
const LINUX = process.platform === "linux";
const VALUE = Buffer.from("1");

/** Marks the open `.part` `fd` as ours (best effort). */
export function markAsOurs(fd: number): void {
  if (LINUX) loadLibc()?.fsetxattr(fd, ptr(NAME), ptr(VALUE), VALUE.length, 0);
}

/**
 * @returns true when `fd` carries our mark; false when it does not on a file system that keeps
 *   marks (someone else's file); undefined when that cannot be told here
 */
export function isOurs(fd: number): boolean | undefined {
  const libc = LINUX ? loadLibc() : null;
  if (libc === null) return undefined;
  if (Number(libc.fgetxattr(fd, ptr(NAME), null, 0)) >= 0) return true;
  // No mark: a file system without extended attributes fails to list them at all.
  return Number(libc.flistxattr(fd, null, 0)) >= 0 ? false : undefined;
}
