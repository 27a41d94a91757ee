/**
 * FrameChannel: a Connection plus its FrameDecoder. Turns incoming bytes into frames for
 * whoever currently owns the channel (the handshake first, then the session), and turns a
 * peer's bad bytes into a closed connection with a reason instead of an exception.
 */

import type { Connection } from "../net/connection.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { type Frame, FrameDecoder } from "../protocol/frame-decoder.ts";
import { FrameType } from "../protocol/frame-types.ts";
import { chatTrace } from "./chat-trace.ts";

/** Why a channel closed. `protocol` means the peer broke the protocol and we hung up. */
export interface ChannelClose {
  readonly error?: Error;
  readonly protocol?: ProtocolError;
}

export interface ChannelOwner {
  /**
   * Its frames may wait for the next turn of the event loop (TURN_MS): the session's. Not the
   * handshake's: handling one of its frames may set the record key for the next record, which
   * the record layer opens at once.
   */
  readonly waits?: boolean;
  onFrame(frame: Frame): void;
  onDrain(): void;
  onClose(why: ChannelClose): void;
}

const NO_OWNER: ChannelOwner = { onFrame() {}, onDrain() {}, onClose() {} };

/**
 * How long the frames of one read are handled before the rest wait for the next turn of the
 * event loop (reading paused meanwhile). Bun reads a socket that always has more several times
 * in a row (512 KiB each) before it looks at anything else: a peer's flood of frames that each
 * cost a line at the terminal (offers cancelled at once: ~3,500 a read) held the chat's input,
 * Ctrl-C too, for as long as the flood went on (attack33).
 */
export const TURN_MS = 50;
/** Frame bytes held for the next turn at most: past this (a connection that cannot pause) they are handled at once. */
const MAX_DEFERRED_BYTES = 4 * 1024 * 1024;

/** A frame handled in a later turn, with whether it ended its chunk (frameEndsChunk). */
interface Deferred {
  readonly frame: Frame;
  readonly endsChunk: boolean;
}

export class FrameChannel {
  private readonly decoder = new FrameDecoder();
  private owner: ChannelOwner = NO_OWNER;
  private protocolError: ProtocolError | undefined;

  private attached = false;
  /** While a frame is handled: whether it ended the chunk (a record, below the crypto layer). */
  private lastInChunk = false;
  /**
   * Frames read and not handled yet (TURN_MS), oldest first from deferredAt; their bytes; a
   * decoder error and a close that came after them; when this turn's handling began.
   */
  private deferred: Deferred[] = [];
  private deferredAt = 0;
  private deferredBytes = 0;
  private deferredError: ProtocolError | undefined;
  private closeAfter: { error: Error | undefined } | undefined;
  private turnStart: number | undefined;

  /**
   * True when the frame being handled is the last thing in the chunk it came in, with no
   * partial frame after it. During the handshake each chunk is one plain record, so the
   * handshake uses this to require that CONFIRM ends its record: nothing unauthenticated may
   * ride along behind it into the sealed part of the connection.
   */
  get frameEndsChunk(): boolean {
    return this.lastInChunk;
  }

  constructor(
    readonly conn: Connection,
    /** "dialed": we connected out; "accepted": the peer connected to our listener. */
    readonly origin: "dialed" | "accepted",
    /** The connection goes through a relay (each of our frames costs a third process a read and a write). */
    readonly relayed = false,
    /**
     * The peer dialed us: the connection's remote port is one its system picked for it, not one
     * that listens. The direct flow's origin says it; the mailbox's follows the role, not the dial.
     */
    readonly peerDialedIn = origin === "accepted",
  ) {}

  /**
   * Hands frames (including any already decoded in the current chunk) to `owner` from now on.
   * The first call attaches to the connection, which then replays bytes (or a close) that
   * arrived before: they must reach a real owner.
   */
  setOwner(owner: ChannelOwner): void {
    this.owner = owner;
    if (this.attached) return;
    this.attached = true;
    this.conn.setEvents({
      onData: (chunk) => this.handleData(chunk),
      onDrain: () => this.owner.onDrain(),
      onClose: (error) => {
        // Frames that came before the close are handled first (a BYE, then the peer's close).
        if (this.deferred.length > this.deferredAt && !this.protocolError) this.closeAfter = { error };
        else this.owner.onClose(this.closeReason(error));
      },
    });
  }

  /**
   * Ends the connection because the peer (or we) broke the protocol: the owner's onClose
   * receives `error` as the reason.
   */
  fail(error: ProtocolError): void {
    this.protocolError ??= error;
    this.conn.destroy();
  }

  private handleData(chunk: Uint8Array): void {
    if (this.protocolError) return;
    chatTrace?.recordHandled();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // Frames still waiting came before these bad bytes (a later record of the same read): they
      // are handled first, as the bad bytes of their own chunk would be (defer).
      if (this.deferred.length > this.deferredAt) {
        this.deferredError ??= err;
        return;
      }
      return this.fail(err);
    }
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i] as Frame;
      const endsChunk = i === frames.length - 1 && this.decoder.atFrameBoundary && !this.decoder.error;
      // Still behind, or this turn's TURN_MS spent: the rest waits for the next turn, in order.
      // (Only where reading can pause: what comes meanwhile would pile up; tests' memory connections.)
      if (this.deferred.length > this.deferredAt || (this.owner.waits && this.conn.pauseReading && this.turnSpent())) {
        if (this.deferredBytes < MAX_DEFERRED_BYTES) return this.defer(frames.slice(i), endsChunk);
        this.handleDeferred(Number.POSITIVE_INFINITY); // cannot hold more: at once, in order
      }
      if (this.protocolError || this.conn.closed) return;
      if (!this.handle(frame, endsChunk)) return;
    }
    // Bad bytes after the good frames of this chunk.
    if (this.decoder.error && !this.conn.closed) this.fail(this.decoder.error);
  }

  /** Whether this turn of the event loop has handled frames for TURN_MS (the first call starts it). */
  private turnSpent(): boolean {
    if (this.turnStart === undefined) {
      this.turnStart = performance.now();
      setImmediate(() => {
        this.turnStart = undefined;
      });
      return false;
    }
    return performance.now() - this.turnStart > TURN_MS;
  }

  /** Hands `frame` to the owner. @returns false when the peer broke the protocol (the channel failed) */
  private handle(frame: Frame, endsChunk: boolean): boolean {
    this.lastInChunk = endsChunk;
    try {
      this.owner.onFrame(frame);
      return true;
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.fail(err);
        return false;
      }
      throw err;
    }
  }

  /**
   * Keeps `frames` (a DATA payload is a view of the record: copied) for the next turn, reading
   * paused meanwhile; the last ended its chunk if `endsChunk`. A decoder error after them fails
   * the channel once they are handled.
   */
  private defer(frames: Frame[], endsChunk: boolean): void {
    const first = this.deferred.length === this.deferredAt;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i] as Frame;
      const own = frame.type === FrameType.Data ? { ...frame, payload: frame.payload.slice() } : frame;
      this.deferred.push({ frame: own, endsChunk: i === frames.length - 1 && endsChunk });
      this.deferredBytes += frame.payload.length;
    }
    if (this.decoder.error) this.deferredError = this.decoder.error;
    if (!first) return;
    this.conn.pauseReading?.(true);
    setImmediate(() => this.nextTurn());
  }

  /** A new turn: the frames kept are handled for TURN_MS; then reading goes on, or they wait again. */
  private nextTurn(): void {
    this.handleDeferred(TURN_MS);
    if (this.deferred.length > this.deferredAt) {
      setImmediate(() => this.nextTurn());
      return;
    }
    const error = this.deferredError;
    this.deferredError = undefined;
    if (error && !this.protocolError && !this.conn.closed) this.fail(error);
    const closed = this.closeAfter;
    this.closeAfter = undefined;
    if (closed) return this.owner.onClose(this.closeReason(closed.error));
    if (!this.protocolError) this.conn.pauseReading?.(false);
  }

  /** Handles the frames kept, oldest first, for `ms` at most (at least one). */
  private handleDeferred(ms: number): void {
    const start = performance.now();
    while (this.deferredAt < this.deferred.length && !this.protocolError) {
      const { frame, endsChunk } = this.deferred[this.deferredAt++] as Deferred;
      this.deferredBytes -= frame.payload.length;
      if (this.handle(frame, endsChunk) && performance.now() - start > ms) break;
    }
    if (this.deferredAt === this.deferred.length || this.protocolError) {
      this.deferred = [];
      this.deferredAt = 0;
      this.deferredBytes = 0;
    }
  }

  private closeReason(error?: Error): ChannelClose {
    if (this.protocolError) return { protocol: this.protocolError };
    return error ? { error } : {};
  }
}
