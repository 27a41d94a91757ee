/**
 * Our folders being sent, by group: how many of each folder's entries were offered (or failed
 * before their offer), and which folders ended whole: refused whole by a receiver that ends them
 * there (Feature.RefusedFolderEnds), or cancelled whole by either side. The rest of such a folder
 * is never offered (TransferInfo.folderRest counts it), and the next offer waits until its
 * entries' answers are in (outgoing.ts: offerMore).
 */

import type { FolderEntry } from "../protocol/message-types.ts";
import type { Outgoing } from "./outgoing-states.ts";

export class OutgoingFolders {
  /** Entries offered so far (or failed before their offer), by group. */
  private readonly told = new Map<number, number>();
  /** Folders ended whole. */
  private readonly endedWhole = new Set<number>();

  /** An entry of `group` is up for its offer. @returns false when its folder ended whole (never offered) */
  offering(group: number): boolean {
    if (this.endedWhole.has(group)) return false; // counted in the refusal's or the cancel's folderRest
    this.told.set(group, (this.told.get(group) ?? 0) + 1);
    return true;
  }

  /**
   * `folder` ends whole.
   * @returns its entries never to be offered (folderRest), or undefined when it had ended whole already
   */
  endWhole(folder: FolderEntry): number | undefined {
    if (this.endedWhole.has(folder.group)) return undefined;
    this.endedWhole.add(folder.group);
    return Math.max(0, folder.entries - (this.told.get(folder.group) ?? 0));
  }

  /**
   * A folder ended whole is still ending: entries of it offered (or sent whole) whose answers are
   * on the way among `live` (a REJECT each, within a round trip). The next offer waits for them,
   * so the folder's last line ("Folder album: nothing was saved.") comes before the next file's
   * "Sending" line, not after it.
   */
  answersDue(live: Iterable<Outgoing>): boolean {
    if (this.endedWhole.size === 0) return false;
    for (const t of live) {
      const group = t.info.folder?.group;
      if (group !== undefined && (t.state === "offered" || t.state === "ended") && this.endedWhole.has(group))
        return true;
    }
    return false;
  }
}
