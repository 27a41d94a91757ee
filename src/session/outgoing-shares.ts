/**
 * How outgoing transfers share the link by command (session 28): the offers waiting for a place,
 * one queue per share, and whose turn it is to send the next DATA frame. A share is one `transfer`
 * command: a folder's entries, or a command's several paths, count as one; a lone send is a share
 * of its own. Pure bookkeeping, no I/O: OutgoingTransfers (outgoing.ts) owns the transfers.
 */

import type { CommandPlace, FolderEntry } from "../protocol/message-types.ts";

/** Where an offer sits: in a folder, and among a command's several sends (Offer.command). */
export interface OfferPlace {
  readonly folder?: FolderEntry | undefined;
  readonly command?: CommandPlace | undefined;
}

/** What one command gets of the link. `served`: when it last had a turn (0: never). */
export interface Share {
  served: number;
}

/** A sending transfer as the turn sees it: its share, and when it last had its share's turn. */
export interface Turned {
  readonly share: Share;
  served: number;
}

/** The share an offer's place belongs to: its command, else its folder; undefined for a lone send. */
export function shareKey({ folder, command }: OfferPlace): string | undefined {
  return command ? `c${command.seq}` : folder ? `g${folder.group}` : undefined;
}

/**
 * The index in `sending` (not empty, oldest first) whose turn it is: the one of the command
 * that had its turn longest ago, and of its transfers the one that had it longest ago (never
 * before: 0; ties go to the oldest). Per transfer, a folder sent after a file (up to
 * MAX_OUTGOING_TRANSFERS entries in flight) took 15 turns of 16 from it.
 */
export function nextTurn(sending: readonly Turned[]): number {
  let best = 0;
  for (let i = 1; i < sending.length; i++) {
    const t = sending[i] as Turned;
    const b = sending[best] as Turned;
    if (t.share.served < b.share.served || (t.share === b.share && t.served < b.served)) best = i;
  }
  return best;
}

/**
 * The shares by key: the offers waiting for a place, one queue per share, in the order enqueued
 * inside each (the Map's order is the queues' age; an emptied queue goes), and the live
 * transfers of each share. In the order typed, a file typed after a folder of 100 entries waited
 * for the folder's last offer (16 at a time).
 */
export class Shares {
  private readonly queues = new Map<string, Array<() => void>>();
  /** Each share with live transfers: its Share (one object for all of them) and how many. */
  private readonly live = new Map<string, { share: Share; count: number }>();
  private count = 0;
  /** The last lone send's number (its own share's key). */
  private lone = 0;

  /** Offers waiting, in all queues. */
  get waiting(): number {
    return this.count;
  }

  /** Queues `offer` in the share of `place`; returns the share's key. */
  add(place: OfferPlace, offer: () => void): string {
    const key = shareKey(place) ?? `t${++this.lone}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = [];
      this.queues.set(key, queue);
    }
    this.count++;
    queue.push(offer);
    return key;
  }

  /** A transfer of share `key` goes live: the share it holds (its command's other live transfers' one). */
  joined(key: string): Share {
    let held = this.live.get(key);
    if (held === undefined) {
      held = { share: { served: 0 }, count: 0 };
      this.live.set(key, held);
    }
    held.count++;
    return held.share;
  }

  /** A live transfer of share `key` ended. */
  left(key: string): void {
    const held = this.live.get(key);
    if (held !== undefined && --held.count === 0) this.live.delete(key);
  }

  /**
   * The offer a free place goes to: the first of the queue whose share has the fewest live
   * transfers, ties to the older queue.
   */
  next(): (() => void) | undefined {
    if (this.count === 0) return undefined;
    let best: string | undefined;
    let fewest = Number.POSITIVE_INFINITY;
    for (const key of this.queues.keys()) {
      const n = this.live.get(key)?.count ?? 0;
      if (n < fewest) [best, fewest] = [key, n];
      if (n === 0) break;
    }
    const queue = this.queues.get(best as string) as Array<() => void>;
    const next = queue.shift();
    if (queue.length === 0) this.queues.delete(best as string);
    this.count--;
    return next;
  }

  /** Drops every waiting offer (the live transfers leave one by one, each by left()). */
  clear(): void {
    this.queues.clear();
    this.count = 0;
  }
}
