/**
 * Exclusive locks on open files, so two Parley processes receiving into one folder never
 * write the same `.part` (one would take the other's for a resume and write into it). flock(2)
 * through bun:ffi, non-blocking: the kernel drops a lock when its file is closed or its process
 * dies, so a crash never leaves a stale lock. Where libc cannot be loaded, nothing is locked
 * (each process still keeps its own `.part` files apart).
 */

import { dlopen, FFIType } from "bun:ffi";

const LOCK_EX = 2;
const LOCK_NB = 4;
const LIBC_NAMES = ["libc.so.6", "libc.so", "libc.dylib", "/usr/lib/libSystem.B.dylib"];

type Flock = (fd: number, operation: number) => number;
let flock: Flock | null | undefined;

function loadFlock(): Flock | null {
  for (const name of LIBC_NAMES) {
    try {
      const lib = dlopen(name, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
      return (fd, operation) => lib.symbols.flock(fd, operation) as number;
    } catch {
      // Not this one: try the next name.
    }
  }
  return null;
}

/**
 * Takes an exclusive lock on the open file `fd` without waiting.
 * @returns false when another open of the file holds it (another process is writing it);
 *   true when locked, or when locks are not available here
 */
export function tryLockExclusive(fd: number): boolean {
  if (flock === undefined) flock = loadFlock();
  if (flock === null) return true;
  return flock(fd, LOCK_EX | LOCK_NB) === 0;
}
