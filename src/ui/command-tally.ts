/**
 * One `transfer a b c` (or `parley send a b c`) command sends several transfers, each tagged
 * with the command's number and its count of transfers (Offer.command): this counts them as
 * they end, on either side, so the UI says the command's totals once, when its last one has
 * ended. Pure bookkeeping.
 */

import type { TransferInfo } from "../session/index.ts";
import { entriesEnded } from "./folder-tally.ts";

export interface CommandSummary {
  /** Transfers the command offered (a folder's entries each count). */
  readonly transfers: number;
  /** Of those: saved by the receiver, and failed. */
  readonly saved: number;
  readonly failed: number;
  /** Of the failed: cancelled (the chat's `cancel`, either side; a folder's entries with it). */
  readonly cancelled: number;
  /** Verified bytes of the saved ones. */
  readonly bytes: number;
  /** Bytes the failed ones cut short (kept to resume) had moved: not in `bytes`. */
  readonly cutBytes: number;
  /** Of those ended: entries of folders (a command of two paths, one a folder, is more transfers). */
  readonly entries: number;
}

/** A command some of whose transfers ended and others not yet: its side, its number (Offer.command.seq). */
export interface UnfinishedCommand {
  readonly direction: TransferInfo["direction"];
  readonly seq: number;
  readonly summary: CommandSummary;
}

/**
 * Commands under way that a peer may leave unfinished (tags that promise more transfers than
 * come): beyond this many the oldest is forgotten (its totals are not said), so a peer cannot
 * make the tally grow.
 */
export const MAX_OPEN_COMMANDS = 64;

export class CommandTally {
  /** Commands some of whose transfers have ended, by direction and number (oldest first). */
  private readonly open = new Map<string, UnfinishedCommand>();

  /**
   * A transfer ended: saved with `bytes` verified, or failed (`bytes` undefined; a folder's entry
   * refused with its whole folder fails with its entries never offered: TransferInfo.folderRest).
   * @param cutBytes - failed, cut short with what it moved kept to resume: how many bytes it had moved
   * @returns its command's summary when this was the command's last transfer to end;
   *   undefined while others are under way, or for a transfer that is no command's
   */
  ended(
    info: Pick<TransferInfo, "direction" | "command" | "folderRest" | "folderOnly" | "folder">,
    bytes: number | undefined,
    cancelled = false,
    cutBytes = 0,
  ): CommandSummary | undefined {
    const command = info.command;
    if (!command) return undefined;
    const key = `${info.direction} ${command.seq}`;
    const before = this.open.get(key)?.summary ?? {
      transfers: command.transfers,
      saved: 0,
      failed: 0,
      cancelled: 0,
      bytes: 0,
      cutBytes: 0,
      entries: 0,
    };
    const ended = bytes === undefined ? entriesEnded(info) : 1;
    const entries = before.entries + (info.folder ? ended : 0);
    const now =
      bytes === undefined
        ? {
            ...before,
            failed: before.failed + ended,
            cancelled: before.cancelled + (cancelled ? ended : 0),
            cutBytes: before.cutBytes + cutBytes,
            entries,
          }
        : { ...before, saved: before.saved + 1, bytes: before.bytes + bytes, entries };
    this.open.delete(key);
    if (now.saved + now.failed >= now.transfers) return now;
    this.open.set(key, { direction: info.direction, seq: command.seq, summary: now });
    if (this.open.size > MAX_OPEN_COMMANDS) this.open.delete(this.open.keys().next().value as string);
    return undefined;
  }

  /**
   * The session is over: the commands some of whose transfers ended and others never did (the
   * connection was lost, or sends still waiting their turn were dropped when it ended, or a peer
   * promised more than it offered), oldest first; forgotten from here.
   */
  unfinished(): UnfinishedCommand[] {
    const left = [...this.open.values()];
    this.open.clear();
    return left;
  }
}
