/**
 * Frame encoders: build the bytes of one frame (layout in frame-types.ts).
 * Control frames are small and get one fresh buffer each. DATA frames are never copied: the
 * caller writes the 9-byte header (`encodeDataHeader`) and the file bytes back to back.
 */

import {
  DATA_HEADER_BYTES,
  FrameType,
  type FrameTypeValue,
  HEADER_BYTES,
  MAX_DATA_PAYLOAD_BYTES,
} from "./frame-types.ts";

/** One whole frame: header then `body` (copied). */
export function encodeFrame(type: FrameTypeValue, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  writeU32(frame, 0, body.length + 1);
  frame[4] = type;
  frame.set(body, HEADER_BYTES);
  return frame;
}

/**
 * Writes the header of a DATA frame into `target[at .. at+9)`.
 * @param transferId - u32 transfer id
 * @param payloadBytes - file bytes that follow the header, 0..MAX_DATA_PAYLOAD_BYTES
 */
export function writeDataHeader(target: Uint8Array, at: number, transferId: number, payloadBytes: number): void {
  if (payloadBytes > MAX_DATA_PAYLOAD_BYTES) throw new RangeError(`DATA payload of ${payloadBytes} bytes is too large`);
  writeU32(target, at, payloadBytes + 5); // type byte + id + payload
  target[at + 4] = FrameType.Data;
  writeU32(target, at + 5, transferId);
}

/** A fresh 9-byte DATA header, to be written just before `payloadBytes` of file data. */
export function encodeDataHeader(transferId: number, payloadBytes: number): Uint8Array {
  const header = new Uint8Array(DATA_HEADER_BYTES);
  writeDataHeader(header, 0, transferId, payloadBytes);
  return header;
}

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}
