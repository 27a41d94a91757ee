/**
 * Socket reads as buffers of their own (Connection.freshChunks): whether a chunk is a whole
 * ArrayBuffer, and releasing one once read. Detaching hands the memory straight back to the
 * allocator, so the next read reuses warm pages instead of faulting in pages the allocator
 * gave back to the kernel while the buffer waited for a garbage collection (DESIGN-NOTES.md).
 */

/** The chunk's ArrayBuffer when the chunk is all of it (as a socket read is), else undefined. */
export function wholeBufferOf(chunk: Uint8Array): ArrayBuffer | undefined {
  const buffer = chunk.buffer;
  return buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength
    ? buffer
    : undefined;
}

/** Detaches `buffer` (once: a detached one is left as it is). */
export function releaseBuffer(buffer: ArrayBuffer): void {
  if (!buffer.detached) buffer.transfer(0);
}
