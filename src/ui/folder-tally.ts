/**
 * Folder transfers are many transfers (one per file or empty directory) that people think of
 * as one: this keeps count per folder, so the UI prints one start line, one progress bar and
 * one set of totals per folder instead of thousands. Pure bookkeeping.
 */

import type { TransferDone, TransferInfo } from "../session/index.ts";

/**
 * How many of a folder's entries a failure ends: the entry itself and those never to be offered
 * with it (TransferInfo.folderRest); a folderOnly failure (the folder, no entry) only those. The
 * session keeps the same count for its folder targets (session/incoming-sinks.ts: it cannot
 * import the UI).
 */
export function entriesEnded(info: Pick<TransferInfo, "folderOnly" | "folderRest">): number {
  return (info.folderOnly ? 0 : 1) + (info.folderRest ?? 0);
}

export interface FolderSummary {
  /** The folder transfer's group id. */
  readonly group: number;
  readonly direction: TransferInfo["direction"];
  readonly root: string;
  readonly entries: number;
  /** Bytes of the whole folder, as offered. */
  readonly bytes: number;
  /** Entries verified, and their bytes. */
  readonly done: number;
  readonly verifiedBytes: number;
  readonly failed: number;
  /** Of the failed: cancelled (the chat's `cancel`, either side: a folder's entries end with it). */
  readonly cancelled: number;
  /**
   * Bytes of entries cut short (a lost connection, an interrupt) when they were cut, and of
   * entries still under way when the session ended: received (receiver, kept in their `.part`
   * to resume) or sent (sender).
   */
  readonly cutBytes: number;
  /**
   * Of cutBytes, what the receiver holds for sure: the receiver's cutBytes; the sender's what
   * the receiver confirmed (TransferInfo.confirmedBytes, its ACKs; what was sent can be more).
   */
  readonly cutConfirmed: number;
  /** Receiver: the folder the entries were saved in. */
  readonly savedIn?: string;
  /** Sender: the name the receiver stored the folder under, when it said (TransferDone.storedRoot). */
  readonly storedRoot?: string;
  /** The checksum of the files verified; unset while no file (only empty folders) was. */
  readonly algo?: string;
}

interface Tally {
  summary: FolderSummary;
  /** Bytes so far of entries under way. */
  inFlight: Map<number, number>;
}

/**
 * Of the `moved` bytes of a transfer cut short, what the receiver holds for sure: the receiver's
 * own figure; the sender's what the receiver confirmed (TransferInfo.confirmedBytes, its ACKs; 0
 * when not known), which can be less than it had sent. A folder's entries (cutConfirmed) and a
 * file's failed line (transfer-reach.ts) alike.
 */
export function heldByReceiver(info: Pick<TransferInfo, "direction" | "confirmedBytes">, moved: number): number {
  return info.direction === "send" ? (info.confirmedBytes ?? 0) : moved;
}

export class FolderTally {
  private readonly tallies = new Map<string, Tally>();

  /** @returns the folder's summary when this is its first entry (print "Sending folder ..."), else undefined */
  started(info: TransferInfo): FolderSummary | undefined {
    const folder = info.folder;
    if (!folder) return undefined;
    const key = `${info.direction}:${folder.group}`;
    if (this.tallies.has(key)) return undefined;
    const summary: FolderSummary = {
      group: folder.group,
      direction: info.direction,
      root: folder.root,
      entries: folder.entries,
      bytes: folder.bytes,
      done: 0,
      verifiedBytes: 0,
      failed: 0,
      cancelled: 0,
      cutBytes: 0,
      cutConfirmed: 0,
    };
    this.tallies.set(key, { summary, inFlight: new Map() });
    return summary;
  }

  /** @returns the folder's bytes so far (for its progress bar), or undefined for a plain file */
  progressed(info: TransferInfo, bytes: number): number | undefined {
    const tally = this.tallyOf(info);
    if (!tally) return undefined;
    tally.inFlight.set(info.id, bytes);
    let sum = tally.summary.verifiedBytes;
    for (const b of tally.inFlight.values()) sum += b;
    return sum;
  }

  /** @returns the summary once every entry has finished or failed, else undefined */
  finished(done: TransferDone): FolderSummary | undefined {
    const tally = this.tallyOf(done);
    if (!tally) return undefined;
    tally.inFlight.delete(done.id);
    const s = tally.summary;
    // The latest entry's: where the folder is now, should another program have moved it meanwhile.
    const savedIn = (done.path && done.folder ? rootOf(done.path, done.folder.path.length) : undefined) ?? s.savedIn;
    tally.summary = {
      ...s,
      done: s.done + 1,
      verifiedBytes: s.verifiedBytes + done.bytes,
      // Only a file has a checksum: a folder of empty folders never says one matched.
      ...(done.folder?.dir ? {} : { algo: done.algo }),
      ...(savedIn === undefined ? {} : { savedIn }),
      ...(done.storedRoot === undefined ? {} : { storedRoot: done.storedRoot }),
    };
    return this.completed(done, tally);
  }

  /**
   * An entry failed; one refused with its whole folder fails with the entries never offered
   * (TransferInfo.folderRest); a folderOnly one is those alone.
   * @param cut - cut short (not refused or unverified): the bytes it had moved are counted in
   *   cutBytes, and what the receiver holds of them (the sender: info.confirmedBytes) in cutConfirmed
   * @param cancelled - cancelled (E_CANCELLED): counted in `cancelled` too
   * @returns the summary once every entry has finished or failed, else undefined
   */
  failed(info: TransferInfo, cut = false, cancelled = false): FolderSummary | undefined {
    const tally = this.tallyOf(info);
    if (!tally) return undefined;
    const moved = cut ? (tally.inFlight.get(info.id) ?? 0) : 0;
    const confirmed = cut ? heldByReceiver(info, moved) : 0;
    if (!info.folderOnly) tally.inFlight.delete(info.id); // a folder's own failure: its id is its group's
    tally.summary = {
      ...tally.summary,
      failed: tally.summary.failed + entriesEnded(info),
      cancelled: tally.summary.cancelled + (cancelled ? entriesEnded(info) : 0),
      cutBytes: tally.summary.cutBytes + moved,
      cutConfirmed: tally.summary.cutConfirmed + confirmed,
    };
    return this.completed(info, tally);
  }

  /**
   * The session ended: the folders that did not get every announced entry (a sender that
   * left early, an entry it never offered), forgotten now. @returns their summaries
   */
  unfinished(): FolderSummary[] {
    const left = [...this.tallies.values()].map((t) => {
      let under = 0;
      for (const b of t.inFlight.values()) under += b;
      // The sender knows nothing confirmed of an entry that never ended.
      const confirmed = t.summary.direction === "receive" ? under : 0;
      return { ...t.summary, cutBytes: t.summary.cutBytes + under, cutConfirmed: t.summary.cutConfirmed + confirmed };
    });
    this.tallies.clear();
    return left;
  }

  private completed(info: TransferInfo, tally: Tally): FolderSummary | undefined {
    const s = tally.summary;
    if (s.done + s.failed < s.entries) return undefined;
    this.tallies.delete(`${info.direction}:${s.group}`);
    return s;
  }

  private tallyOf(info: TransferInfo): Tally | undefined {
    return info.folder ? this.tallies.get(`${info.direction}:${info.folder.group}`) : undefined;
  }
}

/** `path` without its last `depth` components (the folder a received entry was saved in). */
function rootOf(path: string, depth: number): string {
  const parts = path.split("/");
  return parts.slice(0, parts.length - depth).join("/") || "/";
}
