/**
 * The peer's folders in one session, counted entry by entry. A folder is offered entry by
 * entry but accepted (and with --ask asked about) as a whole, by what its first entry
 * announces: its name, its number of entries and its bytes. So every later entry of the same
 * folder must tell the same, and no more entries may come than were announced; a peer that
 * does otherwise is breaking the protocol (pure: no I/O).
 */

import { type FolderEntry, ProtocolError } from "../protocol/index.ts";
import { MAX_PEER_FOLDERS } from "./limits.ts";

export class PeerFolders {
  /** By the peer's folder id: what the first entry announced, and how many entries came. */
  private readonly folders = new Map<number, { root: string; entries: number; bytes: number; offered: number }>();

  /** Counts one offered entry. @throws ProtocolError past the count, or for a folder told otherwise */
  offered(folder: FolderEntry): void {
    if (folder.entries < 1) throw new ProtocolError("E_BAD_MESSAGE", `folder ${folder.group} announced no entries`);
    const known = this.folders.get(folder.group);
    if (!known) {
      if (this.folders.size >= MAX_PEER_FOLDERS) {
        throw new ProtocolError("E_BAD_MESSAGE", `more than ${MAX_PEER_FOLDERS} folders in one session`);
      }
      this.folders.set(folder.group, { root: folder.root, entries: folder.entries, bytes: folder.bytes, offered: 1 });
      return;
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
  }
}
