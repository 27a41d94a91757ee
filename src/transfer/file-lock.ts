/**
 * Exclusive locks on open files, so two Parley processes receiving into one folder never
 * write the same `.part` (one would take the other's for a resume and write into it). flock(2)
 * through bun:ffi, non-blocking: the kernel drops a lock when its file is closed or its process
 * dies, so a crash never leaves a stale lock. Where libc cannot be loaded, nothing is locked
 * (each process still keeps its own `.part` files apart).
 *
 * Only EWOULDBLOCK means "another process holds it". Any other failure (ENOLCK on some network
 * file systems, ...) is an error of its own: counting it as "taken" would make a receiver try
 * a thousand names, each leaving an empty file behind.
 */

import { read } from "bun:ffi";
import { constants } from "node:os";
import { loadLibc } from "./libc.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;
/** EWOULDBLOCK (= EAGAIN): 11 on Linux, 35 on macOS and the BSDs. */
const EWOULDBLOCK = process.platform === "linux" ? 11 : 35;

/** flock(2) failed for another reason than "held by someone else". */
export class LockError extends Error {
  override name = "LockError";
  constructor(readonly errno: number) {
    super(`cannot lock the file (errno ${errno})`);
  }
}

/** One flock(2) call: its result and, when it failed, errno. */
export type FlockCall = (fd: number, operation: number) => { result: number; errno: number };

const libcFlock: FlockCall = (fd, operation) => {
  const libc = loadLibc() as NonNullable<ReturnType<typeof loadLibc>>;
  const result = libc.flock(fd, operation);
  if (result === 0) return { result, errno: 0 };
  const errnoAt = libc.__errno_location();
  return { result, errno: errnoAt === null ? -1 : read.i32(errnoAt, 0) };
};

let flockCall: FlockCall | undefined;

/** Replaces flock(2) (tests inject failures here); undefined restores the real call. */
export function replaceFlockForTests(call: FlockCall | undefined): void {
  flockCall = call;
}

/**
 * Takes an exclusive lock on the open file `fd` without waiting.
 * @returns false when another open of the file holds it (another process is writing it);
 *   true when locked, or when locks are not available here
 * @throws LockError when flock fails for any other reason
 */
export function tryLockExclusive(fd: number): boolean {
  let call = flockCall;
  if (call === undefined) {
    if (loadLibc() === null) return true;
    call = libcFlock;
  }
  const { result, errno } = call(fd, LOCK_EX | LOCK_NB);
  if (result === 0) return true;
  if (errno === EWOULDBLOCK) return false;
  throw new LockError(errno);
}

/** "ENOLCK" for its number here; "errno N" when the number has no name. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}
