/**
 * SO_RCVBUF on a node:net socket's descriptor through bun:ffi (Linux; a no-op elsewhere), for
 * bench/delay-relay.ts: its sockets from the senders keep a small receive buffer, so bytes the
 * path model has no room for wait in the sender's kernel, as on a real path, instead of piling
 * up in the relay's (autotuned to megabytes on loopback).
 */

import { dlopen, FFIType, ptr } from "bun:ffi";
import type { Socket } from "node:net";

const SOL_SOCKET = 1;
const SO_RCVBUF = 8;

const SYMBOLS = {
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
} as const;

let libc: ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"] | null | undefined;

function load(): typeof libc {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== "linux") return libc;
  try {
    libc = dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    // No libc by that name: the relay keeps the kernel's autotuned buffer.
  }
  return libc;
}

/** Sets the socket's receive buffer (the kernel doubles it for its bookkeeping); false if it could not. */
export function setReceiveBuffer(socket: Socket, bytes: number): boolean {
  const calls = load();
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (!calls || fd === undefined || fd < 0) return false;
  const value = new Int32Array([bytes]);
  return calls.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(value), 4) === 0;
}
