/**
 * The outgoing state machine's table (outgoing.ts draws it): what each message from the peer does
 * in each state, which states are live, what it keeps of each transfer, and the DATA frame object
 * a transfer refills.
 */

import type { FrameSource, SendTrailer } from "../transfer/source.ts";
import type { TransferInfo } from "./events.ts";
import type { Share } from "./outgoing-shares.ts";
import type { BulkFrame } from "./scheduler.ts";

export type OutgoingState = "offered" | "checking" | "sending" | "ended" | "done" | "failed" | "cancelled";
type Input = "accept" | "reject" | "received" | "cancel";
type Action = "start" | "declined" | "finish" | "peerCancelled" | "ignore" | "unexpected";

/** What each message from the peer does to an outgoing transfer in each state. */
export const TABLE: { readonly [S in OutgoingState | "unknown"]: { readonly [I in Input]: Action } } = {
  offered: { accept: "start", reject: "declined", received: "unexpected", cancel: "peerCancelled" },
  checking: { accept: "unexpected", reject: "declined", received: "unexpected", cancel: "peerCancelled" },
  sending: { accept: "unexpected", reject: "declined", received: "unexpected", cancel: "peerCancelled" },
  ended: { accept: "unexpected", reject: "declined", received: "finish", cancel: "peerCancelled" },
  done: { accept: "unexpected", reject: "ignore", received: "unexpected", cancel: "ignore" },
  // We ended it and told the peer: what it sent meanwhile crossed our CANCEL.
  failed: { accept: "ignore", reject: "ignore", received: "ignore", cancel: "ignore" },
  cancelled: { accept: "ignore", reject: "ignore", received: "ignore", cancel: "ignore" },
  unknown: { accept: "unexpected", reject: "ignore", received: "unexpected", cancel: "ignore" },
};

export const LIVE: ReadonlySet<OutgoingState> = new Set(["offered", "checking", "sending", "ended"]);

/** One outgoing transfer as OutgoingTransfers keeps it. */
export interface Outgoing {
  readonly info: TransferInfo;
  readonly sender: FrameSource;
  state: OutgoingState;
  /** Its command's share of the link (shared with the command's other transfers). */
  readonly share: Share;
  /** Its share's key (shareKey, or its own for a lone send): Shares counts live transfers by it. */
  readonly key: string;
  /** When this transfer last had its share's turn (nextBulk's count; 0: never). */
  served: number;
  /** Set when END is queued. */
  trailer?: SendTrailer;
  /** Bytes the receiver already had and kept (resume); 0 for a whole transfer. */
  resumedFrom: number;
  /** This transfer's DATA frame as handed to the scheduler: one object, refilled per frame. */
  readonly bulk: ReusableBulk;
}

/**
 * A BulkFrame that is refilled for every DATA frame of one transfer. The scheduler writes a
 * frame before it asks for the next, so one object (and one `written` callback) serves them
 * all: a new object and closure per frame were garbage the collector kept faulting pages in for.
 */
export class ReusableBulk implements BulkFrame {
  frame: Uint8Array = new Uint8Array(0);
  /** @param owner - its transfer's id (BulkFrame.owner) */
  constructor(
    readonly owner: number,
    readonly written: () => void,
  ) {}
}
