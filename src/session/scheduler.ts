/**
 * Scheduler: the one writer to a session's connection. Control frames (chat, ACK, OFFER,
 * END, ...) go first, switching only at frame boundaries; then the one pending PONG; then DATA
 * pulled from the outgoing transfers, only while fewer than the send window (send-window.ts)
 * are un-ACKed, the rate limit allows, and the connection has nothing queued. So a chat line
 * never waits behind more than about one window of file bytes (on a short path, while we are
 * chatting, CHAT_WINDOW_BYTES; both ways at once BOTH_WAYS_CHAT_WINDOW_BYTES), and memory stays flat. DATA
 * in one turn of the event loop stops at PUMP_SLICE_MS or TURN_DATA_BYTES (CHAT_TURN_DATA_BYTES
 * while we chat), whichever comes first (however many ACKs the turn brought); the turn's continuation (setImmediate) goes on,
 * after the input, timers and socket reads that were waiting.
 *
 * It counts our DATA sent and ACKed (the window) and writes the ACKs we owe the peer for its DATA
 * (their cadence: ack-cadence.ts); when lines go either way is chat-activity.ts's.
 */

import type { Connection } from "../net/connection.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { DATA_HEADER_BYTES } from "../protocol/frame-types.ts";
import type { Message } from "../protocol/message-types.ts";
import { encodeAck, encodeMessage } from "../protocol/messages.ts";
import { AckCadence } from "./ack-cadence.ts";
import { ChatActivity } from "./chat-activity.ts";
import { chatTrace } from "./chat-trace.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import {
  ACK_EVERY_BYTES,
  BOTH_WAYS_CHAT_WINDOW_BYTES,
  BOTH_WAYS_MS,
  CHAT_TURN_DATA_BYTES,
  CHAT_WINDOW_BYTES,
  CHUNK_BYTES,
  MAX_QUEUED_CONTROL_BYTES,
  PUMP_SLICE_MS,
  RELAY_ACK_EVERY_BYTES,
  RELAY_MIN_WINDOW_BYTES,
  RELAY_WINDOW_BYTES,
  TURN_DATA_BYTES,
} from "./limits.ts";
import { QueueBound } from "./queue-bound.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { SendWindow } from "./send-window.ts";
import { UnackedFrames } from "./unacked-frames.ts";

/** One DATA frame an outgoing transfer has ready, and what to do once it is written. */
export interface BulkFrame {
  readonly frame: Uint8Array;
  /** Its transfer's id: whose DATA is not ACKed yet (unackedOf). */
  readonly owner?: number;
  written(): void;
}

export interface SchedulerHooks {
  /**
   * The next DATA frame (round-robin by command, then by transfer); "again" when the
   * provider queued control instead (END, CANCEL) and wants to be asked again; undefined when
   * none is ready (a stream waiting for input pumps again when it has some). Its payload is at
   * most `maxPayloadBytes` (small while the send window is young: SendWindow.frameBytes).
   */
  nextBulk(maxPayloadBytes: number): BulkFrame | "again" | undefined;
  /** Whether DATA may go now (the session is open or leaving). */
  bulkAllowed(): boolean;
  /** Something was written (keepalive: no PING needed). */
  wrote(): void;
  /** The control queue overflowed: the peer makes us answer without ever reading. */
  overflowed(error: ProtocolError): void;
}

export class Scheduler {
  private readonly control: Uint8Array[] = [];
  private controlBytes = 0;
  private pendingPong: Uint8Array | undefined;
  private readonly window: SendWindow;
  /** While we chat one way on a long path, DATA un-ACKed is also held to this (queue-bound.ts). */
  private readonly queueBound = new QueueBound();
  private readonly limiter: RateLimiter | undefined;
  private limitTimer: TimerHandle | undefined;
  private pumping = false;
  private pumpScheduled = false;
  /** DATA payload written in this turn of the event loop, and when the turn's first went. */
  private turnBytes = 0;
  private turnStartedAt = 0;
  private stopped = false;
  /** The cap last set on the connection's unsent bytes (0: none; see SendWindow.unsentCap). */
  private unsentCap = 0;
  /** DATA payload bytes sent by us, and ACKed by the peer. */
  private sentBulk = 0;
  private ackedBulk = 0;
  /** Whose DATA not ACKed yet is (unackedOf). */
  private readonly unacked = new UnackedFrames();
  /** The peer's DATA received and consumed here, and the ACKs we owe for it. */
  private readonly peerData: AckCadence;
  /** When chat lines go either way (the slow-write mark asks it too). */
  readonly lines: ChatActivity;
  /** DATA un-ACKed allowed while we chat on a short path (unackedAllowed). */
  private readonly chatWindowBytes: number;
  /** ...and while the peer's DATA comes too (not through a relay: its window's minimum stands). */
  private readonly bothWaysChatWindowBytes: number;

  /**
   * @param options.peerAcksEarly - the peer ACKs early (HELLO "early-acks"): our window may start young
   * @param options.relayed - the connection goes through a relay: our window keeps
   *   RELAY_MIN_WINDOW_BYTES at least (RELAY_WINDOW_BYTES on a short path), and with
   *   `peerRelayWindow` (the peer's HELLO "relay-window": its window does too) we ACK every
   *   RELAY_ACK_EVERY_BYTES
   */
  constructor(
    private readonly conn: Connection,
    private readonly clock: Clock,
    private readonly hooks: SchedulerHooks,
    rate?: { readonly bytesPerSecond: number; readonly chunkBytes: number },
    options: { readonly peerAcksEarly?: boolean; readonly relayed?: boolean; readonly peerRelayWindow?: boolean } = {},
  ) {
    // A young send window needs the peer's early ACKs (SendWindow: ackThresholdBytes).
    this.window = new SendWindow(undefined, undefined, {
      young: options.peerAcksEarly === true,
      ...(options.relayed ? { shortMinBytes: RELAY_MIN_WINDOW_BYTES, shortBytes: RELAY_WINDOW_BYTES } : {}),
    });
    this.peerData = new AckCadence(
      options.relayed && options.peerRelayWindow ? RELAY_ACK_EVERY_BYTES : ACK_EVERY_BYTES,
    );
    this.lines = new ChatActivity(clock);
    this.chatWindowBytes = options.relayed ? RELAY_MIN_WINDOW_BYTES : CHAT_WINDOW_BYTES;
    this.bothWaysChatWindowBytes = options.relayed ? RELAY_MIN_WINDOW_BYTES : BOTH_WAYS_CHAT_WINDOW_BYTES;
    if (rate) this.limiter = new RateLimiter(rate.bytesPerSecond, rate.chunkBytes, clock.now());
  }

  /** Bytes the send window allows un-ACKed now. */
  get windowBytes(): number {
    return this.window.bytes;
  }

  /** The send window's shortest clean round trip, ms (diagnostics: tests). */
  get minRttMs(): number {
    return this.window.minRtt;
  }

  /** DATA bytes sent and not yet ACKed. */
  get unackedBytes(): number {
    return this.sentBulk - this.ackedBulk;
  }

  /** DATA bytes of `owner` (BulkFrame.owner: a transfer's id) sent and not yet ACKed. */
  unackedOf(owner: number): number {
    return this.unacked.unackedOf(owner, this.ackedBulk);
  }

  /** True when no control frame waits (keepalive sends PING only then). */
  get controlIdle(): boolean {
    return this.control.length === 0;
  }

  /** Queues a control message behind the others and writes what may be written. */
  send(message: Message): void {
    if (message.kind === "chat") this.lines.sent();
    this.push(encodeMessage(message));
    this.pump();
  }

  /** Queues a control message without pumping (the caller is the pump, or pumps next). */
  queue(message: Message): void {
    this.push(encodeMessage(message));
  }

  /** At most one PONG waits (the newest): a peer flooding PINGs cannot grow our queue. */
  pong(token: Uint8Array): void {
    this.pendingPong = encodeMessage({ kind: "pong", token });
    this.pump();
  }

  /**
   * The peer ACKed `bytes` of our DATA in all.
   * @throws ProtocolError when that is outside what we sent
   */
  acked(bytes: number): void {
    if (bytes > this.sentBulk || bytes < this.ackedBulk) {
      throw new ProtocolError("E_BAD_MESSAGE", "ACK outside the bytes sent");
    }
    this.ackedBulk = bytes;
    this.unacked.acked(bytes);
    const now = this.clock.now();
    this.window.acked(bytes, now, this.peerData.receivedBytes);
    // Both ways no sample is clean (send-window.ts), so the bound would never move: not then.
    const figures =
      this.lines.conversing() && now - this.peerData.lastReceivedAt >= BOTH_WAYS_MS
        ? this.window.pathFigures
        : undefined;
    if (figures) this.queueBound.acked(bytes, this.sentBulk, this.window.lastSample, figures, now);
    else this.queueBound.reset();
    this.capUnsent();
    this.pump();
  }

  /**
   * `bytes` of the peer's DATA arrived (for the window's clean round-trip samples; after a pause
   * a new stretch of the early ACK cadence, for a sender that starts young again).
   */
  received(bytes: number): void {
    this.peerData.received(bytes, this.clock.now());
  }

  /**
   * `bytes` of the peer's DATA were taken (stored, or dropped for a cancelled transfer): the
   * peer may send that much more. ACKs go every ACK_EVERY_BYTES (RELAY_ACK_EVERY_BYTES through a
   * relay, to a peer whose window allows it; more often early in a stretch of DATA, for the
   * peer's young window: ackThresholdBytes), and with `now` at once (the
   * end of a transfer), so the peer's window never keeps an entry we owe it.
   */
  consumed(bytes: number, now = false): void {
    const total = this.peerData.consumed(bytes, now);
    if (total === undefined) return;
    // One a record: the frame built directly (encodeAck), queued and pumped as send() does.
    this.push(encodeAck(total));
    this.pump();
  }

  /** Writes what may be written now: control first, then DATA within the window. */
  pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    const started = chatTrace?.begin();
    try {
      this.pumpSlice();
    } finally {
      this.pumping = false;
      if (started) chatTrace?.took("pump", started);
    }
  }

  /** Writes every queued control frame and then `last` (BYE), whatever the window; stops. */
  flush(last: Uint8Array): void {
    for (const frame of this.control.splice(0)) this.conn.write(frame);
    this.controlBytes = 0;
    this.conn.write(last);
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.limitTimer);
  }

  private push(frame: Uint8Array): void {
    this.controlBytes += frame.length;
    if (this.controlBytes > MAX_QUEUED_CONTROL_BYTES) {
      this.hooks.overflowed(new ProtocolError("E_UNEXPECTED", "the peer does not read what is sent to it"));
      return;
    }
    this.control.push(frame);
  }

  private pumpSlice(): void {
    const conn = this.conn;
    while (!conn.closed && conn.queuedBytes === 0) {
      let frame = this.control.shift();
      if (frame !== undefined) this.controlBytes -= frame.length;
      else {
        frame = this.pendingPong;
        this.pendingPong = undefined;
      }
      if (frame !== undefined) {
        conn.write(frame);
        this.hooks.wrote();
        continue;
      }
      if (!this.hooks.bulkAllowed()) return;
      // After a pause the window (and so the next frame and the unsent cap) starts over first.
      if (this.sentBulk > 0 && this.window.restartIfIdle(this.clock.now())) this.capUnsent();
      if (this.sentBulk - this.ackedBulk >= this.unackedAllowed()) return;
      if (this.mustWaitForRate()) return;
      // This turn's share of DATA is out: the continuation goes on next turn. Reads that
      // resolve at once would otherwise starve timers, input and ACK handling.
      if (this.turnSpent()) return;
      const bulk = this.hooks.nextBulk(this.window.frameBytes(CHUNK_BYTES, this.lines.conversing()));
      if (bulk === undefined) return;
      if (bulk === "again") continue;
      // From the first DATA frame (the path is not known yet); a session without DATA is left alone.
      if (this.sentBulk === 0) this.capUnsent();
      this.write(bulk);
    }
  }

  /**
   * Caps the kernel's unsent bytes as the send window says: small from the first DATA frame
   * until a round trip shows the path, then growing with the delivery rate on a long path, and
   * lifted on a short one.
   */
  private capUnsent(): void {
    const cap = this.window.unsentCap;
    if (cap === this.unsentCap || !this.conn.limitUnsent) return;
    this.unsentCap = cap;
    this.conn.limitUnsent(cap);
  }

  /**
   * DATA bytes that may be un-ACKed now: the send window, held to CHAT_WINDOW_BYTES on a short
   * path while we are chatting (BOTH_WAYS_CHAT_WINDOW_BYTES while the peer's DATA comes too;
   * through a relay to RELAY_MIN_WINDOW_BYTES, its window's minimum:
   * less and the relay's ACK cadence would drain the pipe every round). A line waits behind everything un-ACKed (in the kernel's
   * buffers and the peer's turn); through the CLI at full speed the slowest lines waited
   * behind the peer handling up to a window's records. A long path keeps its window while
   * we chat one way but for QueueBound (queue-bound.ts): about the path's bytes in flight and
   * a short queue, from how far its round trips rise (a line waited ~3 ms behind the window's
   * surplus for the path's room; a fixed smaller window would cut its throughput in proportion).
   */
  private unackedAllowed(): number {
    const window = this.window.bytes;
    if (!this.lines.conversing()) return window;
    if (!this.window.shortPath) return Math.min(window, this.queueBound.bytes);
    const bothWays = this.clock.now() - this.peerData.lastReceivedAt < BOTH_WAYS_MS;
    return Math.min(window, bothWays ? this.bothWaysChatWindowBytes : this.chatWindowBytes);
  }

  /** True when this turn has written its share of DATA (the continuation is scheduled then). */
  private turnSpent(): boolean {
    if (this.turnBytes === 0) return false;
    const share = this.lines.conversing() ? CHAT_TURN_DATA_BYTES : TURN_DATA_BYTES;
    return this.turnBytes >= share || this.clock.now() - this.turnStartedAt > PUMP_SLICE_MS;
  }

  /** We sent a chat line in the last CHAT_ACTIVE_MS (ChatActivity.chatting). */
  chatting(): boolean {
    return this.lines.chatting();
  }

  /** The peer sent us a chat line (ChatActivity.peerChatted). */
  peerChatted(): void {
    this.lines.peerChatted();
  }

  private write(bulk: BulkFrame): void {
    // The time before the write: a process preempted while writing would otherwise stamp the
    // frame late, and a round trip shorter than the path's would set the window's minimum
    // (24 ms samples on a 40 ms link under load).
    const now = this.clock.now();
    if (this.turnBytes === 0) {
      // The turn's first DATA: its continuation ends the turn (and goes on if there is more).
      this.turnStartedAt = now;
      this.schedulePump();
    }
    // One write per frame. The frame lives in the sender's reused buffer: safe because the
    // scheduler only gets here when the connection has nothing queued, so the previous frame
    // has been taken by the kernel in full.
    this.conn.write(bulk.frame);
    const payload = bulk.frame.length - DATA_HEADER_BYTES;
    this.turnBytes += payload;
    this.sentBulk += payload;
    this.unacked.written(bulk.owner ?? -1, this.sentBulk);
    this.window.sent(this.sentBulk, now, this.peerData.receivedBytes);
    this.limiter?.spend(payload, now);
    this.hooks.wrote();
    bulk.written();
  }

  /** With --limit-rate: true (and a pump scheduled) when the next DATA frame must wait. */
  private mustWaitForRate(): boolean {
    if (!this.limiter) return false;
    const delay = this.limiter.delayMs(this.clock.now());
    if (delay === 0) return false;
    this.limitTimer ??= this.clock.setTimeout(() => {
      this.limitTimer = undefined;
      this.pump();
    }, delay);
    return true;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.clock.setImmediate(() => {
      this.pumpScheduled = false;
      this.turnBytes = 0;
      this.pump();
    });
  }
}
