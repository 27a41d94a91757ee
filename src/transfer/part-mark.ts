/**
 * Parley's own `.part` files carry an extended attribute, the mark: a stranger's `name.part`
 * in the download folder (a browser's unfinished download, say) is never taken for an
 * interrupted Parley transfer of `name`, and so never resumed into or truncated. The mark
 * holds the offer's resume token (resume-token.ts), or "1" for an offer without one: a
 * `.part` is resumed only for an offer with the same token. Where the file system keeps no
 * extended attributes (or libc cannot be loaded) nothing can be told apart, and no `.part`
 * is resumed. A file stored verified keeps its mark as `stored:TOKEN` (markStored): one whose
 * name ends in `.part` (`x.part`, from a peer or a stream) is then never taken for an
 * interrupted transfer of `x`, in a later run too (before, the peer that sent it could offer
 * `x` with its token and answer START 0: the saved file was truncated).
 */

import { ptr } from "bun:ffi";
import { loadLibc } from "./libc.ts";

const NAME = Buffer.from("user.parley.part\0");
/** The xattr calls' signatures differ on macOS: marks are a Linux matter here. */
const LINUX = process.platform === "linux";
/** The mark of a `.part` made for an offer without a resume token. */
const NO_TOKEN = "1";
const MAX_MARK_BYTES = 64;

/** Marks the open `.part` `fd` as ours, for the offer with `token` (best effort). */
export function markAsOurs(fd: number, token?: string): void {
  const value = Buffer.from(token ?? NO_TOKEN);
  if (LINUX) loadLibc()?.fsetxattr(fd, ptr(NAME), ptr(value), value.length, 0);
}

/** The prefix of a stored file's mark (markStored). */
const STORED = "stored:";

/** Marks the verified file `fd`, about to be named, as stored for the offer with `token` (best effort). */
export function markStored(fd: number, token?: string): void {
  markAsOurs(fd, `${STORED}${token ?? NO_TOKEN}`);
}

/**
 * @returns true when `fd` carries the mark of the offer with `token` (a `.part` of it); false
 *   when it carries another or none (a stored file's too); undefined when the file system
 *   keeps no marks (nothing can be told)
 */
export function isMarkedFor(fd: number, token?: string): boolean | undefined {
  const mark = markOf(fd);
  return mark === undefined ? undefined : mark === (token ?? NO_TOKEN);
}

/**
 * @returns true when `fd` is a file stored for the offer with `token` (markStored; or, stored
 *   by an older build, still its `.part`'s mark); false otherwise; undefined as isMarkedFor
 */
export function isStoredFor(fd: number, token?: string): boolean | undefined {
  const mark = markOf(fd);
  const plain = token ?? NO_TOKEN;
  return mark === undefined ? undefined : mark === `${STORED}${plain}` || mark === plain;
}

/**
 * @returns true when `fd` carries a Parley mark (any token); false when it does not on a file
 *   system that keeps marks (someone else's file); undefined when that cannot be told here
 */
export function isOurs(fd: number): boolean | undefined {
  const mark = markOf(fd);
  return mark === undefined ? undefined : mark !== null;
}

/** The mark's text; null when there is none; undefined when marks cannot be kept here. */
function markOf(fd: number): string | null | undefined {
  const libc = LINUX ? loadLibc() : null;
  if (libc === null) return undefined;
  const value = Buffer.alloc(MAX_MARK_BYTES);
  const n = Number(libc.fgetxattr(fd, ptr(NAME), ptr(value), value.length));
  if (n >= 0) return value.subarray(0, n).toString("utf8");
  // No mark: a file system without extended attributes fails to list them at all.
  return Number(libc.flistxattr(fd, null, 0)) >= 0 ? null : undefined;
}
