/**
 * A folder entry opened to be sent must be the file listed (device and inode), but on FUSE the
 * inode numbers are the file system's to give and may change for the same file: there the
 * device alone is compared (file-identity.ts).
 */

import { expect, test } from "bun:test";
import { statfsSync, statSync } from "node:fs";
import { FUSE_SUPER_MAGIC, isListedFile } from "../../src/transfer/file-identity.ts";

const EXT4 = 0xef53;
const listed = { dev: 2049, ino: 1234 };

test("the same device and inode is the file listed, wherever it is", () => {
  expect(isListedFile({ dev: 2049, ino: 1234 }, listed, "/a/f", () => EXT4)).toBe(true);
  expect(isListedFile({ dev: 2049, ino: 1234 }, listed, "/a/f", () => undefined)).toBe(true);
});

test("another inode is another file, except on FUSE, where it may be the same file numbered anew", () => {
  expect(isListedFile({ dev: 2049, ino: 999 }, listed, "/a/f", () => EXT4)).toBe(false);
  expect(isListedFile({ dev: 2049, ino: 999 }, listed, "/a/f", () => undefined)).toBe(false);
  expect(isListedFile({ dev: 2049, ino: 999 }, listed, "/a/f", () => FUSE_SUPER_MAGIC)).toBe(true);
});

test("another device is never the file listed, FUSE or not (a folder on the way swapped for a link elsewhere)", () => {
  expect(isListedFile({ dev: 77, ino: 1234 }, listed, "/a/f", () => FUSE_SUPER_MAGIC)).toBe(false);
  expect(isListedFile({ dev: 77, ino: 1234 }, listed, "/a/f", () => EXT4)).toBe(false);
});

test("on a real file the real file system type is asked: another inode counts only on FUSE", () => {
  const { dev, ino } = statSync(import.meta.path);
  const fuse = statfsSync(import.meta.path).type === FUSE_SUPER_MAGIC;
  expect(isListedFile({ dev, ino }, { dev, ino }, import.meta.path)).toBe(true);
  expect(isListedFile({ dev, ino: ino + 1 }, { dev, ino }, import.meta.path)).toBe(fuse);
});
