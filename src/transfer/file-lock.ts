/**
 * Exclusive locks on open files, so two Parley processes receiving into one folder never
 * write the same `.part` (one would take the other's for a resume and write into it). flock(2)
 * through bun:ffi, non-blocking: the kernel drops a lock when its file is closed or its process
 * dies, so a crash never leaves a stale lock. Where libc cannot be loaded, nothing is locked
 * (each process still keeps its own `.part` files apart).
 */

import { loadLibc } from "./libc.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;

/**
 * Takes an exclusive lock on the open file `fd` without waiting.
 * @returns false when another open of the file holds it (another process is writing it);
 *   true when locked, or when locks are not available here
 */
export function tryLockExclusive(fd: number): boolean {
  const libc = loadLibc();
  if (libc === null) return true;
  return libc.flock(fd, LOCK_EX | LOCK_NB) === 0;
}
