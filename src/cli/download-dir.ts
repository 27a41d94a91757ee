/** The download directory: `~` expanded, made absolute, created if missing, checked. */

import { UsageError } from "./flags.ts";
import { expandHome } from "./input.ts";

/** @returns the absolute path; @throws UsageError when it is not a usable directory */
export function prepareDownloadDir(dir: string): string {
  const path = absolutePath(expandHome(dir));
  // node:fs when used: the chat's start-up checks an existing directory without it (below).
  const { existsSync, mkdirSync, statSync } = require("node:fs") as typeof import("node:fs");
  try {
    if (!existsSync(path)) mkdirSync(path, { recursive: true });
    if (!statSync(path).isDirectory()) throw new UsageError(`--dir ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot use --dir ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return path;
}

/**
 * prepareDownloadDir for the chat's start-up: an existing directory (the usual case, the
 * default being the current one) is seen with Bun's stat, without loading node:fs (5-10 ms
 * before the code is shown); anything else goes through prepareDownloadDir, same errors.
 */
export async function prepareDownloadDirSoon(dir: string): Promise<string> {
  const path = absolutePath(expandHome(dir));
  try {
    if ((await Bun.file(path).stat()).isDirectory()) return path;
  } catch {
    // Missing or not reachable: prepareDownloadDir creates it or says why not.
  }
  return prepareDownloadDir(dir);
}

/**
 * node:path's `resolve(path)` for POSIX paths (Parley's platforms): relative to `cwd`, with
 * ".", ".." and repeated or trailing slashes resolved away; a unit test holds it to node:path's
 * results. Written out because loading node:path cost the chat's start-up 2-4 ms.
 */
export function absolutePath(path: string, cwd: string = process.cwd()): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "" && part !== ".") parts.push(part);
  }
  return `/${parts.join("/")}`;
}
