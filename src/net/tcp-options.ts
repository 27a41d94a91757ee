/**
 * TCP socket options Bun's socket API does not offer, set through bun:ffi on the socket's
 * descriptor (Linux only; elsewhere, or without libc, they are skipped and report false).
 *
 * TCP_NOTSENT_LOWAT: the most the kernel holds of a socket's bytes not yet sent. Past it a
 * non-blocking write takes no more (about one segment may go over), and the socket reads as
 * writable again once that backlog falls under half of it. Bytes the path cannot take yet then
 * wait in userspace, where a later frame may still go ahead of them.
 */

import { FFIType, ptr } from "bun:ffi";
import { lazyLibrary } from "../native/library.ts";

const IPPROTO_TCP = 6;
const TCP_NOTSENT_LOWAT = 25;

const SYMBOLS = {
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
} as const;

const loadSockoptLibc = lazyLibrary(["libc.so.6", "libc.so"], SYMBOLS);

function sockoptCalls() {
  return process.platform === "linux" ? loadSockoptLibc() : null;
}

/**
 * Sets the socket's TCP_NOTSENT_LOWAT to `bytes` (0: back to the system's default, no limit).
 * False when it could not be set (not Linux, no libc, not a TCP socket).
 */
export function setNotSentLowWater(fd: number, bytes: number): boolean {
  return setIntOption(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, bytes);
}

/** The socket's TCP_NOTSENT_LOWAT as set on it (0: never set), or undefined when unreadable. */
export function notSentLowWater(fd: number): number | undefined {
  return intOption(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT);
}

/** The value setIntOption passes (set about once a record: no new array each time). */
const optionValue = new Int32Array(1);

/** Sets an int socket option; false when it could not (not Linux, no libc, not a socket). */
function setIntOption(fd: number, level: number, name: number, value: number): boolean {
  const libc = sockoptCalls();
  if (!libc || !(fd >= 0)) return false;
  optionValue[0] = value;
  return libc.setsockopt(fd, level, name, ptr(optionValue), 4) === 0;
}

/** An int socket option's value, or undefined when unreadable (not Linux, no libc, not a socket). */
function intOption(fd: number, level: number, name: number): number | undefined {
  const libc = sockoptCalls();
  if (!libc || !(fd >= 0)) return undefined;
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  return libc.getsockopt(fd, level, name, ptr(value), ptr(length)) === 0 ? value[0] : undefined;
}

const SOL_SOCKET = 1;
const SO_RCVLOWAT = 18;

/**
 * Sets the socket's SO_RCVLOWAT to `bytes` (at least 1): the socket reads as readable only once
 * that many bytes are waiting (or on end of stream, an error, or a receive window too small to
 * let that many in: Linux wakes the reader then anyway), and Linux caps it at half the receive
 * buffer. False when it could not be set (not Linux, no libc, not a socket).
 */
export function setReceiveLowWater(fd: number, bytes: number): boolean {
  return setIntOption(fd, SOL_SOCKET, SO_RCVLOWAT, Math.max(1, bytes));
}

/** The socket's SO_RCVLOWAT (1 unless set), or undefined when unreadable. */
export function receiveLowWater(fd: number): number | undefined {
  return intOption(fd, SOL_SOCKET, SO_RCVLOWAT);
}
