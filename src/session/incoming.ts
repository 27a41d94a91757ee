/**
 * Incoming transfers as a state machine, one per id:
 *
 *   OFFER ─▶ deciding ──yes──▶ receiving ──END──▶ done | failed (checksum, size, disk)
 *               │ yes, a .part to resume
 *               └──▶ checking (hash the prefix) ──ACCEPT offset──▶ resuming ──START──▶ receiving
 *   deciding ──no──▶ declined (REJECT)
 *   any live state ──CANCEL (either side)──▶ cancelled, ──our error──▶ failed (CANCEL sent)
 *
 * Ended transfers are remembered in their final state: DATA already on its way for a
 * cancelled one is dropped (and ACKed), a CANCEL that crossed our RECEIVED is ignored, and a
 * CANCEL that arrives while the user is still deciding is honoured (no ACCEPT follows).
 * What each frame does in each state is incoming-table.ts's table.
 */

import { ProtocolError } from "../protocol/errors.ts";
import type { FolderEnd, Hello, Offer, WireReason } from "../protocol/message-types.ts";
import type { ChecksumAlgo } from "../transfer/checksum.ts";
import { TransferError } from "../transfer/errors.ts";
import type { FileMeta } from "../transfer/file-meta.ts";
import { type IncomingSink, isResumableSink, type ResumableSink } from "../transfer/source.ts";
import { chatTrace } from "./chat-trace.ts";
import type { SessionEvents, TransferInfo } from "./events.ts";
import { type Failure, failureOf, MAX_REMEMBERED_ENDED, ownFailure, peerFailure, reportFailure } from "./failure.ts";
import type { IncomingSinks } from "./incoming-sinks.ts";
import { FRAME_ACTIONS, type FrameInput, type IncomingState, LIVE_STATES, outOfPlace } from "./incoming-table.ts";
import { type Decline, offerRefusal } from "./offer-refusal.ts";
import { CANCELLED_WHOLE, cancelsWhole, PeerFolders, REFUSED_WHOLE } from "./peer-folders.ts";
import type { Scheduler } from "./scheduler.ts";
import { storedNames } from "./stored-names.ts";

export type { Decline };

/**
 * Failures after which the receiver keeps its `.part` for a resume: the connection broke, the
 * user interrupted, the disk filled up. A cancel, a bad checksum or size drops it.
 */
const KEEP_PART_CODES: ReadonlySet<string> = new Set(["E_CONNECTION", "E_INTERRUPTED", "E_WRITE"]);

/**
 * The answer to an offer: yes, or no (a string: the receiver's words, E_REJECTED to the peer; a
 * Decline: its code). A no to a folder's entry is the answer to its folder: declined whole.
 */
export type OfferDecision = true | string | Decline;
/** A declined offer: `code` goes to the peer (REASON_CODE_PATTERN), `reason` is this side's words. */
interface Incoming {
  info: TransferInfo;
  state: IncomingState;
  sink?: IncomingSink;
  /** Bytes of the sink counted as consumed (ACKable), a resumed .part's included. */
  counted: number;
  resumedFrom: number;
  /** END, kept while the sink still holds bytes back. */
  trailer?: Trailer;
  /** The offer's metadata (its resume token: which earlier `.part` is its). */
  readonly meta: FileMeta;
}

type Trailer = { readonly bytes: number; readonly algo: string; readonly digest: string };

export interface IncomingHost {
  readonly events: SessionEvents;
  readonly scheduler: Scheduler;
  readonly sinks: IncomingSinks;
  /** The session takes new offers (open, not leaving). */
  isOpen(): boolean;
  /** The session still runs transfers (open or leaving). */
  isActive(): boolean;
  settled(): void;
  decide?: (offer: TransferInfo, stillWanted: () => boolean) => Promise<OfferDecision> | OfferDecision;
  openSink?: (offer: TransferInfo, algo: ChecksumAlgo) => IncomingSink;
  /** Set: every offer is declined with this (a one-shot sender takes no files). */
  refuseAll?: Decline;
  readonly peer?: Hello; // its features (a folder refused whole ends there: peer-folders.ts)
}

export class IncomingTransfers {
  private readonly live = new Map<number, Incoming>();
  private readonly ended = new Map<number, Incoming>();
  /** The peer's ids only grow: an id at or below this one is a reused id. */
  private lastPeerId = 0;
  /** The peer's folders: no entry past a folder's announced count (peer-folders.ts). */
  private readonly folders = new PeerFolders();

  /** @param peerParity - 0 or 1: the parity of the peer's ids (the dialer's are odd) */
  constructor(
    private readonly host: IncomingHost,
    private readonly peerParity: number,
  ) {}

  /** Live transfers (an offer still being decided included). */
  get pending(): number {
    return this.live.size;
  }

  /** Transfers under way, without offers still being decided. */
  list(): Array<{ readonly info: TransferInfo; readonly bytes: number; readonly checking: boolean }> {
    return [...this.live.values()]
      .filter((t) => t.state !== "deciding")
      .map((t) => ({
        info: t.info,
        bytes: t.sink?.received ?? 0,
        checking: t.state === "checking" || t.state === "resuming",
      }));
  }

  /** @throws ProtocolError for an id of the wrong parity or one used before, or a folder entry past its count (peer-folders.ts) */
  onOffer({ id, name, size, algo, mtime, exec, token, folder, command }: Offer): void {
    if (id % 2 !== this.peerParity) throw new ProtocolError("E_BAD_MESSAGE", `OFFER id ${id} has the wrong parity`);
    if (id <= this.lastPeerId) throw new ProtocolError("E_BAD_MESSAGE", `OFFER id ${id} reused`);
    this.lastPeerId = id;
    const ended = folder && this.folders.offered(folder, command); // refused or cancelled whole
    if (ended) return this.host.scheduler.send({ kind: "reject", id, ...ended });
    const meta: FileMeta = {
      ...(mtime === undefined ? {} : { mtime }),
      ...(exec === undefined ? {} : { exec }),
      ...(token === undefined ? {} : { token }),
    };
    const t: Incoming = {
      info: { id, direction: "receive", name, size, ...(folder ? { folder } : {}), ...(command ? { command } : {}) },
      state: "deciding",
      counted: 0,
      resumedFrom: 0,
      meta,
    };
    const refuse = offerRefusal(algo, this.live.size, this.host.isOpen(), this.host.refuseAll);
    this.live.set(id, t);
    if (refuse) return this.end(t, "declined", refuse);
    const decision = this.host.decide?.(t.info, () => t.state === "deciding" && this.host.isActive()) ?? true;
    if (!(decision instanceof Promise)) return this.decided(t, algo as ChecksumAlgo, meta, decision);
    decision.then(
      (answer) => this.decided(t, algo as ChecksumAlgo, meta, answer),
      (err: unknown) => this.decided(t, algo as ChecksumAlgo, meta, { code: "E_REJECTED", reason: String(err) }),
    );
  }

  /** DATA for transfer `id`. @throws ProtocolError when it makes no sense now */
  onData(id: number, bytes: Uint8Array): void {
    this.host.scheduler.received(bytes.length);
    // A receiving transfer's DATA (every record of a file) skips the table: its action is "write".
    const live = this.live.get(id);
    const t = live !== undefined && live.state === "receiving" ? live : this.at(id, "data");
    if (!t) {
      // Dropped (the transfer ended here): taken all the same, and ACKed at once, so the
      // peer's window does not keep it.
      return this.host.scheduler.consumed(bytes.length, true);
    }
    const started = chatTrace?.begin();
    try {
      (t.sink as IncomingSink).write(bytes);
      if (started) chatTrace?.took("sinkWrite", started);
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      this.end(t, "failed", failureOf(err));
      return this.host.scheduler.consumed(bytes.length, true);
    }
    this.countConsumed(t);
    this.host.events.transferProgressed(t.info, (t.sink as IncomingSink).received);
  }

  /** START: DATA starts where the sender says (our offset, or 0: start over). */
  onStart(id: number, offset: number): void {
    const t = this.at(id, "start");
    if (!t) return;
    const sink = t.sink as ResumableSink;
    if (offset !== 0 && offset !== sink.resumeOffset) {
      throw new ProtocolError("E_BAD_MESSAGE", `START at ${offset}, neither 0 nor the offered ${sink.resumeOffset}`);
    }
    t.state = "receiving";
    t.resumedFrom = offset;
    if (offset !== 0) return this.host.events.transferResumed?.(t.info, offset);
    try {
      sink.restart();
      t.counted = sink.received;
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      this.end(t, "failed", failureOf(err));
    }
  }

  /** END: check the trailer, store the file, say RECEIVED (and ACK what is left to ACK). */
  onEnd(id: number, trailer: Trailer): void {
    const t = this.at(id, "end");
    if (!t) return;
    if ((t.sink?.backlog ?? 0) > 0) {
      t.state = "finishing";
      t.trailer = trailer;
      return;
    }
    this.finish(t, trailer);
  }

  private finish(t: Incoming, trailer: Trailer): void {
    const { id } = t.info;
    const sink = t.sink as IncomingSink;
    try {
      const stored = sink.finish(trailer);
      this.settle(t, "done");
      this.host.scheduler.consumed(0, true);
      // The stored names tell the sender where it went ("mid50 (1).bin"; a folder's "photos (1)").
      this.host.scheduler.send({ kind: "received", id, bytes: stored.bytes, ok: true, ...storedNames(t.info, stored) });
      this.host.sinks.entryEnded(t.info, true);
      this.host.events.transferFinished({ ...t.info, ...stored, resumedFrom: t.resumedFrom });
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      this.settle(t, "failed");
      this.host.scheduler.consumed(0, true);
      this.host.scheduler.send({ kind: "received", id, bytes: sink.received, ok: false, ...failureOf(err).tell });
      this.host.sinks.entryEnded(t.info, false);
      this.host.events.transferFailed(t.info, err.message, err.code);
    }
    this.host.settled();
  }

  /** CANCEL. A folder's for an entry ended here (an older sender's, when each entry still open had been sent whole): the folder ends. */
  onCancel(id: number, wire: WireReason): void {
    const t = this.at(id, "cancel");
    const group = t || !cancelsWhole(wire) ? undefined : this.ended.get(id)?.info.folder?.group;
    if (group !== undefined) return this.onFolderEnd({ kind: "folderEnd", group, ...wire });
    if (t && cancelsWhole(wire)) t.info = this.folders.cancelled(t.info); // its later entries are declined
    if (t) this.end(t, "cancelled", peerFailure("cancel", wire, "E_CANCELLED"));
  }

  /**
   * FOLDER_END: the sender ended its folder whole. Its live entries end, the first with the rest never offered,
   * but for one whose END came (still being written: its sender waits for the answer); with none, the folder
   * itself fails with the rest (TransferInfo.folderOnly), said as its cancel is said otherwise.
   */
  onFolderEnd({ group, ...wire }: FolderEnd): void {
    const rest = this.folders.endedWhole(group);
    const f = peerFailure("cancel", wire, "E_CANCELLED");
    const live = [...this.live.values()].filter((t) => t.info.folder?.group === group && t.state !== "finishing");
    for (const [i, t] of live.entries()) {
      if (i === 0 && rest !== undefined) t.info = { ...t.info, folderRest: rest };
      this.end(t, "cancelled", f);
    }
    if (live.length > 0 || !rest) return;
    const info = this.folders.wholeInfo(group, rest);
    this.host.sinks.entryEnded(info, false);
    reportFailure(this.host.events, info, f);
    this.host.settled();
  }

  /** `cancel ID` typed here (an offer being decided too; a folder's entry: the whole folder). @returns false when none is live */
  cancel(id: number): boolean {
    const t = this.live.get(id);
    if (!t) return false;
    const tell = t.info.folder ? CANCELLED_WHOLE : { code: "E_CANCELLED" };
    for (const u of this.folders.cancelling(t, this.live)) this.end(u, "cancelled", ownFailure(tell.code, tell, tell));
    return true;
  }

  /** Ends every live transfer (the connection is going), telling the peer nothing. */
  failAll(f: Failure): void {
    for (const t of [...this.live.values()]) this.end(t, "failed", f);
    this.host.sinks.connectionEnded();
  }

  /** The transfer `id` if `input` acts on it now; undefined when it is to be ignored. */
  private at(id: number, input: FrameInput): Incoming | undefined {
    const t = this.live.get(id) ?? this.ended.get(id);
    const state = t?.state ?? "unknown";
    const action = FRAME_ACTIONS[state][input];
    if (action === "ignore") return undefined;
    if (action === "unexpected" || !t) throw outOfPlace(id, input, state);
    return t;
  }

  private decided(t: Incoming, algo: ChecksumAlgo, meta: FileMeta, decision: OfferDecision): void {
    // Cancelled while the user was deciding, or the session is going: nothing more to say.
    if (t.state !== "deciding" || !this.host.isActive()) return;
    if (decision !== true) {
      // A folder's entry is decided by the answer to its folder: the folder is declined whole.
      const { reason, code } = typeof decision === "string" ? { reason: decision, code: "E_REJECTED" } : decision;
      const tell = t.info.folder ? { code, detail: REFUSED_WHOLE.detail } : { code };
      t.info = this.folders.declined(t.info, tell, this.host.peer);
      return this.end(t, "declined", { reason, code: "E_REJECTED", tell });
    }
    let sink: IncomingSink;
    try {
      sink = this.host.openSink ? this.host.openSink(t.info, algo) : this.host.sinks.open(t.info, algo, meta);
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      t.info = this.folders.declined(t.info, err, this.host.peer);
      return this.end(t, "declined", failureOf(err));
    }
    t.sink = sink;
    t.counted = sink.received; // a .part's bytes are already there: they are not the peer's DATA
    // A folder stored under another name than offered ("photos (1)") is said so from its first line.
    const root = t.info.folder && this.host.sinks.rootName(t.info.folder);
    const rootStoredAs = root !== undefined && root !== t.info.folder?.root ? { rootStoredAs: root } : {};
    t.info = { ...t.info, name: sink.name, ...rootStoredAs };
    sink.onFlushed = () => this.flushed(t);
    sink.onFailed = (err) => this.end(t, "failed", failureOf(err));
    const resumable = isResumableSink(sink) && sink.resumeOffset > 0 ? sink : undefined;
    if (resumable) {
      t.state = "checking";
      this.acceptResumable(t, resumable);
    } else {
      t.state = "receiving";
      this.host.scheduler.send({ kind: "accept", id: t.info.id, offset: 0 });
    }
    this.host.events.transferStarted(t.info);
  }

  /**
   * A `.part` of an earlier attempt is there: hash it (in slices, so chat and other transfers
   * go on), then offer to resume from its end with its digest; the sender answers START.
   */
  private acceptResumable(t: Incoming, sink: ResumableSink): void {
    const stillWanted = () => t.state === "checking" && this.host.isActive();
    sink.hashPrefix().then(
      (prefix) => {
        if (prefix === undefined || !stillWanted()) return;
        t.state = "resuming";
        this.host.scheduler.send({ kind: "accept", id: t.info.id, offset: sink.resumeOffset, prefix });
      },
      (err: unknown) => {
        if (!(err instanceof TransferError)) throw err;
        if (stillWanted()) this.end(t, "failed", failureOf(err));
      },
    );
  }

  /** Bytes the sink has taken out count as consumed: the peer may send that much more. */
  private countConsumed(t: Incoming): void {
    const sink = t.sink as IncomingSink;
    const out = sink.received - (sink.backlog ?? 0);
    if (out > t.counted) {
      this.host.scheduler.consumed(out - t.counted);
      t.counted = out;
    }
  }

  /** A sink that held bytes back (a full pipe) wrote some out. */
  private flushed(t: Incoming): void {
    if (t.state !== "receiving" && t.state !== "finishing") return;
    this.countConsumed(t);
    if (t.state === "finishing" && !t.sink?.backlog) this.finish(t, t.trailer as Trailer);
  }

  /** A live transfer ends badly (or is declined): tell the peer if `f` says so, report. */
  private end(t: Incoming, state: "declined" | "failed" | "cancelled", f: Failure): void {
    if (!LIVE_STATES.has(t.state)) return;
    // Failed while its question waits (receive --ask): no sink, but an earlier attempt's `.part`
    // that accepting it would resume may be there; a resend resumes that (review22).
    const earlier =
      t.state === "deciding" && state === "failed" && !this.host.openSink
        ? this.host.sinks.earlierPartBytes(t.info, t.meta)
        : 0;
    // Waiting for the sender's START (its check of our prefix): it may find its file changed
    // since, and a resend then starts over (review22).
    const told =
      earlier > 0
        ? { ...t.info, partKept: true as const }
        : t.state === "resuming"
          ? { ...t.info, prefixUnchecked: true as const }
          : t.info;
    this.settle(t, state);
    t.sink?.abort(KEEP_PART_CODES.has(f.code));
    // What the sink took but had not let us count (a full pipe) is dropped: ACK it.
    if (t.sink) this.host.scheduler.consumed(t.sink.received - t.counted, true);
    if (f.tell)
      this.host.scheduler.send({ kind: state === "declined" ? "reject" : "cancel", id: t.info.id, ...f.tell });
    this.host.sinks.entryEnded(t.info, false);
    // A decline in the transfer layer's or the CLI's words says so; one the CLI words knows it.
    if (state === "declined" && !f.why) this.host.events.transferFailed(t.info, `declined: ${f.reason}`, f.code);
    else reportFailure(this.host.events, told, f, t.sink?.received ?? earlier);
    this.host.settled();
  }

  private settle(t: Incoming, state: IncomingState): void {
    t.state = state;
    this.live.delete(t.info.id);
    if (t.info.folder) this.folders.entryEnded(t.info.folder.group);
    this.ended.set(t.info.id, t);
    if (this.ended.size > MAX_REMEMBERED_ENDED) this.ended.delete(this.ended.keys().next().value as number);
  }
}
