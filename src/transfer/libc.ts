/**
 * The few libc calls Node's fs lacks (flock and its errno, extended attributes, lseek's SEEK_HOLE), through bun:ffi, loaded on
 * first use. Null where libc cannot be loaded: callers then do without (see file-lock.ts,
 * part-mark.ts).
 */

import { FFIType } from "bun:ffi";
import { type LibrarySymbols, lazyLibrary } from "../native/library.ts";

const LIBC_NAMES = ["libc.so.6", "libc.so", "libc.dylib", "/usr/lib/libSystem.B.dylib"];

const SYMBOLS = {
  flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  fsetxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  fgetxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  flistxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  /** For SEEK_HOLE (part-intact.ts). */
  lseek: { args: [FFIType.i32, FFIType.i64, FFIType.i32], returns: FFIType.i64 },
  /** Where this thread's errno lives (glibc and musl). */
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

export type Libc = LibrarySymbols<typeof SYMBOLS>;

export const loadLibc: () => Libc | null = lazyLibrary(LIBC_NAMES, SYMBOLS);
