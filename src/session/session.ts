/**
 * Session: one conversation with one peer over a FrameChannel, after HELLO. Knows nothing of
 * terminals or sockets: it takes frames and commands, and emits SessionEvents.
 *
 * Writing is one scheduler (`pump`): control frames (chat, ACK, OFFER, END, ...) go first,
 * switching only at frame boundaries; DATA is pulled from the active FileSenders only while
 * fewer than the send window (send-window.ts) are un-ACKed and the connection has nothing queued, so a chat line
 * never waits behind more than about one window of file bytes, and memory stays flat.
 */

import {
  boundedReason,
  DATA_HEADER_BYTES,
  encodeMessage,
  type FolderEntry,
  type Frame,
  FrameType,
  type Hello,
  type Message,
  type Offer,
  ProtocolError,
  parseMessage,
  type WireReason,
  wireDetail,
} from "../protocol/index.ts";
import {
  type ChecksumAlgo,
  checkReadableFile,
  DirReceiver,
  EmptySource,
  ExistingCopy,
  type FileMeta,
  FileReceiver,
  FileSender,
  FolderTargets,
  type FrameSource,
  type IncomingSink,
  isChecksumAlgo,
  isResumableSink,
  type ResumableSink,
  type SendTrailer,
  StreamSender,
  TransferError,
} from "../transfer/index.ts";
import type { ChannelClose, FrameChannel } from "./channel.ts";
import type { Direction, PeerReason, SessionEvents, TransferInfo } from "./events.ts";
import {
  ACK_EVERY_BYTES,
  BYE_FLUSH_MS,
  CHUNK_BYTES,
  MAX_INCOMING_TRANSFERS,
  MAX_OUTGOING_TRANSFERS,
  MAX_QUEUED_CONTROL_BYTES,
  PEER_TIMEOUT_MS,
  PING_INTERVAL_MS,
  PUMP_SLICE_MS,
} from "./limits.ts";
import { chunkBytesForRate, RateLimiter } from "./rate-limiter.ts";
import { SendWindow } from "./send-window.ts";

type State = "open" | "leaving" | "closing" | "closed";

export interface SessionOptions {
  readonly peer: Hello;
  /** How the connection was authenticated (shown to the user); absent in tests that skip it. */
  readonly security?: { readonly mode: "code" | "port"; readonly verification: string };
  /** Where received files are stored (must exist). */
  readonly downloadDir: string;
  /** Digest used for files this side sends. */
  readonly checksum: ChecksumAlgo;
  readonly events: SessionEvents;
  /**
   * Decides an incoming offer: true accepts; a Decline rejects (its code goes to the peer, its
   * reason is shown here); a string rejects as E_REJECTED with that local reason. Default:
   * accept (as the classic chat program did).
   */
  readonly decideOffer?: (offer: TransferInfo) => Promise<OfferDecision> | OfferDecision;
  /** Most DATA bytes a second this side sends (`--limit-rate`); unlimited when undefined. */
  readonly limitRate?: number;
  /** Where an accepted file goes. Default: a FileReceiver in `downloadDir`. @throws TransferError */
  readonly openSink?: (offer: TransferInfo, algo: ChecksumAlgo) => IncomingSink;
}

/** A declined offer: `code` goes to the peer (REASON_CODE_PATTERN), `reason` is this side's words. */
export interface Decline {
  readonly code: string;
  readonly reason: string;
}
export type OfferDecision = true | string | Decline;

/**
 * Why a transfer ended here: `reason` in this side's words (may name local paths: it never
 * leaves this process), `code` for the event, `tell` what the peer is sent (code + token),
 * `peer` what the peer said when it ended it.
 */
interface Failure {
  readonly reason: string;
  readonly code: string;
  readonly tell?: WireReason;
  readonly peer?: PeerReason;
}

/** A TransferError as a Failure: its message stays here; the peer gets its code and errno name. */
function failureOf(err: TransferError): Failure {
  const errno = (err.cause as { code?: unknown } | undefined)?.code;
  const detail = typeof errno === "string" ? wireDetail(errno) : undefined;
  return { reason: err.message, code: err.code, tell: { code: err.code, ...(detail ? { detail } : {}) } };
}

/** What the peer said, as a Failure: the words are the CLI's (PeerReason), not ours. */
function peerFailure(said: PeerReason["said"], wire: WireReason, code: string): Failure {
  const peer: PeerReason = { said, code: wire.code, ...(wire.detail ? { detail: wire.detail } : {}) };
  return { reason: wire.detail ? `${wire.code} ${wire.detail}` : wire.code, code, peer };
}

function toldFailure(reason: string, code: string): Failure {
  return { reason, code, tell: { code } };
}

interface Outgoing {
  readonly info: TransferInfo;
  readonly sender: FrameSource;
  /** "checking": comparing the receiver's prefix digest with our file (resume), no DATA yet. */
  state: "offered" | "checking" | "sending" | "ended";
  /** Set when END is sent. */
  trailer?: SendTrailer;
  /** Bytes the receiver already had and kept (resume); 0 for a whole transfer. */
  resumedFrom: number;
}

interface Incoming {
  readonly info: TransferInfo;
  readonly receiver: IncomingSink;
  /** ACCEPT is on its way (a resumable `.part` is hashed first): before that the peer may send nothing for it. */
  accepted: boolean;
  /** Offset we offered to resume from; until START arrives no DATA may come. */
  awaitingStart: boolean;
  resumedFrom: number;
}

/**
 * Failures after which the receiver keeps its `.part` for a resume: the connection broke, the
 * user interrupted, the disk filled up. A cancel, a bad checksum or size drops it.
 */
const KEEP_PART_CODES: ReadonlySet<string> = new Set(["E_CONNECTION", "E_INTERRUPTED", "E_WRITE"]);

/** Ids the peer may still send DATA for after we stopped listening to them (cancelled). */
const MAX_REMEMBERED_CANCELLED = 1024;

export class Session {
  private state: State = "open";
  private readonly channel: FrameChannel;
  private readonly control: Uint8Array[] = [];
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly incoming = new Map<number, Incoming>();
  private readonly cancelledIncoming = new Set<number>();
  /** Offers waiting for decideOffer. */
  private readonly deciding = new Set<number>();
  /** Offers to make when fewer than MAX_OUTGOING_TRANSFERS are under way. */
  private readonly waitingOffers: Array<() => void> = [];
  /** Folder entries' destinations, made on their first entry. */
  private folderTargets: FolderTargets | undefined;
  /** The peer's ids only grow: an id at or below this one is a reused id. */
  private lastPeerId = 0;
  private pendingPong: Uint8Array | undefined;
  private readonly chunkBytes: number;
  private readonly limiter: RateLimiter | undefined;
  private limitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bytes in `control`. */
  private controlBytes = 0;
  private nextId: number;
  private sentBulk = 0;
  private ackedBulk = 0;
  private readonly window = new SendWindow();
  private consumedBulk = 0;
  private ackedToPeer = 0;
  private rrIndex = 0;
  private pumping = false;
  private pumpScheduled = false;
  private lastReceivedAt = Date.now();
  private lastSentAt = Date.now();
  private readonly keepalive: ReturnType<typeof setInterval>;

  constructor(
    channel: FrameChannel,
    private readonly options: SessionOptions,
  ) {
    this.channel = channel;
    this.nextId = channel.origin === "dialed" ? 1 : 2;
    this.attach(channel);
    this.chunkBytes = chunkBytesForRate(options.limitRate, CHUNK_BYTES);
    if (options.limitRate !== undefined) {
      this.limiter = new RateLimiter(options.limitRate, this.chunkBytes, performance.now());
    }
    this.keepalive = setInterval(() => this.tick(), PING_INTERVAL_MS / 5);
    this.keepalive.unref?.();
  }

  get peer(): Hello {
    return this.options.peer;
  }

  get security(): SessionOptions["security"] {
    return this.options.security;
  }

  get remoteAddress(): string {
    return this.channel.conn.remoteAddress;
  }

  /** Transfers in progress, both directions. */
  get activeTransfers(): TransferInfo[] {
    return [...[...this.outgoing.values()].map((t) => t.info), ...[...this.incoming.values()].map((t) => t.info)];
  }

  /** Bytes the send window allows un-ACKed now (diagnostics: tests, bench). */
  get sendWindowBytes(): number {
    return this.window.bytes;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  /** Open, or leaving after `exit` while transfers finish. */
  get isActive(): boolean {
    return this.state === "open" || this.state === "leaving";
  }

  sendChat(text: string): void {
    if (this.state !== "open" && this.state !== "leaving") return;
    this.queueControl({ kind: "chat", text });
  }

  /**
   * Offers the file at `path` to the peer.
   * @throws TransferError when it is missing, not a regular file, or unreadable
   */
  sendFile(path: string, folder?: FolderEntry): void {
    if (this.state !== "open") throw new TransferError("E_READ", "the session is closing");
    const size = checkReadableFile(path);
    this.enqueue(path, size, folder, (id) => new FileSender(id, path, size, this.options.checksum, this.chunkBytes));
  }

  /** Offers a byte stream of unknown length (stdin) under `name`. */
  sendStream(name: string, stream: ReadableStream<Uint8Array>): void {
    if (this.state !== "open") throw new TransferError("E_READ", "the session is closing");
    this.enqueue(
      name,
      null,
      undefined,
      (id) => new StreamSender(id, name, stream, this.options.checksum, this.chunkBytes),
    );
  }

  /** Offers an empty directory of a folder being sent. */
  sendEmptyDir(folder: FolderEntry): void {
    if (this.state !== "open") throw new TransferError("E_READ", "the session is closing");
    const name = folder.path.at(-1) ?? folder.root;
    this.enqueue(name, 0, folder, (id) => new EmptySource(id, name, this.options.checksum));
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId += 2;
    return id;
  }

  /**
   * Offers go out at most MAX_OUTGOING_TRANSFERS at a time: a folder of thousands of files is
   * pipelined (the next offer leaves as soon as one finishes) without opening them all.
   */
  private enqueue(
    name: string,
    size: number | null,
    folder: FolderEntry | undefined,
    open: (id: number) => FrameSource,
  ): void {
    this.waitingOffers.push(() => {
      const id = this.takeId();
      let sender: FrameSource;
      try {
        sender = open(id);
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        const info: TransferInfo = { id, direction: "send", name, size, ...(folder ? { folder } : {}) };
        this.options.events.transferFailed(info, err.message, err.code);
        return;
      }
      this.offer(sender, folder);
    });
    this.offerMore();
  }

  private offerMore(): void {
    while (this.isActive && this.outgoing.size < MAX_OUTGOING_TRANSFERS) {
      const next = this.waitingOffers.shift();
      if (next === undefined) break;
      next();
    }
    this.leaveIfIdle();
  }

  private offer(sender: FrameSource, folder: FolderEntry | undefined): void {
    const info: TransferInfo = {
      id: sender.id,
      direction: "send",
      name: sender.name,
      size: sender.size,
      ...(folder ? { folder } : {}),
    };
    sender.onReadable = () => this.pump();
    this.outgoing.set(info.id, { info, sender, state: "offered", resumedFrom: 0 });
    this.queueControl({
      kind: "offer",
      id: info.id,
      name: info.name,
      size: info.size,
      algo: sender.algo,
      ...sender.meta,
      ...(folder ? { folder } : {}),
    });
    this.options.events.transferStarted(info);
  }

  /**
   * Transfers in progress with their byte counts so far, for `transfers`. `checking`: a resume
   * is being decided (the prefix is hashed), so the count may still fall back to 0.
   */
  get transferStatus(): Array<{ readonly info: TransferInfo; readonly bytes: number; readonly checking: boolean }> {
    return [
      ...[...this.outgoing.values()].map((t) => ({
        info: t.info,
        bytes: t.sender.sent,
        checking: t.state === "checking",
      })),
      ...[...this.incoming.values()].map((t) => ({
        info: t.info,
        bytes: t.receiver.received,
        checking: t.awaitingStart,
      })),
    ];
  }

  /**
   * Stops transfer `id` (either direction); the peer is told and says so too.
   * @returns false when there is no such transfer in progress
   */
  cancel(id: number): boolean {
    const out = this.outgoing.get(id);
    if (out) {
      this.failOutgoing(out, toldFailure("cancelled by the sender", "E_CANCELLED"));
      return true;
    }
    const inc = this.incoming.get(id);
    if (inc) {
      this.failIncoming(inc, toldFailure("cancelled by the receiver", "E_CANCELLED"));
      return true;
    }
    return false;
  }

  /** `exit`: waits for transfers in both directions to finish, then BYE and close. */
  exit(): void {
    if (this.state !== "open") return;
    this.state = "leaving";
    this.leaveIfIdle();
  }

  /** Ctrl-C, SIGTERM: cancels transfers, BYE with `reason`, closes at once. */
  abort(reason: string): void {
    if (this.state === "closing" || this.state === "closed") return;
    // "closing" first: cancelling must not let a pending `exit` say its own BYE.
    this.state = "closing";
    this.cancelAll({ reason: `cancelled: ${reason}`, code: "E_INTERRUPTED" });
    this.sayBye(reason);
  }

  // --- incoming frames ---------------------------------------------------------------

  private onFrame(frame: Frame): void {
    // After BYE (either way) nothing more is used; the bytes are read only to close cleanly.
    if (this.state === "closing" || this.state === "closed") return;
    this.lastReceivedAt = Date.now();
    if (frame.type === FrameType.Data) return this.onData(frame.transferId, frame.payload);
    const message = parseMessage(frame);
    switch (message.kind) {
      case "chat":
        this.options.events.chatReceived(message.text);
        return;
      case "ack":
        if (message.bytes > this.sentBulk || message.bytes < this.ackedBulk) {
          throw new ProtocolError("E_BAD_MESSAGE", "ACK outside the bytes sent");
        }
        this.ackedBulk = message.bytes;
        this.window.acked(message.bytes, performance.now(), this.consumedBulk);
        this.pump();
        return;
      case "ping":
        // At most one PONG waits (the newest): a peer flooding PINGs cannot grow our queue.
        this.pendingPong = encodeMessage({ kind: "pong", token: message.token });
        this.pump();
        return;
      case "pong":
        return;
      case "offer":
        return this.onOffer(message);
      case "accept": {
        const t = this.outgoing.get(message.id);
        if (t?.state !== "offered")
          throw new ProtocolError("E_UNEXPECTED", `ACCEPT for unknown transfer ${message.id}`);
        if (message.offset > 0) return this.resume(t, message.offset, message.prefix ?? "");
        t.state = "sending";
        this.pump();
        return;
      }
      case "start":
        return this.onStart(message.id, message.offset);
      case "reject": {
        const t = this.outgoing.get(message.id);
        if (t) this.failOutgoing(t, peerFailure("reject", message, "E_REJECTED"));
        return;
      }
      case "end":
        return this.onEnd(message.id, message.bytes, message.algo, message.digest);
      case "received": {
        const t = this.outgoing.get(message.id);
        if (!t?.trailer) throw new ProtocolError("E_UNEXPECTED", `RECEIVED for unknown transfer ${message.id}`);
        if (!message.ok) {
          const code = message.code ?? "E_REMOTE";
          const wire = { code, ...(message.detail ? { detail: message.detail } : {}) };
          return this.failOutgoing(t, peerFailure("received", wire, code));
        }
        if (message.bytes !== t.trailer.bytes)
          throw new ProtocolError("E_BAD_MESSAGE", "RECEIVED with a byte count not sent");
        this.outgoing.delete(t.info.id);
        this.options.events.transferFinished({ ...t.info, ...t.trailer, resumedFrom: t.resumedFrom });
        this.offerMore();
        return;
      }
      case "cancel":
        return this.onCancel(message.id, message);
      case "bye":
        this.state = "closed";
        this.cancelAll({ reason: `the peer left (${message.reason})`, code: "E_CONNECTION" });
        this.stopTimers();
        this.channel.conn.end(BYE_FLUSH_MS);
        this.options.events.peerLeft(message.reason);
        return;
      case "hello":
      case "ready":
        throw new ProtocolError("E_UNEXPECTED", `${message.kind.toUpperCase()} after the handshake`);
    }
  }

  private onOffer({ id, name, size, algo, mtime, exec, folder }: Offer): void {
    const meta: FileMeta = { ...(mtime === undefined ? {} : { mtime }), ...(exec === undefined ? {} : { exec }) };
    const peerParity = this.nextId % 2 === 1 ? 0 : 1; // the peer's ids have the other parity
    if (id % 2 !== peerParity) throw new ProtocolError("E_BAD_MESSAGE", `OFFER id ${id} has the wrong parity`);
    if (id <= this.lastPeerId) throw new ProtocolError("E_BAD_MESSAGE", `OFFER id ${id} reused`);
    this.lastPeerId = id;
    const offered: TransferInfo = { id, direction: "receive", name, size, ...(folder ? { folder } : {}) };
    if (!isChecksumAlgo(algo)) {
      const detail = wireDetail(algo);
      return this.reject(offered, {
        reason: `unsupported checksum ${algo}`,
        code: "E_UNSUPPORTED_CHECKSUM",
        tell: { code: "E_UNSUPPORTED_CHECKSUM", ...(detail ? { detail } : {}) },
      });
    }
    if (this.incoming.size + this.deciding.size >= MAX_INCOMING_TRANSFERS) {
      return this.reject(offered, {
        reason: `more than ${MAX_INCOMING_TRANSFERS} transfers at once`,
        code: "E_REJECTED",
        tell: { code: "E_TOO_MANY_TRANSFERS", detail: String(MAX_INCOMING_TRANSFERS) },
      });
    }
    if (this.state !== "open") {
      return this.reject(offered, {
        reason: "the receiver is leaving",
        code: "E_REJECTED",
        tell: { code: "E_LEAVING" },
      });
    }
    const decision = this.options.decideOffer?.(offered) ?? true;
    if (!(decision instanceof Promise)) return this.decided(offered, algo, meta, decision);
    this.deciding.add(id);
    decision.then(
      (answer) => this.deciding.delete(id) && this.decided(offered, algo, meta, answer),
      (err: unknown) =>
        this.deciding.delete(id) && this.decided(offered, algo, meta, { code: "E_REJECTED", reason: String(err) }),
    );
  }

  private decided(offered: TransferInfo, algo: ChecksumAlgo, meta: FileMeta, decision: OfferDecision): void {
    if (this.state === "closing" || this.state === "closed") return;
    if (typeof decision === "string") return this.reject(offered, toldFailure(decision, "E_REJECTED"));
    if (decision !== true) {
      return this.reject(offered, { reason: decision.reason, code: "E_REJECTED", tell: { code: decision.code } });
    }
    let receiver: IncomingSink;
    try {
      receiver = this.options.openSink ? this.options.openSink(offered, algo) : this.openReceiver(offered, algo, meta);
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      return this.reject(offered, failureOf(err));
    }
    const info: TransferInfo = { ...offered, name: receiver.name };
    const resumable = isResumableSink(receiver) && receiver.resumeOffset > 0 ? receiver : undefined;
    const t: Incoming = { info, receiver, accepted: !resumable, awaitingStart: !!resumable, resumedFrom: 0 };
    this.incoming.set(info.id, t);
    if (resumable) this.acceptResumable(t, resumable);
    else this.queueControl({ kind: "accept", id: info.id, offset: 0 });
    this.options.events.transferStarted(info);
  }

  /**
   * A `.part` of an earlier attempt is there: hash it (in slices, so chat and other transfers
   * go on), then offer to resume from its end with its digest; the sender answers START.
   */
  private acceptResumable(t: Incoming, receiver: ResumableSink): void {
    const stillWanted = () => this.incoming.get(t.info.id) === t && this.isActive;
    receiver.hashPrefix().then(
      (prefix) => {
        if (prefix === undefined || !stillWanted()) return;
        t.accepted = true;
        this.queueControl({ kind: "accept", id: t.info.id, offset: receiver.resumeOffset, prefix });
      },
      (err: unknown) => {
        if (!(err instanceof TransferError)) throw err;
        if (stillWanted()) this.failIncoming(t, failureOf(err));
      },
    );
  }

  /** A file in the download directory, or an entry of a folder in the folder made for it. */
  private openReceiver(offered: TransferInfo, algo: ChecksumAlgo, meta: FileMeta): IncomingSink {
    const { folder } = offered;
    if (!folder) return FileReceiver.open(this.options.downloadDir, offered.name, offered.id, offered.size, algo, meta);
    this.folderTargets ??= new FolderTargets(this.options.downloadDir);
    if (folder.dir) {
      if (offered.size !== 0) throw new TransferError("E_SIZE_MISMATCH", "an empty folder with data");
      return new DirReceiver(this.folderTargets.dirFor(folder), offered.name, algo);
    }
    const parent = this.folderTargets.parentFor(folder);
    const name = folder.path.at(-1) ?? offered.name;
    // Sent again into its unfinished folder: a file stored whole last time is checked, not resent.
    const copy = this.folderTargets.isResumed(folder)
      ? ExistingCopy.open(parent, name, offered.id, offered.size, algo, meta)
      : undefined;
    return copy ?? FileReceiver.open(parent, name, offered.id, offered.size, algo, meta);
  }

  private reject(offered: TransferInfo, f: Failure): void {
    this.rememberCancelled(offered.id);
    this.queueControl({ kind: "reject", id: offered.id, ...(f.tell ?? { code: f.code }) });
    this.folderEntryEnded(offered, false);
    this.options.events.transferFailed(offered, `declined: ${f.reason}`, f.code);
    this.leaveIfIdle();
  }

  private onData(id: number, bytes: Uint8Array): void {
    this.consumedBulk += bytes.length;
    const t = this.incoming.get(id);
    if (t) {
      if (t.awaitingStart) throw new ProtocolError("E_UNEXPECTED", `DATA for transfer ${id} before START`);
      try {
        t.receiver.write(bytes);
        this.options.events.transferProgressed(t.info, t.receiver.received);
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        this.failIncoming(t, failureOf(err));
      }
    } else if (!this.cancelledIncoming.has(id)) {
      throw new ProtocolError("E_UNEXPECTED", `DATA for unknown transfer ${id}`);
    }
    if (this.consumedBulk - this.ackedToPeer >= ACK_EVERY_BYTES) {
      this.ackedToPeer = this.consumedBulk;
      this.queueControl({ kind: "ack", bytes: this.consumedBulk });
    }
  }

  /**
   * Sender side of resume: compare the receiver's prefix with our file (in slices, so chat
   * and other transfers go on), then say where DATA starts: there, or 0 to start over.
   */
  private resume(t: Outgoing, offset: number, prefix: string): void {
    t.state = "checking";
    const stillWanted = () => this.outgoing.get(t.info.id) === t && t.state === "checking" && this.isActive;
    t.sender.resumeFrom(offset, prefix).then(
      (same) => {
        if (!stillWanted()) return;
        t.state = "sending";
        t.resumedFrom = same ? offset : 0;
        this.queueControl({ kind: "start", id: t.info.id, offset: t.resumedFrom });
      },
      (err: unknown) => {
        if (!(err instanceof TransferError)) throw err;
        if (stillWanted()) this.failOutgoing(t, failureOf(err));
      },
    );
  }

  /** Receiver side of resume: DATA starts where the sender says (our offset, or 0: start over). */
  private onStart(id: number, offset: number): void {
    const t = this.incoming.get(id);
    if (!t) {
      if (this.cancelledIncoming.has(id)) return;
      throw new ProtocolError("E_UNEXPECTED", `START for unknown transfer ${id}`);
    }
    if (!t.accepted) throw new ProtocolError("E_UNEXPECTED", `START for transfer ${id} before ACCEPT`);
    if (!t.awaitingStart) throw new ProtocolError("E_UNEXPECTED", `START for transfer ${id} that did not resume`);
    const receiver = t.receiver as ResumableSink;
    if (offset !== 0 && offset !== receiver.resumeOffset) {
      throw new ProtocolError(
        "E_BAD_MESSAGE",
        `START at ${offset}, neither 0 nor the offered ${receiver.resumeOffset}`,
      );
    }
    t.awaitingStart = false;
    t.resumedFrom = offset;
    if (offset === 0) {
      try {
        receiver.restart();
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        return this.failIncoming(t, failureOf(err));
      }
    }
  }

  private onEnd(id: number, bytes: number, algo: string, digest: string): void {
    const t = this.incoming.get(id);
    if (!t) {
      if (this.cancelledIncoming.has(id)) return;
      throw new ProtocolError("E_UNEXPECTED", `END for unknown transfer ${id}`);
    }
    // Thrown before the transfer leaves `incoming`: losing the connection then aborts it
    // (closing the `.part`, kept for a resume) like every other transfer under way.
    if (t.awaitingStart) throw new ProtocolError("E_UNEXPECTED", `END for transfer ${id} before START`);
    this.incoming.delete(id);
    try {
      const stored = t.receiver.finish({ bytes, algo, digest });
      this.queueControl({ kind: "received", id, bytes: stored.bytes, ok: true });
      this.folderEntryEnded(t.info, true);
      this.options.events.transferFinished({ ...t.info, ...stored, resumedFrom: t.resumedFrom });
    } catch (err) {
      if (!(err instanceof TransferError)) throw err;
      const { received } = t.receiver;
      this.queueControl({ kind: "received", id, bytes: received, ok: false, ...failureOf(err).tell });
      this.folderEntryEnded(t.info, false);
      this.options.events.transferFailed(t.info, err.message, err.code);
    }
    this.leaveIfIdle();
  }

  private onCancel(id: number, wire: WireReason): void {
    const out = this.outgoing.get(id);
    if (out) return this.failOutgoing(out, peerFailure("cancel", wire, "E_CANCELLED"));
    const inc = this.incoming.get(id);
    if (inc) return this.failIncoming(inc, peerFailure("cancel", wire, "E_CANCELLED"));
  }

  // --- transfer endings --------------------------------------------------------------

  private failOutgoing(t: Outgoing, f: Failure): void {
    if (!this.outgoing.delete(t.info.id)) return;
    t.sender.stop();
    if (f.tell) this.queueControl({ kind: "cancel", id: t.info.id, ...f.tell });
    this.reportFailure(t.info, f);
    this.offerMore();
  }

  private failIncoming(t: Incoming, f: Failure): void {
    if (!this.incoming.delete(t.info.id)) return;
    t.receiver.abort(KEEP_PART_CODES.has(f.code));
    this.rememberCancelled(t.info.id);
    if (f.tell) this.queueControl({ kind: "cancel", id: t.info.id, ...f.tell });
    this.folderEntryEnded(t.info, false);
    this.reportFailure(t.info, f);
    this.leaveIfIdle();
  }

  private reportFailure(info: TransferInfo, f: Failure): void {
    if (f.peer) this.options.events.transferFailed(info, f.reason, f.code, f.peer);
    else this.options.events.transferFailed(info, f.reason, f.code);
  }

  /** An incoming folder entry ended: the folder is finished once all have ended well. */
  private folderEntryEnded(info: TransferInfo, ok: boolean): void {
    if (info.folder) this.folderTargets?.entryEnded(info.folder, ok);
  }

  private rememberCancelled(id: number): void {
    this.cancelledIncoming.add(id);
    if (this.cancelledIncoming.size > MAX_REMEMBERED_CANCELLED) {
      const oldest = this.cancelledIncoming.values().next().value;
      if (oldest !== undefined) this.cancelledIncoming.delete(oldest);
    }
  }

  private cancelAll(f: Failure): void {
    this.waitingOffers.length = 0;
    for (const t of [...this.outgoing.values()]) this.failOutgoing(t, f);
    for (const t of [...this.incoming.values()]) this.failIncoming(t, f);
  }

  // --- leaving -----------------------------------------------------------------------

  private leaveIfIdle(): void {
    if (this.state !== "leaving" || this.outgoing.size > 0 || this.incoming.size > 0) return;
    if (this.waitingOffers.length > 0 || this.deciding.size > 0) return;
    this.sayBye("exit");
  }

  /**
   * BYE goes out behind whatever is queued, and the close starts now: Connection.end flushes
   * and destroys the socket after BYE_FLUSH_MS at the latest, so a peer that stopped reading
   * cannot keep us from exiting.
   */
  private sayBye(reason: string): void {
    this.state = "closing";
    this.stopTimers();
    const { conn } = this.channel;
    for (const frame of this.control.splice(0)) conn.write(frame);
    this.controlBytes = 0;
    conn.write(encodeMessage({ kind: "bye", reason: boundedReason(reason) }));
    conn.end(BYE_FLUSH_MS);
  }

  private stopTimers(): void {
    clearInterval(this.keepalive);
    clearTimeout(this.limitTimer);
  }

  private onChannelClose(channel: FrameChannel, why: ChannelClose): void {
    if (channel !== this.channel) return;
    if (this.state === "closing" || this.state === "closed") {
      const wasClosing = this.state === "closing";
      this.state = "closed";
      this.stopTimers();
      if (wasClosing) this.options.events.closed();
      return;
    }
    this.lose(why);
  }

  private lose(why: ChannelClose): void {
    if (this.state === "closed") return;
    const reason = why.protocol
      ? `the peer broke the protocol (${why.protocol.message})`
      : why.error
        ? `connection lost: ${why.error.message}`
        : "connection lost: the peer closed the connection without saying goodbye";
    this.state = "closed";
    this.stopTimers();
    this.cancelAll({ reason, code: "E_CONNECTION" });
    this.options.events.connectionLost(reason);
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastReceivedAt > PEER_TIMEOUT_MS) {
      // lose() first: destroy() reports the close synchronously, with no reason.
      this.lose({ error: new Error(`no word from the peer for ${PEER_TIMEOUT_MS / 1000} s`) });
      this.channel.conn.destroy();
      return;
    }
    if (now - this.lastSentAt >= PING_INTERVAL_MS && this.control.length === 0) {
      const token = new Uint8Array(8);
      new DataView(token.buffer).setFloat64(0, now);
      this.queueControl({ kind: "ping", token });
    }
  }

  // --- the scheduler -----------------------------------------------------------------

  private attach(channel: FrameChannel): void {
    channel.setOwner({
      onFrame: (frame) => this.onFrame(frame),
      onDrain: () => this.pump(),
      onClose: (why) => this.onChannelClose(channel, why),
    });
  }

  private queueControl(message: Message): void {
    this.pushControl(encodeMessage(message));
    this.pump();
  }

  /** Queues a control frame without pumping (the caller is the pump, or pumps next). */
  private pushControl(frame: Uint8Array): void {
    this.controlBytes += frame.length;
    if (this.controlBytes > MAX_QUEUED_CONTROL_BYTES) {
      // Only a peer that makes us answer without ever reading gets here (OFFER or chat floods).
      this.channel.fail(new ProtocolError("E_UNEXPECTED", "the peer does not read what is sent to it"));
      return;
    }
    this.control.push(frame);
  }

  /** Writes what may be written now: control first, then DATA within the window. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.pumpSlice();
    } finally {
      this.pumping = false;
    }
  }

  private pumpSlice(): void {
    const conn = this.channel.conn;
    const started = performance.now();
    while (!conn.closed && conn.queuedBytes === 0) {
      let frame = this.control.shift();
      if (frame !== undefined) this.controlBytes -= frame.length;
      else {
        frame = this.pendingPong;
        this.pendingPong = undefined;
      }
      if (frame !== undefined) {
        conn.write(frame);
        this.lastSentAt = Date.now();
        continue;
      }
      if (this.state !== "open" && this.state !== "leaving") return;
      if (this.sentBulk - this.ackedBulk >= this.window.bytes) return;
      if (this.mustWaitForRate()) return;
      if (!this.writeNextChunk(conn)) return;
      if (performance.now() - started > PUMP_SLICE_MS) {
        // Reads that resolve at once would otherwise starve timers, input and ACK handling.
        this.schedulePump();
        return;
      }
    }
  }

  /** With --limit-rate: true (and a pump scheduled) when the next DATA frame must wait. */
  private mustWaitForRate(): boolean {
    if (!this.limiter) return false;
    const delay = this.limiter.delayMs(performance.now());
    if (delay === 0) return false;
    this.limitTimer ??= setTimeout(() => {
      this.limitTimer = undefined;
      this.pump();
    }, delay);
    return true;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Round-robin over sending transfers; writes one DATA frame or END. False when none is ready. */
  private writeNextChunk(conn: FrameChannel["conn"]): boolean {
    const sending = [...this.outgoing.values()].filter((t) => t.state === "sending");
    for (let tried = 0; tried < sending.length; tried++) {
      const t = sending[this.rrIndex++ % sending.length] as Outgoing;
      let frame: Uint8Array | null | undefined;
      try {
        frame = t.sender.nextFrame();
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        this.failOutgoing(t, failureOf(err));
        return true;
      }
      if (frame === null) continue; // a stream waiting for input: its onReadable pumps again
      if (frame === undefined) {
        t.state = "ended";
        t.trailer = t.sender.trailer();
        this.pushControl(encodeMessage({ kind: "end", id: t.info.id, ...t.trailer }));
        return true;
      }
      this.writeFrame(conn, t, frame);
      return true;
    }
    return false;
  }

  private writeFrame(conn: FrameChannel["conn"], t: Outgoing, frame: Uint8Array): void {
    // One write per frame. The frame lives in the sender's reused buffer: safe because the
    // scheduler only gets here when the connection has nothing queued, so the previous frame
    // has been taken by the kernel in full.
    conn.write(frame);
    this.sentBulk += frame.length - DATA_HEADER_BYTES;
    this.window.sent(this.sentBulk, performance.now(), this.consumedBulk);
    this.limiter?.spend(frame.length - DATA_HEADER_BYTES, performance.now());
    this.lastSentAt = Date.now();
    this.options.events.transferProgressed(t.info, t.sender.sent);
  }
}

export type { Direction };
