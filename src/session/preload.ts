/**
 * Loads, ahead of need, the native code a session uses at its first bytes: the record cipher,
 * libc (file writes, locks; the directory-relative calls a received file is made and stored
 * with), the XXH3 module (digests) and the PAKE. Each is loaded lazily,
 * which keeps it out of start-up, but loaded at its first use it would stall the event loop
 * for milliseconds (tens under load) right when a transfer starts, and chat lines wait behind
 * it. The CLI calls this once the listening code is shown, on a later turn of the event loop.
 */

import { preloadAead } from "../crypto/aes-gcm.ts";
import { loadPake } from "../crypto/key-schedule.ts";
import { loadDigests } from "../transfer/checksum.ts";
import { preloadDirCalls } from "../transfer/dir-calls.ts";
import { loadLibc } from "../transfer/libc.ts";

export function preloadSessionCode(): Promise<void> {
  preloadAead();
  loadLibc();
  preloadDirCalls();
  loadDigests();
  return loadPake();
}
