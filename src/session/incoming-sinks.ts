/**
 * Where an accepted incoming file goes: a file in the download folder, or an entry of a folder
 * transfer under the folder made for it (an unfinished folder sent again checks the copies it
 * already has instead of taking them again). With `writeBehind`, slow file writes leave the
 * event loop (FileReceiver): incoming.ts ACKs bytes only once they are in the file.
 */

import type { FolderEntry } from "../protocol/message-types.ts";
import type { ChecksumAlgo } from "../transfer/checksum.ts";
import { TransferError } from "../transfer/errors.ts";
import { ExistingCopy } from "../transfer/existing-copy.ts";
import type { FileMeta } from "../transfer/file-meta.ts";
import { FileReceiver, type FileReceiverOptions } from "../transfer/file-receiver.ts";
import { DirReceiver, FolderTargets } from "../transfer/folder-target.ts";
import { type HeldDir, holdDownloadFolder } from "../transfer/held-dir.ts";
import type { IncomingSink } from "../transfer/source.ts";
import { type FileWrites, SLOW_WRITE_MS, type SlowWriteMark } from "../transfer/write-behind.ts";
import type { TransferInfo } from "./events.ts";
import { CHAT_SLOW_WRITE_MS, FS_STALL_MS, RELAY_SLOW_WRITE_MS } from "./limits.ts";

/**
 * How slow a synchronous file write must be before the next ones leave the event loop: through
 * a relay RELAY_SLOW_WRITE_MS; on a direct path CHAT_SLOW_WRITE_MS while we chat, else
 * FileReceiver's default (SLOW_WRITE_MS), asked at each write. While only the peer chats, the
 * default too, until a synchronous write stalls on the file system (FS_STALL_MS or more): then
 * CHAT_SLOW_WRITE_MS for as long as a line goes either way (CHAT_ACTIVE_MS), since the lines that
 * come meanwhile wait for such a write in our loop.
 */
export class SessionWriteMark implements SlowWriteMark {
  /**
   * The stretch of lines in which a write stalled on the file system. Kept by stretch, not as a
   * flag reset when a write sees the lines stopped: with no write between two stretches (a file
   * received while the peer chatted, another a minute later) a flag carried the stall over.
   */
  private stalledIn: number | undefined;

  constructor(private readonly lines: ChatLines) {}

  ms(): number {
    if (this.lines.chatting()) return CHAT_SLOW_WRITE_MS;
    const { stalledIn } = this;
    const stalled = stalledIn !== undefined && this.lines.conversing() && stalledIn === this.lines.lineStretch();
    return stalled ? CHAT_SLOW_WRITE_MS : SLOW_WRITE_MS;
  }

  tookSync(ms: number): void {
    if (ms >= FS_STALL_MS && this.lines.conversing()) this.stalledIn = this.lines.lineStretch();
  }
}

/** Whether chat lines go (the session's ChatActivity: chat-activity.ts). */
export interface ChatLines {
  /** We sent a line in the last CHAT_ACTIVE_MS. */
  chatting(): boolean;
  /** A line went either way in the last CHAT_ACTIVE_MS. */
  conversing(): boolean;
  /** Which stretch of lines this is: one begins with a line after CHAT_ACTIVE_MS without any. */
  lineStretch(): number;
}

/** The session's mark: a relay's fixed one, or a SessionWriteMark on the scheduler's lines. */
export function slowWriteMark(relayed: boolean, lines: ChatLines): number | SlowWriteMark {
  return relayed ? RELAY_SLOW_WRITE_MS : new SessionWriteMark(lines);
}

export class IncomingSinks {
  /** Folder entries' destinations, made on their first entry. */
  private folderTargets: FolderTargets | undefined;
  private download: HeldDir | undefined;

  private readonly fileOptions: FileReceiverOptions;

  /**
   * @param writeBehind - FileReceiverOptions.writeBehind (tests pass their own file calls and clock)
   * @param slowWriteMs - with writeBehind, how slow a write sends the next ones off the loop
   *   (default: FileReceiver's); a function is asked at each write
   */
  constructor(
    private readonly downloadDir: string,
    writeBehind: boolean | FileWrites = false,
    slowWriteMs?: number | SlowWriteMark,
  ) {
    this.fileOptions = slowWriteMs === undefined ? { writeBehind } : { writeBehind, slowWriteMs };
  }

  /** @throws TransferError when the file or its folder cannot be made */
  open(offered: TransferInfo, algo: ChecksumAlgo, meta: FileMeta): IncomingSink {
    const { folder } = offered;
    const download = this.held();
    if (!folder)
      return FileReceiver.open(download, offered.name, offered.id, offered.size, algo, meta, this.fileOptions);
    this.folderTargets ??= new FolderTargets(download);
    if (folder.dir) {
      if (offered.size !== 0) throw new TransferError("E_SIZE_MISMATCH", "an empty folder with data");
      const made = this.folderTargets.dirFor(folder);
      return new DirReceiver(made.parent, made.name, offered.name, algo);
    }
    // Held while the entry's file is opened in it (the receiver holds it on).
    const parent = this.folderTargets.parentDirFor(folder);
    try {
      this.folderTargets.passSpaceOn(folder, offered.size ?? 0);
      const name = folder.path.at(-1) ?? offered.name;
      // Sent again into its unfinished folder: a file stored whole last time is checked, not resent.
      const copy = this.folderTargets.isResumed(folder)
        ? ExistingCopy.open(parent, name, offered.id, offered.size, algo, meta)
        : undefined;
      // A full disk's `.part` resumes when the folder is sent again (into this unfinished folder).
      const options: FileReceiverOptions = { ...this.fileOptions, resumable: "folder" };
      return copy ?? FileReceiver.open(parent, name, offered.id, offered.size, algo, meta, options);
    } finally {
      parent.release();
    }
  }

  /** The name a folder's top-level folder is stored under here, once its first entry is opened. */
  rootName(folder: FolderEntry): string | undefined {
    return this.folderTargets?.rootName(folder.group);
  }

  /**
   * A lone file's offer not opened yet (its question still waits: `receive --ask`): the bytes of
   * an earlier attempt's `.part` that accepting it would resume, so a failure can say that the
   * sender sending it again resumes it. 0 when there is none or it cannot be told (the folder
   * cannot be opened): then no promise is made.
   */
  earlierPartBytes(offered: TransferInfo, meta: FileMeta): number {
    if (offered.folder) return 0;
    try {
      return FileReceiver.earlierPartBytes(this.held(), offered.name, offered.size, meta.token);
    } catch (err) {
      if (err instanceof TransferError) return 0;
      throw err;
    }
  }

  /** The connection is gone: unfinished folders' space is promised no more, held folders are let go. */
  connectionEnded(): void {
    this.folderTargets?.releaseSpace();
    this.folderTargets?.close();
    this.download?.release();
    this.download = undefined;
  }

  /** The download folder, held (held-dir.ts) from the first file to the connection's end. */
  private held(): HeldDir {
    this.download ??= holdDownloadFolder(this.downloadDir);
    return this.download;
  }

  /**
   * An incoming folder entry ended: the folder is finished once all have ended well. One that
   * ended with its whole folder (folderRest) ends those never to be offered too (a folderOnly one, only those).
   */
  entryEnded(info: TransferInfo, ok: boolean): void {
    if (!info.folder) return;
    // Also one declined before any folder was made: its folder counts it when made.
    this.folderTargets ??= new FolderTargets(this.downloadDir);
    this.folderTargets.entryEnded(info.folder, ok, (info.folderOnly ? 0 : 1) + (info.folderRest ?? 0));
  }
}
