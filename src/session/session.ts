/**
 * Session: one conversation with one peer over a FrameChannel, after the handshake. Knows
 * nothing of terminals or sockets: it takes frames and commands, and emits SessionEvents.
 *
 * This file is the connection's lifecycle (open → leaving → closing → closed) and the
 * dispatch of each frame to its owner: the outgoing and incoming transfer machines
 * (outgoing.ts, incoming.ts, by transfer id), the scheduler (scheduler.ts, the one writer)
 * and the keepalive (keepalive.ts). Our sends become offers with our ids in send-offers.ts.
 * Time comes from an injected Clock.
 */

import { ProtocolError } from "../protocol/errors.ts";
import { Feature, readsLeaving } from "../protocol/features.ts";
import type { Frame } from "../protocol/frame-decoder.ts";
import { FrameType } from "../protocol/frame-types.ts";
import { type CommandPlace, type FolderEntry, type Hello, shownReason } from "../protocol/message-types.ts";
import { boundedReason, encodeMessage, parseMessage } from "../protocol/messages.ts";
import type { ChecksumAlgo } from "../transfer/checksum.ts";
import { TransferError } from "../transfer/errors.ts";
import type { FileId } from "../transfer/folder-walk.ts";
import type { IncomingSink } from "../transfer/source.ts";
import type { FileWrites } from "../transfer/write-behind.ts";
import type { ChannelClose, FrameChannel } from "./channel.ts";
import { chatTrace } from "./chat-trace.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Direction, SessionEvents, TransferInfo } from "./events.ts";
import { type Failure, lostWords, ownFailure } from "./failure.ts";
import { type Decline, IncomingTransfers, type OfferDecision } from "./incoming.ts";
import { IncomingSinks, slowWriteMark } from "./incoming-sinks.ts";
import { Keepalive } from "./keepalive.ts";
import { BYE_FLUSH_MS, CHUNK_BYTES } from "./limits.ts";
import type { MetPath } from "./meeting.ts";
import { OutgoingTransfers } from "./outgoing.ts";
import { chunkBytesForRate } from "./rate-limiter.ts";
import { Scheduler } from "./scheduler.ts";
import { SendOffers } from "./send-offers.ts";

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
   * Decides each incoming offer: true accepts; a Decline rejects (its code goes to the peer, its
   * reason is shown here); a string rejects as E_REJECTED with that local reason. Default: accept.
   * `stillWanted()` turns false when the offer is cancelled (or the session goes) before the answer.
   */
  readonly decideOffer?: (offer: TransferInfo, stillWanted: () => boolean) => Promise<OfferDecision> | OfferDecision;
  /** Set: every incoming offer is declined with it, unasked (a one-shot `parley send` takes no files). */
  readonly refuseOffers?: Decline;
  /** Most DATA bytes a second this side sends (`--limit-rate`); unlimited when undefined. */
  readonly limitRate?: number;
  /** Where an accepted file goes. Default: a FileReceiver in `downloadDir`. @throws TransferError */
  readonly openSink?: (offer: TransferInfo, algo: ChecksumAlgo) => IncomingSink;
  /**
   * Slow file writes leave the event loop (FileReceiver's writeBehind: their completion comes
   * from the real event loop). Default: on; tests on a manual clock turn it off or pass theirs.
   */
  readonly writeBehind?: boolean | FileWrites;
  /** Time and timers (tests pass a manual clock). Default: the real one. */
  readonly clock?: Clock;
  /**
   * How the connection reaches the peer, when met through the mailbox (meeting.ts):
   * through a transit relay, a close without the peer's BYE may be the relay's, and is said so
   * (lostWords: the relay's address as its path line names it).
   */
  readonly via?: MetPath | undefined;
}

export class Session {
  private state: State = "open";
  /** The word our BYE says (exit's or abort's reason): the closed event shows the same, as the peer does. */
  private byeReason = "exit";
  /** The peer's LEAVING came (told once: a peer sends it once; a hostile one's repeats said nothing new). */
  private peerLeaving = false;
  /** A chat line came after the peer's LEAVING (dropped; said once). */
  private chatDroppedAfterLeaving = false;
  private readonly scheduler: Scheduler;
  private readonly keepalive: Keepalive;
  private readonly outgoing: OutgoingTransfers;
  private readonly incoming: IncomingTransfers;
  /** Our sends as offers, with our ids (send-offers.ts). */
  private readonly offers: SendOffers;

  constructor(
    private readonly channel: FrameChannel,
    private readonly options: SessionOptions,
  ) {
    const clock = options.clock ?? systemClock;
    const chunkBytes = chunkBytesForRate(options.limitRate, CHUNK_BYTES);
    const rate = options.limitRate === undefined ? undefined : { bytesPerSecond: options.limitRate, chunkBytes };
    this.scheduler = new Scheduler(
      channel.conn,
      clock,
      {
        nextBulk: (maxPayloadBytes) => this.outgoing.nextBulk(maxPayloadBytes),
        bulkAllowed: () => this.isActive,
        wrote: () => this.keepalive.spoke(),
        overflowed: (error) => this.channel.fail(error),
      },
      rate,
      {
        peerAcksEarly: options.peer.features.includes(Feature.EarlyAcks),
        relayed: channel.relayed,
        peerRelayWindow: options.peer.features.includes(Feature.RelayWindow),
      },
    );
    const host = {
      events: options.events,
      scheduler: this.scheduler,
      isOpen: () => this.state === "open",
      isActive: () => this.isActive,
      settled: () => this.leaveIfIdle(),
      peer: options.peer,
    };
    this.outgoing = new OutgoingTransfers(host);
    this.offers = new SendOffers(channel.origin, this.outgoing, options.checksum, chunkBytes);
    this.incoming = new IncomingTransfers(
      {
        ...host,
        sinks: new IncomingSinks(
          options.downloadDir,
          options.writeBehind ?? true,
          slowWriteMark(channel.relayed, this.scheduler.lines),
        ),
        ...(options.decideOffer ? { decide: options.decideOffer } : {}),
        ...(options.openSink ? { openSink: options.openSink } : {}),
        ...(options.refuseOffers ? { refuseAll: options.refuseOffers } : {}),
      },
      this.offers.parity === 1 ? 0 : 1, // the peer's ids have the other parity
    );
    this.keepalive = new Keepalive(clock, {
      ping: (token) => this.scheduler.send({ kind: "ping", token }),
      idle: () => this.scheduler.controlIdle,
      timedOut: (ms) => {
        // lose() first: destroy() reports the close synchronously, with no reason.
        this.lose({ error: new Error(`no word from the peer for ${ms / 1000} s`) });
        this.channel.conn.destroy();
      },
    });
    channel.setOwner({
      waits: true,
      onFrame: (frame) => this.onFrame(frame),
      onDrain: () => this.scheduler.pump(),
      onClose: (why) => this.onChannelClose(why),
    });
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

  /** The peer dialed us: remoteAddress's port is the one its system picked for this connection. */
  get peerDialedIn(): boolean {
    return this.channel.peerDialedIn;
  }

  /** Transfers in progress, both directions. */
  get activeTransfers(): TransferInfo[] {
    return this.transferStatus.map((t) => t.info);
  }

  /**
   * Transfers in progress with their byte counts so far, for `transfers`. `checking`: a resume
   * is being decided (the prefix is hashed), so the count may still fall back to 0.
   */
  get transferStatus(): Array<{ readonly info: TransferInfo; readonly bytes: number; readonly checking: boolean }> {
    return [...this.outgoing.list(), ...this.incoming.list()];
  }

  /** Bytes the send window allows un-ACKed now (diagnostics: tests, bench). */
  get sendWindowBytes(): number {
    return this.scheduler.windowBytes;
  }

  /** DATA bytes sent and not yet ACKed by the peer (diagnostics: tests). */
  get unackedBytes(): number {
    return this.scheduler.unackedBytes;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  /** Open, or leaving after `exit` while transfers finish. */
  get isActive(): boolean {
    return this.state === "open" || this.state === "leaving";
  }

  sendChat(text: string): void {
    if (!this.isActive) return;
    chatTrace?.stamp("in", text);
    this.scheduler.send({ kind: "chat", text });
    chatTrace?.stamp(this.scheduler.controlIdle ? "out" : "queued", text);
  }

  /**
   * Offers the file at `path` to the peer.
   * @param command - one of a command's several sends (Offer.command); `listed`: a folder entry's FileId
   * @throws TransferError when it is missing, not a regular file, or unreadable (a lone file
   *   that is not part of a command of several)
   */
  sendFile(path: string, folder?: FolderEntry, command?: CommandPlace, listed?: FileId): void {
    this.mustBeOpen();
    this.offers.file(path, folder, command, listed); // a promised one that cannot be read fails at once
  }

  /** Offers a byte stream of unknown length (stdin) under `name`. */
  sendStream(name: string, stream: ReadableStream<Uint8Array>, command?: CommandPlace): void {
    this.mustBeOpen();
    this.offers.stream(name, stream, command);
  }

  /** Offers an empty directory of a folder being sent. */
  sendEmptyDir(folder: FolderEntry, command?: CommandPlace): void {
    this.mustBeOpen();
    this.offers.emptyDir(folder, command);
  }

  /**
   * Stops transfer `id` (either direction, an offer still being decided included); the peer is told and says so too.
   * @returns false when there is no such transfer in progress
   */
  cancel(id: number): boolean {
    return this.outgoing.cancel(id) || this.incoming.cancel(id);
  }

  /**
   * `exit`: waits for transfers in both directions to finish, then BYE and close.
   * @param reason - BYE's word, which both sides show: "exit" (the chat's command), "done" (`parley send` finished)
   */
  exit(reason = "exit"): void {
    if (this.state !== "open") return;
    this.state = "leaving";
    this.byeReason = boundedReason(reason);
    // Transfers keep the connection up a while yet: a peer that can read it is told now, so its
    // user knows why its new offers are declined and its lines get no answer.
    const waits = this.outgoing.pending > 0 || this.incoming.pending > 0;
    if (waits && readsLeaving(this.options.peer)) this.scheduler.send({ kind: "leaving", reason: this.byeReason });
    this.leaveIfIdle();
  }

  /** Ctrl-C, SIGTERM: cancels transfers, BYE with `reason`, closes at once. */
  abort(reason: string): void {
    if (this.state === "closing" || this.state === "closed") return;
    // "closing" first: cancelling must not let a pending `exit` say its own BYE.
    this.state = "closing";
    this.failAll(ownFailure("E_INTERRUPTED", { code: "E_INTERRUPTED", detail: reason }));
    this.sayBye(reason);
  }

  private mustBeOpen(): void {
    if (this.state !== "open") throw new TransferError("E_READ", "the session is closing");
  }

  /** Hands each frame to its owner. @throws ProtocolError when the peer broke the protocol */
  private onFrame(frame: Frame): void {
    // After BYE (either way) nothing more is used; the bytes are read only to close cleanly.
    if (this.state === "closing" || this.state === "closed") return;
    this.keepalive.heard();
    if (frame.type === FrameType.Data) return this.incoming.onData(frame.transferId, frame.payload);
    const message = parseMessage(frame);
    switch (message.kind) {
      case "chat":
        // After LEAVING a Parley sends no line (the chat refuses its user's: "Not sent: the
        // session is closing"), and ours said the peer sends no more: a crafted peer's is not
        // shown, which is said once (session 31).
        if (this.peerLeaving) return this.chatAfterLeaving();
        this.scheduler.peerChatted();
        if (!chatTrace) return this.options.events.chatReceived(message.text);
        chatTrace.chatDecoded(message.text);
        this.options.events.chatReceived(message.text);
        return chatTrace.stamp("shown", message.text);
      case "ack":
        return this.scheduler.acked(message.bytes);
      case "ping":
        return this.scheduler.pong(message.token);
      case "pong":
      case "share":
      case "confirm":
        return;
      case "offer":
        return this.incoming.onOffer(message);
      case "start":
        return this.incoming.onStart(message.id, message.offset);
      case "end":
        return this.incoming.onEnd(message.id, message);
      case "accept":
      case "reject":
      case "received":
        return this.outgoing.onMessage(message);
      case "cancel":
        // Ids of the two directions have different parities: ours are the outgoing ones.
        if (message.id % 2 === this.offers.parity) return this.outgoing.onMessage(message);
        return this.incoming.onCancel(message.id, message);
      case "folderEnd":
        return this.incoming.onFolderEnd(message);
      case "leaving":
        if (this.peerLeaving) return;
        this.peerLeaving = true;
        return this.options.events.peerLeaving?.(message.reason);
      case "bye":
        this.state = "closed";
        this.failAll({ reason: `the peer left (${shownReason(message.reason)})`, code: "E_CONNECTION" });
        this.stopTimers();
        this.channel.conn.end(BYE_FLUSH_MS);
        return this.options.events.peerLeft(message.reason);
      case "hello":
      case "ready":
        throw new ProtocolError("E_UNEXPECTED", `${message.kind.toUpperCase()} after the handshake`);
    }
  }

  /** A chat line after the peer's LEAVING: dropped, the first told (peerChattedAfterLeaving). */
  private chatAfterLeaving(): void {
    if (this.chatDroppedAfterLeaving) return;
    this.chatDroppedAfterLeaving = true;
    this.options.events.peerChattedAfterLeaving?.();
  }

  private failAll(f: Failure): void {
    this.outgoing.failAll(f);
    this.incoming.failAll(f);
  }

  private leaveIfIdle(): void {
    if (this.state !== "leaving" || this.outgoing.pending > 0 || this.incoming.pending > 0) return;
    this.sayBye(this.byeReason);
  }

  /**
   * BYE goes out behind whatever is queued, and the close starts now: Connection.end flushes
   * and closes the socket after BYE_FLUSH_MS at the latest, so a peer that stopped reading
   * cannot keep us from exiting (a stopped one still gets the BYE: no reset once it is sent).
   */
  private sayBye(reason: string): void {
    this.state = "closing";
    this.byeReason = boundedReason(reason);
    this.keepalive.stop();
    this.scheduler.flush(encodeMessage({ kind: "bye", reason: this.byeReason }));
    this.channel.conn.end(BYE_FLUSH_MS);
  }

  private stopTimers(): void {
    this.keepalive.stop();
    this.scheduler.stop();
  }

  private onChannelClose(why: ChannelClose): void {
    if (this.state === "closing" || this.state === "closed") {
      const wasClosing = this.state === "closing";
      this.state = "closed";
      this.stopTimers();
      if (wasClosing) this.options.events.closed(this.byeReason);
      return;
    }
    this.lose(why);
  }

  private lose(why: ChannelClose): void {
    if (this.state === "closed") return;
    const reason = why.protocol
      ? `the peer broke the protocol (${why.protocol.message})`
      : `connection lost: ${lostWords(why.error, this.options.via)}`;
    this.state = "closed";
    this.stopTimers();
    this.failAll({ reason, code: "E_CONNECTION" });
    this.options.events.connectionLost(reason);
  }
}

export type { Decline, Direction, OfferDecision };
