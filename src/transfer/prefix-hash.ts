/**
 * Hashing the start of a file (the prefix of a resumed transfer) without freezing the process.
 * A multi-GiB `.part` takes seconds to read from disk; done in one go it would stop chat, PING
 * answers and every other transfer, and past PEER_TIMEOUT_MS the peer would hang up. So the
 * prefix is read in pieces and the event loop gets a turn every few milliseconds.
 */

import { readSync } from "node:fs";
import { type ChecksumAlgo, createDigest, type RunningDigest } from "./checksum.ts";
import { osReason, TransferError } from "./errors.ts";

/** Longest stretch of reading and hashing between two turns of the event loop. */
const SLICE_MS = 4;

/**
 * Feeds bytes [0, bytes) of a file into every digest, through `buffer`.
 * @param fd - asked before every read: undefined means the file was closed meanwhile
 *   (transfer cancelled, connection gone) and hashing stops
 * @returns how many bytes were hashed: `bytes`, or fewer when the file is shorter or closed
 * @throws the error of a failed read (the caller words it)
 */
export async function hashFilePrefix(
  fd: () => number | undefined,
  bytes: number,
  digests: readonly RunningDigest[],
  buffer: Uint8Array,
): Promise<number> {
  let at = 0;
  let sliceStarted = performance.now();
  while (at < bytes) {
    const current = fd();
    if (current === undefined) return at;
    const n = readSync(current, buffer, 0, Math.min(buffer.length, bytes - at), at);
    if (n === 0) return at;
    const piece = buffer.subarray(0, n);
    for (const digest of digests) digest.update(piece);
    at += n;
    if (at < bytes && performance.now() - sliceStarted > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStarted = performance.now();
    }
  }
  return at;
}

/** Read size when hashing a prefix. */
const READ_BYTES = 1 << 20;

/**
 * The receiving side of a resume: the digest of the first `bytes` of what is already there
 * (to offer in ACCEPT), which also start the running digest `running`.
 * @param label - the file as messages name it (`photo.jpg.part`)
 * @param verb - how messages say it is read ("read back" a `.part`, "read" a stored copy)
 * @returns the digest, or undefined when the file was closed meanwhile (transfer aborted)
 * @throws TransferError E_WRITE when reading fails or the file is shorter than `bytes`
 */
export async function digestOfPrefix(
  fd: () => number | undefined,
  bytes: number,
  algo: ChecksumAlgo,
  running: RunningDigest,
  label: string,
  verb: string,
): Promise<string | undefined> {
  const prefix = createDigest(algo);
  let hashed: number;
  try {
    const buffer = new Uint8Array(Math.max(1, Math.min(bytes, READ_BYTES)));
    hashed = await hashFilePrefix(fd, bytes, [prefix, running], buffer);
  } catch (err) {
    throw new TransferError("E_WRITE", `cannot ${verb} ${label}: ${osReason(err)}`, { cause: err });
  }
  if (fd() === undefined) return undefined;
  if (hashed !== bytes) throw new TransferError("E_WRITE", `${label} shrank while it was ${verb}`);
  return prefix.hex();
}
