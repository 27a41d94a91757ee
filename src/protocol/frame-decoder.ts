/**
 * FrameDecoder: incremental, sans-I/O parser of the byte stream into frames.
 *
 * Input chunks may split a frame anywhere or hold many frames. Control frames are copied once
 * into a buffer of their exact size (the declared length is checked before allocating). DATA
 * frames are never buffered: their file bytes are handed out as views of the input chunks as
 * soon as they arrive, so one DATA frame may come out as several `DataPiece`s with the same id.
 * That is the same meaning on the wire (DATA is "the next bytes of file id"), and it keeps the
 * receiver's hot path free of copies.
 */

import { ProtocolError } from "./errors.ts";
import {
  DATA_HEADER_BYTES,
  FrameType,
  type FrameTypeValue,
  HEADER_BYTES,
  isKnownFrameType,
  MAX_FRAME_BYTES,
  maxBodyBytes,
  minBodyBytes,
} from "./frame-types.ts";

/** A whole control frame: its type and body (a copy owned by the caller). */
export interface ControlFrame {
  readonly type: Exclude<FrameTypeValue, typeof FrameType.Data>;
  readonly payload: Uint8Array;
}

/** Some file bytes of a DATA frame, in order. `payload` is a view of a pushed chunk. */
export interface DataPiece {
  readonly type: typeof FrameType.Data;
  readonly transferId: number;
  readonly payload: Uint8Array;
}

export type Frame = ControlFrame | DataPiece;

type State = "header" | "control-body" | "data-body";

/** Control bodies up to this long are copied byte by byte (no subarray view). */
const SHORT_COPY_BYTES = 32;

export class FrameDecoder {
  private state: State = "header";
  /** Header bytes gathered so far (a header may be split across chunks). */
  private readonly header = new Uint8Array(DATA_HEADER_BYTES);
  private headerFilled = 0;
  private type: FrameTypeValue = FrameType.Hello;
  private body: Uint8Array = new Uint8Array(0);
  private bodyFilled = 0;
  private dataId = 0;
  private dataLeft = 0;
  private failed: ProtocolError | undefined;

  /**
   * Feeds bytes from the peer.
   * DATA payloads returned are views of `chunk`: do not reuse `chunk`'s memory while they are in use.
   * @returns frames completed by this chunk, in order. When the chunk holds good frames and
   *   then bad bytes, the good frames are returned and `error` is set (so a BYE or chat line
   *   sent just before garbage is not lost); the next push throws.
   * @throws ProtocolError on an oversized or undersized length, an unknown type, when no
   *   whole frame came before it in this chunk; the decoder stays failed after that (every
   *   later push throws the same error)
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    const frames: Frame[] = [];
    let at = 0;
    try {
      while (at < chunk.length) {
        switch (this.state) {
          case "header":
            at = this.readHeader(chunk, at, frames);
            break;
          case "control-body":
            at = this.readControlBody(chunk, at, frames);
            break;
          case "data-body": {
            const n = Math.min(this.dataLeft, chunk.length - at);
            frames.push({ type: FrameType.Data, transferId: this.dataId, payload: chunk.subarray(at, at + n) });
            at += n;
            this.dataLeft -= n;
            if (this.dataLeft === 0) this.state = "header";
            break;
          }
        }
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.failed = err;
      if (frames.length === 0) throw err;
    }
    return frames;
  }

  /** The protocol error met so far, if any (set when `push` returned frames before it). */
  get error(): ProtocolError | undefined {
    return this.failed;
  }

  /** True when no partial frame is buffered (the stream may end here cleanly). */
  get atFrameBoundary(): boolean {
    return this.state === "header" && this.headerFilled === 0;
  }

  private readHeader(chunk: Uint8Array, at: number, frames: Frame[]): number {
    // The first HEADER_BYTES say the type; a DATA frame then needs its 4-byte id as well.
    const need = this.headerFilled < HEADER_BYTES ? HEADER_BYTES : DATA_HEADER_BYTES;
    const n = Math.min(need - this.headerFilled, chunk.length - at);
    // Byte by byte (at most DATA_HEADER_BYTES): no view made a frame.
    for (let k = 0; k < n; k++) this.header[this.headerFilled + k] = chunk[at + k] as number;
    this.headerFilled += n;
    at += n;
    if (this.headerFilled < need) return at;
    if (need === HEADER_BYTES) {
      this.startFrame(frames);
      return at;
    }
    // DATA id complete.
    this.dataId = readU32(this.header, HEADER_BYTES);
    this.headerFilled = 0;
    this.state = this.dataLeft > 0 ? "data-body" : "header";
    return at;
  }

  private startFrame(frames: Frame[]): void {
    const length = readU32(this.header, 0);
    const type = this.header[4] as number;
    if (length > MAX_FRAME_BYTES) {
      throw new ProtocolError("E_FRAME_TOO_LARGE", `frame of ${length} bytes exceeds the limit of ${MAX_FRAME_BYTES}`);
    }
    if (length < 1) throw new ProtocolError("E_FRAME_TOO_SMALL", "frame of 0 bytes has no type");
    if (!isKnownFrameType(type)) {
      throw new ProtocolError("E_UNKNOWN_TYPE", `unknown frame type 0x${type.toString(16).padStart(2, "0")}`);
    }
    const bodyBytes = length - 1;
    if (bodyBytes > maxBodyBytes(type)) {
      throw new ProtocolError(
        "E_FRAME_TOO_LARGE",
        `frame type 0x${type.toString(16)} of ${bodyBytes} bytes is too large`,
      );
    }
    if (bodyBytes < minBodyBytes(type)) {
      throw new ProtocolError(
        "E_FRAME_TOO_SMALL",
        `frame type 0x${type.toString(16)} of ${bodyBytes} bytes is too small`,
      );
    }
    this.type = type;
    if (type === FrameType.Data) {
      this.dataLeft = bodyBytes - 4;
      return; // headerFilled stays at HEADER_BYTES: the id follows
    }
    this.headerFilled = 0;
    this.body = new Uint8Array(bodyBytes);
    this.bodyFilled = 0;
    if (bodyBytes === 0) frames.push({ type, payload: this.body });
    else this.state = "control-body";
  }

  private readControlBody(chunk: Uint8Array, at: number, frames: Frame[]): number {
    const n = Math.min(this.body.length - this.bodyFilled, chunk.length - at);
    // A short body (an ACK's 8 bytes) byte by byte; a long run is worth its view.
    if (n > SHORT_COPY_BYTES) this.body.set(chunk.subarray(at, at + n), this.bodyFilled);
    else for (let k = 0; k < n; k++) this.body[this.bodyFilled + k] = chunk[at + k] as number;
    this.bodyFilled += n;
    at += n;
    if (this.bodyFilled === this.body.length) {
      frames.push({ type: this.type as ControlFrame["type"], payload: this.body });
      this.state = "header";
    }
    return at;
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}
