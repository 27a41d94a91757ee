/** TransferError: one transfer failed (bad file, disk, checksum, rejected): the connection goes on. */

export type TransferErrorCode =
  | "E_NOT_FOUND"
  | "E_NOT_A_FILE"
  | "E_UNREADABLE"
  | "E_READ"
  | "E_WRITE"
  | "E_NO_SPACE"
  | "E_TOO_MANY_FOLDERS"
  | "E_BAD_CHECKSUM"
  | "E_SIZE_MISMATCH"
  | "E_UNSUPPORTED_CHECKSUM"
  | "E_BAD_NAME"
  /** A received zip refused (zip-plan.ts ZipError carries which rule). */
  | "E_BAD_ZIP";

export class TransferError extends Error {
  override name = "TransferError";
  /** A file written to an output as it came (StreamReceiver): the bytes that reached it; nothing is kept. */
  readonly reached?: number;
  /** The token the peer is told with the code, when not the cause's errno ("folder": a whole folder's space). */
  readonly detail?: string;
  constructor(
    readonly code: TransferErrorCode,
    message: string,
    options?: ErrorOptions & { readonly reached?: number; readonly detail?: string },
  ) {
    super(message, options);
    if (options?.reached !== undefined) this.reached = options.reached;
    if (options?.detail !== undefined) this.detail = options.detail;
  }
}

/**
 * The detail a `receive --stdout` receiver tells with E_WRITE when nothing read its output for a
 * while (StreamReceiver): there is no errno for it, and without it the sender heard no reason.
 */
export const OUTPUT_STALLED = "stalled";

/**
 * The detail a sender tells with E_READ when the file it sends was changed in place while it was
 * read (FileSender): the bytes read would mix two versions of it, and there is no errno for that.
 */
export const SOURCE_CHANGED = "changed";

/**
 * The detail a receiver tells with E_WRITE when its `.part` was changed by another program while
 * it was written (part-intact.ts): what it holds is not what was sent, and no errno says that.
 */
export const PART_CHANGED = "part-changed";

/**
 * The detail a sender tells with E_NOT_A_FILE when a folder's entry is no longer the file listed
 * (FileSender: swapped for a link, or it or a folder on its way replaced): without it the
 * receiver said "the sender's file is not a regular file" of a regular file put in its place.
 */
export const ENTRY_REPLACED = "replaced";

/** The OS's words for a failed file call ("no space left on device"), from a Node-style error. */
export function osReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  const known: Record<string, string> = {
    ENOSPC: "no space left on device",
    EDQUOT: "disk quota exceeded",
    EFBIG: "file too large",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOENT: "no such file or directory",
    EISDIR: "is a directory",
    EROFS: "read-only file system",
    EIO: "input/output error",
    EBADF: "bad file descriptor",
    ENOTDIR: "a part of the path is not a directory",
    ELOOP: "too many symbolic links",
    ENAMETOOLONG: "name too long",
    ENXIO: "no such device or address",
    EPIPE: "broken pipe: its reader went away",
  };
  if (code && known[code]) return known[code];
  return err instanceof Error ? err.message : String(err);
}

/** An errno name (an error's code, or the detail a peer was told) that says the disk or the quota is full. */
export function isFullDiskErrno(code: unknown): boolean {
  return code === "ENOSPC" || code === "EDQUOT";
}

/** An errno name from link(2) that says the file system has no hard links (FAT, exFAT, some network mounts). */
export function isNoHardLinksErrno(code: unknown): boolean {
  return code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS";
}

/**
 * Said after a received file's failed write: what stays of it. A stream's `.part` goes (it cannot
 * resume); after a full disk what arrived stays for a resume once there is room: the file sent
 * again, or for a folder's entry the folder sent again (sent alone, the file would land beside
 * the folder, not into its `.part`). `resume` false: nothing resumes it (or nothing arrived).
 */
export function keptAfterWriteError(err: unknown, part: string, resume: "file" | "folder" | "stream" | false): string {
  if (resume === "stream") return "; a stream cannot resume, so what arrived was removed";
  if (!isFullDiskErrno((err as { code?: unknown }).code) || resume === false) return "";
  return `; what arrived is kept in ${part}: once there is room, the sender sending ${resendWords(resume === "folder")}`;
}

/** What sending again does to a cut file kept as a `.part`: the file resumes; a folder's entry, with the folder. */
export function resendWords(ofFolder: boolean): string {
  return ofFolder ? "the folder again continues it" : "it again resumes it";
}
