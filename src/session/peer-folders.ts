/**
 * The peer's folders in one session, counted entry by entry. A folder is offered entry by
 * entry but accepted (and with --ask asked about) as a whole, by what its first entry
 * announces: its name, its number of entries and its bytes. So every later entry of the same
 * folder must tell the same, and no more entries may come than were announced; a peer that
 * does otherwise is breaking the protocol (pure: no I/O).
 */

import { endsRefusedFolders, type FolderEntry, type Hello, ProtocolError } from "../protocol/index.ts";
import type { TransferError } from "../transfer/index.ts";
import type { TransferInfo } from "./events.ts";
import { MAX_PEER_FOLDERS } from "./limits.ts";

/** A folder refused whole (not enough space for all of it): REJECT's code and detail. */
export const REFUSED_WHOLE = { code: "E_NO_SPACE", detail: "folder" } as const;

/** A refusal (a peer's REJECT, or our own TransferError) that is REFUSED_WHOLE. */
export function refusesWhole(reason: { readonly code: string; readonly detail?: string | undefined }): boolean {
  return reason.code === REFUSED_WHOLE.code && reason.detail === REFUSED_WHOLE.detail;
}

export class PeerFolders {
  /** By the peer's folder id: what the first entry announced, and how many entries came. */
  private readonly folders = new Map<number, { root: string; entries: number; bytes: number; offered: number }>();
  /** Folders refused whole whose sender ends them there: their later entries were counted with the refusal. */
  private readonly refused = new Set<number>();

  /**
   * Counts one offered entry.
   * @returns true when its folder was refused whole and its sender ends it there (the entry, in
   *   flight then, was counted in the refusal's folderRest: it is declined unsaid)
   * @throws ProtocolError past the count, or for a folder told otherwise
   */
  offered(folder: FolderEntry): boolean {
    if (folder.entries < 1) throw new ProtocolError("E_BAD_MESSAGE", `folder ${folder.group} announced no entries`);
    const known = this.folders.get(folder.group);
    if (!known) {
      if (this.folders.size >= MAX_PEER_FOLDERS) {
        throw new ProtocolError("E_BAD_MESSAGE", `more than ${MAX_PEER_FOLDERS} folders in one session`);
      }
      this.folders.set(folder.group, { root: folder.root, entries: folder.entries, bytes: folder.bytes, offered: 1 });
      return false;
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
    return this.refused.has(folder.group);
  }

  /**
   * An entry declined for `err`. When that refuses its whole folder for space (detail "folder")
   * and the peer (`peer`) ends a refused folder there (Feature.RefusedFolderEnds), the folder's
   * entries not offered yet end with this one: `info` with folderRest, their count.
   */
  declined(info: TransferInfo, err: TransferError, peer: Hello | undefined): TransferInfo {
    const known = info.folder && this.folders.get(info.folder.group);
    if (!known || !info.folder || !refusesWhole(err)) return info;
    if (!endsRefusedFolders(peer) || this.refused.has(info.folder.group)) return info;
    this.refused.add(info.folder.group);
    return { ...info, folderRest: known.entries - known.offered };
  }
}
