/**
 * The peer's folders in one session, counted entry by entry. A folder is offered entry by
 * entry but accepted (and with --ask asked about) as a whole, by what its first entry
 * announces: its name, its number of entries and its bytes. So every later entry of the same
 * folder must tell the same, and no more entries may come than were announced; a peer that
 * does otherwise is breaking the protocol (pure: no I/O).
 */

import { ProtocolError } from "../protocol/errors.ts";
import { endsRefusedFolders } from "../protocol/features.ts";
import type { CommandPlace, FolderEntry, Hello } from "../protocol/message-types.ts";
import type { TransferInfo } from "./events.ts";
import { MAX_ENDED_PEER_FOLDERS, MAX_OPEN_PEER_FOLDERS, MAX_PEER_FOLDERS } from "./limits.ts";

/** A folder refused whole (not enough space for all of it): REJECT's code and detail. */
export const REFUSED_WHOLE = { code: "E_NO_SPACE", detail: "folder" } as const;

/**
 * REJECT codes that, with detail "folder", refuse a folder whole at its first entry: no room for
 * all of it (REFUSED_WHOLE), or the receiver's answer to the folder (session 25: `receive --ask`
 * said no, or its input ended; `--stdout` takes no folder), which before named one of its entries.
 */
const WHOLE_REFUSAL_CODES: ReadonlySet<string> = new Set([
  REFUSED_WHOLE.code,
  "E_REJECTED",
  "E_NO_ANSWER",
  "E_STDOUT_FOLDER",
]);

/**
 * A folder cancelled whole (`cancel ID` on one of its entries, either side): CANCEL's code and
 * detail, and REJECT's for an entry of it offered after. An older peer ignores the detail: it
 * ends that entry alone (a receiver then declines the rest; a sender offers no more).
 */
export const CANCELLED_WHOLE = { code: "E_CANCELLED", detail: "folder" } as const;

/** A peer's CANCEL that is CANCELLED_WHOLE. */
export function cancelsWhole(reason: { readonly code: string; readonly detail?: string | undefined }): boolean {
  return reason.code === CANCELLED_WHOLE.code && reason.detail === CANCELLED_WHOLE.detail;
}

/** A refusal (a peer's REJECT, or our own decline) of a whole folder (WHOLE_REFUSAL_CODES, detail "folder"). */
export function refusesWhole(reason: { readonly code: string; readonly detail?: string | undefined }): boolean {
  return WHOLE_REFUSAL_CODES.has(reason.code) && reason.detail === REFUSED_WHOLE.detail;
}

/**
 * The TransferInfo of `folder` itself, ended whole with no entry of it to carry that
 * (TransferInfo.folderOnly): its `rest` entries never offered end with it.
 */
export function wholeFolderInfo(
  direction: TransferInfo["direction"],
  folder: Pick<FolderEntry, "group" | "root" | "entries" | "bytes">,
  rest: number,
  command: CommandPlace | undefined,
): TransferInfo {
  const { group, root, entries, bytes } = folder;
  return {
    id: group,
    direction,
    name: root,
    size: bytes,
    folder: { group, root, path: [], entries, bytes },
    ...(command ? { command } : {}),
    folderRest: rest,
    folderOnly: true,
  };
}

/** What a folder's first entry announced, and how many of its entries came and ended. */
interface Known {
  readonly root: string;
  readonly entries: number;
  readonly bytes: number;
  offered: number;
  /** Entries offered that have ended here (stored, failed, declined, cancelled). */
  settled: number;
  readonly command: CommandPlace | undefined;
}

export class PeerFolders {
  /**
   * By the peer's folder id: the folders still open, and the last MAX_ENDED_PEER_FOLDERS ended
   * (late entries of one ended whole are declined with it; a FOLDER_END may cross our cancel).
   * An older ended folder is let go: a peer offering and cancelling folder after folder held a
   * few hundred bytes each, up to MAX_PEER_FOLDERS (attack31).
   */
  private readonly folders = new Map<number, Known>();
  /**
   * Folders refused whole whose sender ends them there, and folders cancelled whole: their later
   * entries were counted with the refusal or the cancel; by group, what REJECTs one still offered.
   */
  private readonly refused = new Map<number, { readonly code: string; readonly detail: string }>();
  /** The folders of `folders` that have ended (whole, or every entry offered and ended), oldest first. */
  private readonly ended = new Set<number>();
  /** Folders the peer has offered in this session, those let go included. */
  private total = 0;
  /** Some ended folder has been let go: a FOLDER_END for a group not known may be one of them. */
  private forgotten = false;

  /**
   * Counts one offered entry.
   * @returns REJECT's reason when its folder was refused whole and its sender ends it there, or
   *   was cancelled whole (the entry, in flight then or from an older sender, was counted in the
   *   refusal's or the cancel's folderRest: it is declined unsaid); else undefined
   * @throws ProtocolError past the count, for a folder told otherwise, past MAX_PEER_FOLDERS in
   *   the session or past MAX_OPEN_PEER_FOLDERS open at once
   */
  offered(folder: FolderEntry, command?: CommandPlace): { readonly code: string; readonly detail: string } | undefined {
    if (folder.entries < 1) throw new ProtocolError("E_BAD_MESSAGE", `folder ${folder.group} announced no entries`);
    const known = this.folders.get(folder.group);
    if (!known) {
      if (this.total >= MAX_PEER_FOLDERS) {
        throw new ProtocolError("E_BAD_MESSAGE", `more than ${MAX_PEER_FOLDERS} folders in one session`);
      }
      if (this.folders.size - this.ended.size >= MAX_OPEN_PEER_FOLDERS) {
        throw new ProtocolError("E_BAD_MESSAGE", `more than ${MAX_OPEN_PEER_FOLDERS} folders open at once`);
      }
      this.total++;
      const { root, entries, bytes } = folder;
      this.folders.set(folder.group, { root, entries, bytes, offered: 1, settled: 0, command });
      return undefined;
    }
    if (known.root !== folder.root || known.entries !== folder.entries || known.bytes !== folder.bytes) {
      throw new ProtocolError("E_BAD_MESSAGE", `an entry of folder ${folder.group} tells another name, count or size`);
    }
    if (++known.offered > known.entries) {
      throw new ProtocolError(
        "E_BAD_MESSAGE",
        `folder ${folder.group} announced ${known.entries} entries, then offered more`,
      );
    }
    return this.refused.get(folder.group);
  }

  /** An entry of `group` offered (and taken up: not declined unsaid by offered()) has ended here, however. */
  entryEnded(group: number): void {
    const known = this.folders.get(group);
    if (!known) return;
    known.settled++;
    if (known.offered === known.entries && known.settled >= known.offered) this.end(group);
  }

  /**
   * `cancel ID` here on `first`: for a folder's entry, the whole folder is cancelled (cancelled(),
   * first.info gets its folderRest). @returns `first` and every other live entry of its folder
   */
  cancelling<T extends { info: TransferInfo }>(first: T, live: ReadonlyMap<number, T>): T[] {
    const group = first.info.folder?.group;
    if (group === undefined) return [first];
    first.info = this.cancelled(first.info);
    return [first, ...[...live.values()].filter((t) => t !== first && t.info.folder?.group === group)];
  }

  /**
   * The folder of `info` is cancelled whole (here, or by the peer's CANCELLED_WHOLE): its entries
   * not offered yet end with this one, `info` with folderRest (their count), the first time;
   * those still offered are declined unsaid.
   */
  cancelled(info: TransferInfo): TransferInfo {
    const known = info.folder && this.folders.get(info.folder.group);
    if (!known || !info.folder || this.refused.has(info.folder.group)) return info;
    this.refused.set(info.folder.group, CANCELLED_WHOLE);
    this.end(info.folder.group);
    return { ...info, folderRest: known.entries - known.offered };
  }

  /**
   * FOLDER_END: the peer's folder `group` is ended whole by its sender. @returns how many of its
   * entries were never offered (they end now), or undefined when already ended whole (refused,
   * cancelled: that may cross)
   * @throws ProtocolError for a folder the peer never offered (its OFFER always goes first)
   */
  endedWhole(group: number): number | undefined {
    const known = this.folders.get(group);
    if (!known) {
      if (this.forgotten) return undefined; // perhaps one ended long ago and let go
      throw new ProtocolError("E_UNEXPECTED", `FOLDER_END for folder ${group}, never offered`);
    }
    if (this.refused.has(group)) return undefined;
    this.refused.set(group, CANCELLED_WHOLE);
    this.end(group);
    return known.entries - known.offered;
  }

  /** wholeFolderInfo of the peer's folder `group` (known: endedWhole said so), with `rest` entries never offered. */
  wholeInfo(group: number, rest: number): TransferInfo {
    const known = this.folders.get(group) as { root: string; entries: number; bytes: number; command?: CommandPlace };
    return wholeFolderInfo("receive", { group, ...known }, rest, known.command);
  }

  /**
   * An entry declined for `reason`. When that refuses its whole folder (refusesWhole: no room,
   * or the answer to the folder) and the peer (`peer`) ends a refused folder there
   * (Feature.RefusedFolderEnds), the folder's entries not offered yet end with this one: `info`
   * with folderRest, their count, and folderRefused (its line names the folder); entries
   * offered after are declined unsaid.
   */
  declined(
    info: TransferInfo,
    reason: { readonly code: string; readonly detail?: string | undefined },
    peer: Hello | undefined,
  ): TransferInfo {
    const known = info.folder && this.folders.get(info.folder.group);
    if (!known || !info.folder || !refusesWhole(reason)) return info;
    if (!endsRefusedFolders(peer) || this.refused.has(info.folder.group)) return info;
    this.refused.set(info.folder.group, { code: reason.code, detail: REFUSED_WHOLE.detail });
    this.end(info.folder.group);
    return { ...info, folderRest: known.entries - known.offered, folderRefused: true };
  }

  /** Folder `group` has ended: remembered among the last MAX_ENDED_PEER_FOLDERS ended, the oldest let go. */
  private end(group: number): void {
    if (this.ended.has(group)) return;
    this.ended.add(group);
    if (this.ended.size <= MAX_ENDED_PEER_FOLDERS) return;
    const oldest = this.ended.values().next().value as number;
    this.ended.delete(oldest);
    this.folders.delete(oldest);
    this.refused.delete(oldest);
    this.forgotten = true;
  }
}
