/**
 * ThreadUsage: the calling thread's own CPU time and how often it has slept in the kernel
 * (getrusage RUSAGE_THREAD through libc, Linux only), so a write that took long by the clock
 * can be told apart from one that only waited for a CPU (write-behind.ts): a preempted thread
 * gains neither CPU time nor voluntary context switches. Undefined where it cannot be read.
 */

import { FFIType, ptr } from "bun:ffi";
import { lazyLibrary } from "../native/library.ts";

export interface ThreadUsage {
  /** User plus system CPU time of this thread, ms. */
  readonly cpuMs: number;
  /** Voluntary context switches of this thread (it slept: I/O, a lock, writeback throttling). */
  readonly sleeps: number;
}

const RUSAGE_THREAD = 1;
/** struct rusage on 64-bit Linux: two timevals, then 14 longs; ru_nvcsw is the 13th of them. */
const RUSAGE_BYTES = 144;
const NVCSW_OFFSET = 128;

const loadGetrusage = lazyLibrary(["libc.so.6", "libc.so"], {
  getrusage: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
} as const);

/** Filled by each call (read a few times per GiB written: no new buffer each time). */
const usage = new DataView(new ArrayBuffer(RUSAGE_BYTES));

/** This thread's usage so far, or undefined (not Linux, no libc, the call failed). */
export function threadUsage(): ThreadUsage | undefined {
  if (process.platform !== "linux") return undefined;
  const libc = loadGetrusage();
  if (libc?.getrusage(RUSAGE_THREAD, ptr(usage)) !== 0) return undefined;
  const seconds = (at: number) => Number(usage.getBigInt64(at, true)) + Number(usage.getBigInt64(at + 8, true)) / 1e6;
  return {
    cpuMs: (seconds(0) + seconds(16)) * 1000,
    sleeps: Number(usage.getBigInt64(NVCSW_OFFSET, true)),
  };
}
