/**
 * A received file's metadata as the sender offered it (modification time, the executable bit,
 * the resume token), and applying it to the stored file: best effort, after its content was
 * verified and before it is named.
 */

import { fchmodSync, futimesSync } from "node:fs";

/** An executable file's mode before the umask (rwxr-xr-x). */
const EXEC_MODE = 0o755;

/** Metadata the sender offered, applied to the stored file. */
export interface FileMeta {
  /** Modification time, ms since the epoch. */
  readonly mtime?: number;
  /** Set the executable bits. */
  readonly exec?: boolean;
  /** The offer's resume token: only a `.part` marked with it is resumed. */
  readonly token?: string;
}

/** The sender's modification time and executable bit on the file open as `fd`; some file systems refuse. */
export function applyMeta(fd: number, meta: FileMeta): void {
  try {
    // The process umask applies, as it did to the mode the `.part` was created with.
    if (meta.exec) fchmodSync(fd, EXEC_MODE & ~process.umask());
    if (meta.mtime !== undefined) futimesSync(fd, new Date(), new Date(meta.mtime));
  } catch {
    // The file's content is what was verified; metadata is a courtesy.
  }
}
