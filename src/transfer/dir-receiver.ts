/**
 * DirReceiver: an empty directory of a folder transfer, made when accepted (folder-target.ts);
 * no data; verified by an END of 0 bytes. Cancelled, it is removed again if still empty,
 * through the folder it was made in (held: held-dir.ts), never by a path looked up again.
 */

import type { ChecksumAlgo } from "./checksum.ts";
import { createDigest } from "./checksum.ts";
import { TransferError } from "./errors.ts";
import type { HeldDir } from "./held-dir.ts";
import type { IncomingSink, ReceivedFile } from "./source.ts";

export class DirReceiver implements IncomingSink {
  readonly received = 0;
  /** Where the directory was made. */
  readonly path: string;
  private held = true;

  /**
   * @param parent - the folder it was made in, held for this receiver (released when it ends)
   * @param dirName - its name there
   */
  constructor(
    private readonly parent: HeldDir,
    private readonly dirName: string,
    readonly name: string,
    private readonly algo: ChecksumAlgo,
  ) {
    this.path = parent.pathOf(dirName);
  }

  write(): void {
    throw new TransferError("E_SIZE_MISMATCH", "data for an empty folder");
  }

  finish(trailer: { bytes: number }): ReceivedFile {
    if (trailer.bytes !== 0) throw new TransferError("E_SIZE_MISMATCH", "data for an empty folder");
    this.letGo();
    return { path: this.path, bytes: 0, algo: this.algo, digest: createDigest(this.algo).hex() };
  }

  abort(): void {
    try {
      if (this.held) this.parent.rmdir(this.dirName); // only if still empty
    } catch {
      // Not empty or gone: leave it.
    }
    this.letGo();
  }

  private letGo(): void {
    if (this.held) this.parent.release();
    this.held = false;
  }
}
