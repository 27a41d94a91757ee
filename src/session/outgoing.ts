/**
 * Outgoing transfers as a state machine, one per id:
 *
 *   offered ──ACCEPT──▶ sending ──all DATA──▶ ended ──RECEIVED ok──▶ done
 *      │ ACCEPT offset>0                          └──RECEIVED failed──▶ failed
 *      └──▶ checking ──prefix compared, START──▶ sending
 *   any live state ──REJECT / our error──▶ failed, ──CANCEL (either side)──▶ cancelled
 *
 * Ended transfers are remembered in their final state, so a frame that crossed our CANCEL
 * (a late ACCEPT or RECEIVED) is recognised and ignored instead of breaking the connection.
 * Offers go out at most MAX_OUTGOING_TRANSFERS at a time: a folder of thousands of files is
 * pipelined without opening them all. The offers waiting for a place queue by command (its share
 * of the link), in order inside each, and a free place goes to the command with the fewest live
 * transfers: a file typed after a big folder is offered when the first place frees, not after
 * the folder's last entry. A folder refused or cancelled whole is ended here, its entries counted
 * in outgoing-folders.ts.
 */

import { ProtocolError } from "../protocol/errors.ts";
import { endsRefusedFolders, keepsNothing, readsFolderEnd } from "../protocol/features.ts";
import type {
  Accept,
  CommandPlace,
  FolderEntry,
  Hello,
  Received,
  Reject,
  WireReason,
} from "../protocol/message-types.ts";
import { TransferError } from "../transfer/errors.ts";
import type { FrameSource, SendTrailer } from "../transfer/source.ts";
import type { SessionEvents, TransferInfo } from "./events.ts";
import { type Failure, failureOf, MAX_REMEMBERED_ENDED, ownFailure, peerFailure, reportFailure } from "./failure.ts";
import { MAX_OUTGOING_TRANSFERS } from "./limits.ts";
import { OutgoingFolders } from "./outgoing-folders.ts";
import { nextTurn, type OfferPlace, Shares } from "./outgoing-shares.ts";
import { LIVE, type Outgoing, type OutgoingState, ReusableBulk, TABLE } from "./outgoing-states.ts";
import { CANCELLED_WHOLE, cancelsWhole, refusesWhole, wholeFolderInfo } from "./peer-folders.ts";
import type { BulkFrame, Scheduler } from "./scheduler.ts";

/** The offer's (and TransferInfo's) fields for `place`, only those set. */
function placeFields({ folder, command }: OfferPlace): { folder?: FolderEntry; command?: CommandPlace } {
  return { ...(folder ? { folder } : {}), ...(command ? { command } : {}) };
}

export interface OutgoingHost {
  readonly events: SessionEvents;
  readonly scheduler: Scheduler;
  /** The session still runs transfers (open or leaving). */
  isActive(): boolean;
  /** Something ended: the session may leave if it was waiting for that. */
  settled(): void;
  /** The peer's HELLO: one that keeps nothing of a file cut short (`receive --stdout`) is promised no resume. */
  readonly peer?: Hello;
}

export class OutgoingTransfers {
  /** Live transfers by id, oldest first. */
  private readonly live = new Map<number, Outgoing>();
  /** Ended transfers in their final state (done, failed, cancelled), oldest first, bounded. */
  private readonly ended = new Map<number, Outgoing>();
  /** Offers waiting for a place, and the live transfers, by share (outgoing-shares.ts). */
  private readonly shares = new Shares();
  /** nextBulk's turns so far (Share.served, Outgoing.served). */
  private turns = 0;
  /** nextBulk's list of sending transfers, refilled in place on every call. */
  private readonly sendingNow: Outgoing[] = [];
  /** Our folders: entries offered, and those ended whole (their rest is not offered). */
  private readonly folders = new OutgoingFolders();
  /** cancelFolder is ending a folder's entries one by one: nothing new is offered meanwhile. */
  private endingFolder = false;

  constructor(private readonly host: OutgoingHost) {}

  /** Transfers offered and not ended, plus offers waiting their turn. */
  get pending(): number {
    return this.live.size + this.shares.waiting;
  }

  /** Live transfers, oldest first. */
  list(): Array<{ readonly info: TransferInfo; readonly bytes: number; readonly checking: boolean }> {
    return [...this.live.values()].map((t) => ({
      info: t.info,
      bytes: t.sender.sent,
      checking: t.state === "checking",
    }));
  }

  /** Queues an offer; `open` makes its source once it is its turn. */
  enqueue(
    name: string,
    size: number | null,
    place: OfferPlace,
    id: () => number,
    open: (id: number) => FrameSource,
  ): void {
    const key = this.shares.add(place, () => {
      const group = place.folder?.group;
      if (group !== undefined && !this.folders.offering(group)) return;
      const transferId = id();
      let sender: FrameSource;
      try {
        sender = open(transferId);
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        const info: TransferInfo = { id: transferId, direction: "send", name, size, ...placeFields(place) };
        this.host.events.transferFailed(info, err.message, err.code);
        return;
      }
      this.offer(sender, place, key);
    });
    this.offerMore();
  }

  /** The peer's message about transfer `id`. @throws ProtocolError when it makes no sense now */
  onMessage(message: Accept | Reject | Received | ({ kind: "cancel"; id: number } & WireReason)): void {
    const t = this.live.get(message.id) ?? this.ended.get(message.id);
    const action = TABLE[t?.state ?? "unknown"][message.kind];
    if (action === "ignore") return;
    if (action === "unexpected" || !t) {
      throw new ProtocolError("E_UNEXPECTED", `${message.kind.toUpperCase()} for unknown transfer ${message.id}`);
    }
    switch (message.kind) {
      case "accept":
        return this.accepted(t, message);
      case "reject": {
        const rest = this.folderRefused(t, message);
        return this.end(t, "failed", peerFailure("reject", message, "E_REJECTED"), rest, rest !== undefined);
      }
      case "received":
        return this.received(t, message);
      case "cancel": {
        const f = peerFailure("cancel", message, "E_CANCELLED", t.sender.sent);
        // The receiver cancelled the whole folder: it ended its live entries itself (no CANCEL to it).
        const { tell: _none, ...untold } = f;
        if (cancelsWhole(message) && t.info.folder) return this.cancelFolder(t, f, untold);
        return this.end(t, "cancelled", f);
      }
    }
  }

  /**
   * `cancel ID` typed here. A folder's entry: the whole folder (its live entries cancelled, the
   * rest never offered; the receiver hears CANCELLED_WHOLE). @returns false when no such transfer is live
   */
  cancel(id: number): boolean {
    const t = this.live.get(id);
    if (!t) return false;
    const tell = t.info.folder ? CANCELLED_WHOLE : { code: "E_CANCELLED" };
    const f = ownFailure("E_CANCELLED", tell, tell);
    if (t.info.folder) this.cancelFolder(t, f, f, true);
    else this.end(t, "cancelled", f);
    return true;
  }

  /**
   * The folder of `t` is cancelled whole: `t` ends with `f` and the folder's entries never to be
   * offered (folderRest), its other live entries with `others`. `own`: typed here, where an
   * entry sent whole (END out) is left to the receiver's answer: it may be stored there already;
   * to a peer that reads FOLDER_END `t` too, the first entry ended carries the rest, and
   * FOLDER_END follows the CANCELs: the receiver learns it with no entry of it under way there.
   */
  private cancelFolder(t: Outgoing, f: Failure, others: Failure, own = false): void {
    const folder = t.info.folder as FolderEntry;
    const rest = this.folders.endWhole(folder);
    const first = rest !== undefined;
    const endSaid = own && readsFolderEnd(this.host.peer);
    // Typed here: an entry sent whole waits for the receiver's answer (`t` too, when FOLDER_END tells the end).
    const waits = (o: Outgoing) => own && o.state === "ended" && (o !== t || endSaid);
    const siblings = [...this.live.values()].filter((o) => o !== t && o.info.folder?.group === folder.group);
    const ending = [t, ...siblings].filter((o) => !waits(o));
    // Each end offers more: not before the last of them has ended (and said the folder's end).
    this.endingFolder = true;
    try {
      for (const [i, o] of ending.entries()) this.end(o, "cancelled", i === 0 ? f : others, i === 0 ? rest : undefined);
      if (!endSaid || !first) return;
      this.host.scheduler.send({ kind: "folderEnd", group: folder.group, ...CANCELLED_WHOLE });
      if (ending.length === 0 && rest)
        reportFailure(this.host.events, wholeFolderInfo("send", folder, rest, t.info.command), f);
    } finally {
      this.endingFolder = false;
      this.offerMore();
    }
  }

  /** Ends every live transfer (the connection is going), telling the peer nothing. */
  failAll(f: Failure): void {
    this.shares.clear();
    for (const t of [...this.live.values()]) this.end(t, "failed", f);
  }

  /**
   * Round-robin over commands, then over a command's transfers: the sending transfer whose
   * command (Share) had its turn longest ago, and in it the one that had its turn longest ago,
   * gives the next DATA frame (at most `maxPayloadBytes` of file bytes: the scheduler's frame
   * size for the send window's age), or queues its END ("again"). Per transfer, a folder sent
   * after a file (up to MAX_OUTGOING_TRANSFERS entries in flight) took 15 turns of 16 from it.
   */
  nextBulk(maxPayloadBytes?: number): BulkFrame | "again" | undefined {
    const sending = this.sendingNow;
    sending.length = 0;
    for (const t of this.live.values()) if (t.state === "sending") sending.push(t);
    try {
      while (sending.length > 0) {
        const i = nextTurn(sending);
        const t = sending[i] as Outgoing;
        let frame: Uint8Array | null | undefined;
        try {
          frame = t.sender.nextFrame(maxPayloadBytes);
        } catch (err) {
          if (!(err instanceof TransferError)) throw err;
          this.end(t, "failed", failureOf(err));
          return "again";
        }
        if (frame === null) {
          // A stream waiting for input (its onReadable pumps again): the others' turn.
          sending.splice(i, 1);
          continue;
        }
        t.served = t.share.served = ++this.turns;
        if (frame === undefined) {
          t.state = "ended";
          t.trailer = t.sender.trailer();
          this.host.scheduler.queue({ kind: "end", id: t.info.id, ...t.trailer });
          return "again";
        }
        t.bulk.frame = frame;
        return t.bulk;
      }
      return undefined;
    } finally {
      sending.length = 0; // holds no ended transfer (and its buffers) until the next call
    }
  }

  private offerMore(): void {
    while (this.host.isActive() && this.live.size < MAX_OUTGOING_TRANSFERS && !this.folderEnding()) {
      const next = this.shares.next();
      if (next === undefined) break;
      next();
    }
    this.host.settled();
  }

  /** A folder refused or cancelled whole is still ending: its entries being cancelled now, or answers due (OutgoingFolders.answersDue). */
  private folderEnding(): boolean {
    return this.endingFolder || this.folders.answersDue(this.live.values());
  }

  private offer(sender: FrameSource, place: OfferPlace, key: string): void {
    const info: TransferInfo = {
      id: sender.id,
      direction: "send",
      name: sender.name,
      size: sender.size,
      ...placeFields(place),
    };
    sender.onReadable = () => this.host.scheduler.pump();
    const bulk = new ReusableBulk(info.id, () => this.host.events.transferProgressed(info, sender.sent));
    const share = this.shares.joined(key);
    this.live.set(info.id, { info, sender, state: "offered", resumedFrom: 0, share, key, served: 0, bulk });
    this.host.scheduler.send({
      kind: "offer",
      id: info.id,
      name: info.name,
      size: info.size,
      algo: sender.algo,
      ...sender.meta,
      ...placeFields(place),
    });
    this.host.events.transferStarted(info);
  }

  private accepted(t: Outgoing, { offset, prefix }: Accept): void {
    if (offset === 0) {
      t.state = "sending";
      return this.host.scheduler.pump();
    }
    // Resume: compare the receiver's prefix with our file (in slices, so chat and other
    // transfers go on), then say where DATA starts: there, or 0 to start over.
    t.state = "checking";
    const stillWanted = () => t.state === "checking" && this.host.isActive();
    t.sender.resumeFrom(offset, prefix ?? "").then(
      (same) => {
        if (!stillWanted()) return;
        t.state = "sending";
        t.resumedFrom = same ? offset : 0;
        this.host.scheduler.send({ kind: "start", id: t.info.id, offset: t.resumedFrom });
        if (t.resumedFrom > 0) this.host.events.transferResumed?.(t.info, t.resumedFrom);
      },
      (err: unknown) => {
        if (!(err instanceof TransferError)) throw err;
        if (stillWanted()) this.end(t, "failed", failureOf(err));
      },
    );
  }

  private received(t: Outgoing, message: Received): void {
    const trailer = t.trailer as SendTrailer;
    if (!message.ok) {
      const code = message.code ?? "E_REMOTE";
      return this.end(
        t,
        "failed",
        peerFailure("received", { code, ...(message.detail ? { detail: message.detail } : {}) }, code),
      );
    }
    if (message.bytes !== trailer.bytes)
      throw new ProtocolError("E_BAD_MESSAGE", "RECEIVED with a byte count not sent");
    this.settle(t, "done");
    const storedAs = {
      ...(message.name === undefined ? {} : { storedAs: message.name }),
      ...(message.root === undefined || !t.info.folder ? {} : { storedRoot: message.root }),
    };
    this.host.events.transferFinished({ ...t.info, ...trailer, resumedFrom: t.resumedFrom, ...storedAs });
    this.offerMore();
  }

  /**
   * A REJECT of a folder's entry: when it refuses the whole folder (no room, or the receiver's no
   * to the folder: peer-folders.ts refusesWhole) and the receiver
   * ends it there (Feature.RefusedFolderEnds), its entries not offered yet never are.
   * @returns how many they are (TransferInfo.folderRest), or undefined
   */
  private folderRefused(t: Outgoing, reject: Reject): number | undefined {
    const folder = t.info.folder;
    if (!folder || !refusesWhole(reject) || !endsRefusedFolders(this.host.peer)) return undefined;
    return this.folders.endWhole(folder); // undefined: an entry offered before the first REJECT
  }

  /**
   * A live transfer ends badly: stop reading, tell the peer if `f` says so, report.
   * @param folderRest - TransferInfo.folderRest: its folder's entries that will not be offered
   * @param refused - TransferInfo.folderRefused: the receiver refused the whole folder at `t`
   */
  private end(t: Outgoing, state: "failed" | "cancelled", f: Failure, folderRest?: number, refused = false): void {
    if (!LIVE.has(t.state)) return;
    // A peer that writes what comes to its output (`receive --stdout`) keeps nothing of it to
    // resume; nor does one that accepted it whole (no prefix of its own being checked) and got
    // no byte of it (it says no resume either). A folder's entry not accepted yet: nothing.
    const peerKeepsNothing = this.host.peer !== undefined && keepsNothing(this.host.peer);
    const sentNone = t.state !== "offered" && t.state !== "checking" && t.sender.sent === 0;
    // The receiver's REJECT or CANCEL of the offer is its answer: a declined offer's `.part` goes.
    const answeredNo = t.state === "offered" && f.why?.by === "peer" && f.why.said !== "received";
    const nothingKept =
      peerKeepsNothing || answeredNo || (sentNone && !t.info.folder) || (t.state === "offered" && !!t.info.folder);
    // A file not answered yet (an offer --ask still weighs, or the ACCEPT not read): the
    // receiver may hold an earlier try's `.part` of it, and then says the resume is promised.
    const unanswered = !nothingKept && t.state === "offered";
    const rest =
      folderRest === undefined ? {} : refused ? { folderRest, folderRefused: true as const } : { folderRest };
    // Cut during the check of the receiver's prefix: it may yet have found the file changed.
    // (One that found it changed and sent nothing since is sentNone: a resend starts over.)
    const unchecked = t.state === "checking" ? { prefixUnchecked: true as const } : {};
    const kept = nothingKept ? { nothingKept } : unanswered ? { unanswered } : unchecked;
    const info = { ...t.info, ...rest, ...kept, ...this.confirmed(t) };
    this.settle(t, state);
    t.sender.stop();
    if (f.tell) this.host.scheduler.send({ kind: "cancel", id: t.info.id, ...f.tell });
    reportFailure(this.host.events, info, f);
    this.offerMore();
  }

  /**
   * TransferInfo.confirmedBytes of `t`, once its DATA began: what was sent of it less its own
   * DATA not ACKed yet (the receiver's ACKs are cumulative over the connection's DATA, in the
   * order written; the scheduler keeps whose each frame not ACKed is: transfers take turns).
   */
  private confirmed(t: Outgoing): { confirmedBytes: number } | Record<string, never> {
    if (t.state !== "sending" && t.state !== "ended") return {};
    return { confirmedBytes: Math.max(t.resumedFrom, t.sender.sent - this.host.scheduler.unackedOf(t.info.id)) };
  }

  /** The transfer leaves the live ones and is remembered in its final state. */
  private settle(t: Outgoing, state: OutgoingState): void {
    t.state = state;
    this.live.delete(t.info.id);
    this.shares.left(t.key);
    this.ended.set(t.info.id, t);
    if (this.ended.size > MAX_REMEMBERED_ENDED) this.ended.delete(this.ended.keys().next().value as number);
  }
}
