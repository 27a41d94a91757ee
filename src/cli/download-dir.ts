/** The download directory: `~` expanded, made absolute, created if missing, checked. */

import { existsSync, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "./flags.ts";
import { expandHome } from "./input.ts";

/** @returns the absolute path; @throws UsageError when it is not a usable directory */
export function prepareDownloadDir(dir: string): string {
  const path = resolve(expandHome(dir));
  try {
    if (!existsSync(path)) mkdirSync(path, { recursive: true });
    if (!statSync(path).isDirectory()) throw new UsageError(`--dir ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot use --dir ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return path;
}
