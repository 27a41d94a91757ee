/**
 * StreamReceiver: writes one incoming file to a file descriptor (standard output for
 * `parley receive --stdout`) as it arrives, hashing it, and checks the trailer at the end.
 * A stream cannot be taken back: on a checksum mismatch the bytes are already written, so
 * the failure is reported (and the command exits non-zero) instead.
 */

import { writeSync } from "node:fs";
import { type ChecksumAlgo, createDigest, type RunningDigest } from "./checksum.ts";
import { osReason, TransferError } from "./errors.ts";
import { checkTrailerCount, checkTrailerDigest } from "./file-receiver.ts";
import type { IncomingSink, ReceivedFile } from "./source.ts";

/** How long a full output pipe may stay full before the transfer fails. */
const OUTPUT_STALL_MS = 10_000;

export class StreamReceiver implements IncomingSink {
  received = 0;
  private readonly digest: RunningDigest;

  constructor(
    private readonly fd: number,
    readonly name: string,
    readonly size: number | null,
    readonly algo: ChecksumAlgo,
  ) {
    this.digest = createDigest(algo);
  }

  write(bytes: Uint8Array): void {
    if (this.size !== null && this.received + bytes.length > this.size) {
      throw new TransferError("E_SIZE_MISMATCH", `received more than the ${this.size} bytes offered`);
    }
    let done = 0;
    let stalledSince: number | undefined;
    while (done < bytes.length) {
      try {
        done += writeSync(this.fd, bytes, done, bytes.length - done);
        stalledSince = undefined;
      } catch (err) {
        // A non-blocking pipe (the reader's side may have set it so) that is full: wait for
        // it, but not for ever (this blocks the process, signals included).
        if ((err as { code?: string }).code === "EAGAIN") {
          stalledSince ??= performance.now();
          if (performance.now() - stalledSince < OUTPUT_STALL_MS) {
            Bun.sleepSync(1);
            continue;
          }
          throw new TransferError("E_WRITE", `the output has not been read for ${OUTPUT_STALL_MS / 1000} s`);
        }
        throw new TransferError("E_WRITE", `cannot write to the output: ${osReason(err)}`, { cause: err });
      }
    }
    this.digest.update(bytes);
    this.received += bytes.length;
  }

  finish(trailer: { bytes: number; algo: string; digest: string }): ReceivedFile {
    checkTrailerCount(trailer.bytes, this.received, this.size);
    const digest = checkTrailerDigest(trailer, this.algo, this.digest);
    return { path: "-", bytes: this.received, algo: this.algo, digest };
  }

  abort(): void {}
}
