/**
 * The garbage collector's budget: a large buffer the process keeps alive and never touches, so
 * JavaScriptCore collects far less often during a transfer.
 *
 * JSC starts a young-generation (Eden) collection once the bytes allocated since the last one
 * exceed a budget that grows with the heap's size, and the bytes of live ArrayBuffers count as
 * heap. Parley's heap is small (a few MiB), so its budget was 8-12 MB; yet every record
 * allocates about 256 KiB the collector counts (Bun's buffer for each socket read, node:crypto's
 * output for each seal or open), even though each is released at once (ArrayBuffer.transfer(0):
 * crypto/read-buffers.ts, aes-gcm-node.ts). So a 1 GiB transfer ran ~180 collections on the
 * receiver and ~90 on the sender, each stopping the process for 1-6 ms (20 and more under
 * load), and a chat line that arrived meanwhile waited for them. With this budget none is started
 * by allocation any more; the 15-40 a GiB left are the collector's own timer
 * (DESIGN-NOTES.md, "The garbage collector's budget").
 *
 * It costs address space, not memory: the buffer is an anonymous mapping nobody writes, so none
 * of it is ever resident (transfer/libc.ts untouchedMemory; an ArrayBuffer from the allocator
 * was sometimes cleared byte by byte, all 256 MiB resident). It works only because the large
 * per-record buffers are released as soon as they are read: a per-record allocation left for the
 * collector would now pile up for longer before it is freed. Linux only (elsewhere: no budget).
 */

import { untouchedMemory } from "../transfer/libc.ts";

/** The budget's bytes: address space only, never resident. */
export const GC_BUDGET_BYTES = 256 * 1024 * 1024;

let budget: ArrayBuffer | null | undefined;

/**
 * Reserves the budget for the rest of the process (once; later calls return the same buffer),
 * null where it cannot be had. JSC sizes the next budget only when a collection ends, so one
 * runs here, while the heap is small and nothing waits (a few ms, before the first transfer):
 * else the first transfer's first 8 MB would still end in a collection by the old budget, with
 * the first chat lines waiting behind it.
 */
export function reserveGcBudget(): ArrayBuffer | null {
  if (budget === undefined) {
    budget = untouchedMemory(GC_BUDGET_BYTES);
    if (budget) Bun.gc(true);
  }
  return budget;
}
