/**
 * How far each transfer under way got, for the reporters' words on one cut short (the human
 * line's "8650752 of its 52428800 bytes arrived.", --json's error event's `bytes`): its position
 * in its file (its last progress, or where it resumed), by direction and id (a chat's ids of the
 * two directions meet), forgotten at its end.
 */

import type { TransferInfo } from "../session/events.ts";
import { heldByReceiver } from "../ui/folder-tally.ts";

/** What a failed transfer had moved (TransferReach.failed). */
export interface Reach {
  /** Its position in its file when it ended: what arrived, or (the sender) what it had sent. */
  readonly moved: number;
  /**
   * What the receiver holds for sure (heldByReceiver): the receiver's `moved`; the sender's what
   * the receiver confirmed (TransferInfo.confirmedBytes, its ACKs; 0 when not known).
   */
  readonly confirmed: number;
  /**
   * Cut short with something moved, its size known (a file, or a folder's entry): --json's error
   * event says how far it got.
   */
  readonly kept: boolean;
  /** Of those, a file (not a folder's entry: the folder's summary line says those): its failed line says it. */
  readonly said: boolean;
}

export class TransferReach {
  private readonly at = { send: new Map<number, number>(), receive: new Map<number, number>() };

  /** Its position in its file now: a progress, or the offset it resumed from. */
  moved(info: Pick<TransferInfo, "direction" | "id">, bytes: number): void {
    this.at[info.direction].set(info.id, bytes);
  }

  /** It was saved: forgotten. */
  finished(info: Pick<TransferInfo, "direction" | "id">): void {
    this.at[info.direction].delete(info.id);
  }

  /**
   * It failed: forgotten, and what it had moved.
   * @param cut - cut by a lost connection or an interrupt, what arrived kept (reason-words resumable)
   */
  failed(info: TransferInfo, cut: boolean): Reach {
    const moved = this.at[info.direction].get(info.id) ?? 0;
    this.at[info.direction].delete(info.id);
    const confirmed = heldByReceiver(info, moved);
    const kept = cut && moved > 0 && info.size !== null;
    return { moved, confirmed, kept, said: kept && !info.folder };
  }
}
