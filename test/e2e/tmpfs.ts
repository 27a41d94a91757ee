/**
 * Test helper: a small tmpfs mounted on a fresh temporary folder (root only), for tests that
 * need a file system of their own (full, read-only), and its release (unmount, then remove).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Mounted {
  readonly path: string;
  release(): void;
}

/**
 * Mounts a tmpfs with mount(8)'s `options` ("size=6m", "ro,size=64k") on a new folder named
 * with `prefix`. Not makeTempDir: cleanup() removes those after each test, and a mount point
 * cannot go; call `release` in afterAll.
 * @returns the mount, or why there is none: "not root", or mount's own words
 */
export function mountTmpfs(prefix: string, options: string): Mounted | string {
  if (process.getuid?.() !== 0) return "not root";
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(path, { recursive: true, force: true });
  const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path], { stderr: "pipe" });
  if (mounted.exitCode !== 0) {
    remove();
    return mounted.stderr.toString().trim();
  }
  return {
    path,
    release: () => {
      Bun.spawnSync(["umount", path]);
      remove();
    },
  };
}
