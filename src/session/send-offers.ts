/**
 * What this side's sends offer the peer: each send (a file, a byte stream, a folder's empty
 * directory) becomes an outgoing transfer with its id and the source it reads, queued in
 * OutgoingTransfers. Our ids have one parity and the peer's the other (the dialer's are odd),
 * and they only grow.
 *
 * A folder's entry, or one of a command's several sends, was promised to the peer (it counts
 * the command's transfers), so one that cannot be read is offered all the same and fails at
 * once (UnsendableEntry): the peer hears which will not come and why. A lone file that cannot
 * be read is refused here instead (the TransferError goes to the caller).
 */

import { basename } from "node:path";
import type { CommandPlace, FolderEntry } from "../protocol/message-types.ts";
import type { ChecksumAlgo } from "../transfer/checksum.ts";
import { TransferError } from "../transfer/errors.ts";
import { FileSender } from "../transfer/file-sender.ts";
import type { FileId } from "../transfer/folder-walk.ts";
import { checkReadableFile } from "../transfer/readable-file.ts";
import { EmptySource, StreamSender, UnsendableEntry } from "../transfer/stream-sender.ts";
import type { FrameChannel } from "./channel.ts";
import type { OutgoingTransfers } from "./outgoing.ts";
import type { OfferPlace } from "./outgoing-shares.ts";

export class SendOffers {
  private nextId: number;

  /**
   * @param checksum - the digest of the files this side sends
   * @param chunkBytes - DATA payload bytes a record (fewer under --limit-rate: rate-limiter.ts)
   */
  constructor(
    origin: FrameChannel["origin"],
    private readonly outgoing: OutgoingTransfers,
    private readonly checksum: ChecksumAlgo,
    private readonly chunkBytes: number,
  ) {
    this.nextId = origin === "dialed" ? 1 : 2;
  }

  /** The parity of our ids, 0 or 1 (the peer's have the other). */
  get parity(): number {
    return this.nextId % 2;
  }

  /**
   * The file at `path`. @param listed - a folder entry's FileId
   * @throws TransferError when it is missing, not a regular file, or unreadable (a lone file)
   */
  file(path: string, folder?: FolderEntry, command?: CommandPlace, listed?: FileId): void {
    const promised = folder !== undefined || command !== undefined;
    let size: number;
    try {
      size = checkReadableFile(path);
    } catch (err) {
      if (!(err instanceof TransferError) || !promised) throw err;
      const name = basename(path);
      this.offer(name, 0, { folder, command }, (id) => new UnsendableEntry(id, name, this.checksum, err));
      return;
    }
    this.offer(path, size, { folder, command }, (id) => {
      try {
        return new FileSender(id, path, size, this.checksum, this.chunkBytes, folder && (listed ?? true));
      } catch (err) {
        // Gone (or changed) before its turn to be offered (sends queue): promised all the same.
        if (!(err instanceof TransferError) || !promised) throw err;
        return new UnsendableEntry(id, basename(path), this.checksum, err);
      }
    });
  }

  /** A byte stream of unknown length (stdin) under `name`. */
  stream(name: string, stream: ReadableStream<Uint8Array>, command?: CommandPlace): void {
    this.offer(name, null, { command }, (id) => new StreamSender(id, name, stream, this.checksum, this.chunkBytes));
  }

  /** An empty directory of a folder being sent. */
  emptyDir(folder: FolderEntry, command?: CommandPlace): void {
    const name = folder.path.at(-1) ?? folder.root;
    this.offer(name, 0, { folder, command }, (id) => new EmptySource(id, name, this.checksum));
  }

  private offer(
    name: string,
    size: number | null,
    place: OfferPlace,
    open: Parameters<OutgoingTransfers["enqueue"]>[4],
  ): void {
    this.outgoing.enqueue(name, size, place, () => this.takeId(), open);
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId += 2;
    return id;
  }
}
