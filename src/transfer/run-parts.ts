/**
 * The `.part` files of this run, and which one a new offer gets. This process keeps the `.part`
 * paths it is writing (two transfers of one name must not share one) and the paths it stored
 * verified files under that end in `.part` (a folder entry named `movie.part`: never to be taken
 * for an interrupted transfer of `movie`). openFreePart gives an offer the first free name's
 * `.part`, new or an earlier attempt's to resume (part-files.ts opens and locks each);
 * earlierPartBytesHere says what that would resume, opening nothing.
 */

import { closeSync } from "node:fs";
import { TransferError } from "./errors.ts";
import type { HeldDir } from "./held-dir.ts";
import { createExclusive, earlierPartBytes, lockNewPart, openResumable, partCandidates } from "./part-files.ts";
import { markAsOurs } from "./part-mark.ts";

const partsInUse = new Set<string>();
const storedThisRun = new Set<string>();

/** The `.part` at `partPath` is being written by this process (until releasePart). */
export function claimPart(partPath: string): void {
  partsInUse.add(partPath);
}

/** The `.part` at `partPath` is no longer written here (stored, aborted, or never begun). */
export function releasePart(partPath: string): void {
  partsInUse.delete(partPath);
}

/**
 * A verified file was stored at `path` in this run (a name ending in `.part` is then not a `.part`).
 * Only such names are kept: every `.part` path asked about ends so, and a peer's folder of a
 * million files made this set hold each stored path for the whole run (134 bytes a file;
 * attack33).
 */
export function storedHere(path: string): void {
  if (path.endsWith(".part")) storedThisRun.add(path);
}

/** The `.part` an offer writes into: its name in the folder, the numbered variant's index, the open descriptor. */
export interface FreePart {
  readonly index: number;
  readonly partName: string;
  readonly fd: number;
}

/**
 * The first free name's `.part` for `safe` in `dir`: a new one, created exclusively, locked and
 * marked with `token`; or an earlier attempt's to resume (openResumable). Not yet claimed.
 * @throws TransferError E_WRITE when no name is free
 */
export function openFreePart(dir: HeldDir, safe: string, size: number | null, token: string | undefined): FreePart {
  for (const { index, partName, partPath } of partCandidates(dir, safe)) {
    if (partsInUse.has(partPath)) continue;
    const fd = createExclusive(dir, partName);
    if (fd !== undefined) {
      // Locked so that another Parley process receiving into this folder leaves it alone
      // (one that took it for a resume in the instant since it was made keeps it).
      if (lockNewPart(fd, dir, partName)) {
        markAsOurs(fd, token);
        return { index, partName, fd };
      }
      closeSync(fd);
      continue;
    }
    const resumable = storedThisRun.has(partPath) ? undefined : openResumable(dir, partName, size, token);
    if (resumable !== undefined) return { index, partName, fd: resumable };
    // Not resumable, or being written by another process right now: the next name.
  }
  throw new TransferError("E_WRITE", `no free name for ${safe} in ${dir.path}`);
}

/**
 * What openFreePart would resume for `safe` in `dir`: the bytes of an earlier attempt's `.part`
 * (0: none, a new `.part` would be made). @throws TransferError E_WRITE when locking fails outright
 */
export function earlierPartBytesHere(dir: HeldDir, safe: string, size: number | null, token?: string): number {
  const mine = (partPath: string) => partsInUse.has(partPath) || storedThisRun.has(partPath);
  return earlierPartBytes(dir, safe, size, token, mine);
}
