/**
 * A file read by position, opened for one send to a plain wormhole peer: the session
 * (session/plain-transfer.ts) asks for pieces and never touches the file system itself.
 */

import { closeSync, constants, openSync, readSync } from "node:fs";
import { osReason, TransferError } from "./errors.ts";
import { type HeadPrint, headPrint, regularFileStats, rewrittenSince } from "./file-sender.ts";

export interface PieceReader {
  /**
   * Reads into `into` from byte `position`; @returns the bytes read (0 at the end of the file).
   * @throws TransferError E_READ
   */
  read(into: Uint8Array, position: number): number;
  /** Closes the file; further calls do nothing. */
  close(): void;
  /**
   * Whether the file was written over in place since it was opened: its mtime moved and it is
   * not larger than `size` (the offer's), or it is larger and its first bytes read are not what
   * they were (a rewrite; one that only grew, a log, keeps the offer's bytes).
   */
  rewritten?(size: number): boolean;
}

/** @throws TransferError E_READ when the file cannot be opened, E_NOT_A_FILE when it is no regular file (any more) */
export function openPieceReader(path: string): PieceReader {
  let fd: number | undefined;
  try {
    // O_NONBLOCK: opened only once the peer accepted (a person's y/n later), by path: a named
    // pipe swapped in meanwhile blocked this open, and the whole process (Ctrl-C too), until
    // killed. fstat then says what was really opened, as FileSender does.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new TransferError("E_READ", `cannot read ${path}: ${osReason(err)}`, { cause: err });
  }
  const openedMtimeMs = regularFileStats(fd, path).mtimeMs;
  let head: HeadPrint | undefined;
  return {
    read(into, position) {
      if (fd === undefined) throw new TransferError("E_READ", `cannot read ${path}: the file is closed`);
      try {
        const n = readSync(fd, into, 0, into.length, position);
        if (n > 0) head ??= headPrint(position, into.subarray(0, n));
        return n;
      } catch (err) {
        throw new TransferError("E_READ", `cannot read ${path}: ${osReason(err)}`, { cause: err });
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
    rewritten(size) {
      if (fd === undefined) return false;
      return rewrittenSince(fd, openedMtimeMs, size, head);
    },
  };
}
