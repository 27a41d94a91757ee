/**
 * FrameChannel: a Connection plus its FrameDecoder. Turns incoming bytes into frames for
 * whoever currently owns the channel (the handshake first, then the session), and turns a
 * peer's bad bytes into a closed connection with a reason instead of an exception.
 */

import type { Connection } from "../net/connection.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { type Frame, FrameDecoder } from "../protocol/frame-decoder.ts";
import { chatTrace } from "./chat-trace.ts";

/** Why a channel closed. `protocol` means the peer broke the protocol and we hung up. */
export interface ChannelClose {
  readonly error?: Error;
  readonly protocol?: ProtocolError;
}

export interface ChannelOwner {
  onFrame(frame: Frame): void;
  onDrain(): void;
  onClose(why: ChannelClose): void;
}

const NO_OWNER: ChannelOwner = { onFrame() {}, onDrain() {}, onClose() {} };

export class FrameChannel {
  private readonly decoder = new FrameDecoder();
  private owner: ChannelOwner = NO_OWNER;
  private protocolError: ProtocolError | undefined;

  private attached = false;
  /** While a frame is handled: whether it ended the chunk (a record, below the crypto layer). */
  private lastInChunk = false;

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
      onClose: (error) => this.owner.onClose(this.closeReason(error)),
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
      if (err instanceof ProtocolError) return this.fail(err);
      throw err;
    }
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i] as Frame;
      if (this.protocolError || this.conn.closed) return;
      this.lastInChunk = i === frames.length - 1 && this.decoder.atFrameBoundary && !this.decoder.error;
      try {
        this.owner.onFrame(frame);
      } catch (err) {
        if (err instanceof ProtocolError) return this.fail(err);
        throw err;
      }
    }
    // Bad bytes after the good frames of this chunk.
    if (this.decoder.error && !this.conn.closed) this.fail(this.decoder.error);
  }

  private closeReason(error?: Error): ChannelClose {
    if (this.protocolError) return { protocol: this.protocolError };
    return error ? { error } : {};
  }
}
