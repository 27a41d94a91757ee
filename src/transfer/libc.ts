/**
 * The few libc calls Node's fs lacks (flock and its errno, extended attributes, an anonymous
 * mapping), through bun:ffi, loaded on first use. Null where libc cannot be loaded: callers then
 * do without (see file-lock.ts, part-mark.ts, session/gc-budget.ts).
 */

import { FFIType, toArrayBuffer } from "bun:ffi";
import { type LibrarySymbols, lazyLibrary } from "../native/library.ts";

const LIBC_NAMES = ["libc.so.6", "libc.so", "libc.dylib", "/usr/lib/libSystem.B.dylib"];

const SYMBOLS = {
  flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  fsetxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  fgetxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  flistxattr: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  mmap: {
    args: [FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64],
    returns: FFIType.ptr,
  },
  /** Where this thread's errno lives (glibc and musl). */
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

export type Libc = LibrarySymbols<typeof SYMBOLS>;

export const loadLibc: () => Libc | null = lazyLibrary(LIBC_NAMES, SYMBOLS);

/** Linux's mmap flags (other systems number them differently). */
const PROT_READ = 0x1;
const PROT_WRITE = 0x2;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MAP_NORESERVE = 0x4000;

/**
 * `bytes` of fresh anonymous memory as an ArrayBuffer, never freed: the kernel maps a page only
 * when it is first written (MAP_NORESERVE: nor is swap set aside), so memory nobody writes is
 * never resident. An allocator's zeroed buffer is not that sure: one carved from memory it had
 * used before is cleared byte by byte, all of it resident at once. Linux only; null elsewhere
 * or when the mapping fails.
 */
export function untouchedMemory(bytes: number): ArrayBuffer | null {
  const libc = process.platform === "linux" ? loadLibc() : null;
  if (!libc) return null;
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  const at = libc.mmap(null, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  // MAP_FAILED is (void *) -1: beyond any address a number holds exactly.
  if (!at || at > Number.MAX_SAFE_INTEGER) return null;
  return toArrayBuffer(at, 0, bytes);
}
