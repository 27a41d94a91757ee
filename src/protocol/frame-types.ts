/**
 * Frame tags and wire limits of Parley protocol v1.
 *
 * Every frame on the wire:
 *
 *   0        4      5
 *   +--------+------+------------------------------+
 *   | length | type | body (length - 1 bytes)      |
 *   +--------+------+------------------------------+
 *   length: u32 big-endian, bytes after the length field (type + body)
 *
 * DATA bodies start with the transfer id:
 *
 *   +--------+------+--------+---------------------+
 *   | length | 0x06 | id u32 | file bytes          |
 *   +--------+------+--------+---------------------+
 */

export const FrameType = {
  Hello: 0x01,
  Chat: 0x02,
  Offer: 0x03,
  Accept: 0x04,
  Reject: 0x05,
  Data: 0x06,
  End: 0x07,
  Received: 0x08,
  Cancel: 0x09,
  Ack: 0x0a,
  Ping: 0x0b,
  Pong: 0x0c,
  Bye: 0x0d,
  Ready: 0x0e,
  Start: 0x0f,
  Share: 0x10,
  Confirm: 0x11,
  /** Session 14: sent only to a peer whose HELLO says "folder-end" (features.ts); older peers end the connection on an unknown tag. */
  FolderEnd: 0x12,
  /** Session 28: sent only to a peer whose HELLO says "leaving" (features.ts); older peers end the connection on an unknown tag. */
  Leaving: 0x13,
} as const;

export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** Bytes of the length field plus the type byte. */
export const HEADER_BYTES = 5;
/** HEADER_BYTES plus the u32 transfer id that starts every DATA body. */
export const DATA_HEADER_BYTES = 9;
/** Largest value of the length field (type + body): 1 MiB of file bytes plus room for headers. */
export const MAX_FRAME_BYTES = (1 << 20) + 64;
/** Largest file payload one DATA frame may carry. */
export const MAX_DATA_PAYLOAD_BYTES = 1 << 20;
/** Largest CHAT body (UTF-8 bytes). */
export const MAX_CHAT_BYTES = 64 * 1024;
/** Largest JSON body of a control frame (HELLO, OFFER, END, ...). */
export const MAX_CONTROL_BYTES = 16 * 1024;
/** Body size of ACK (u64 running total) and PING/PONG (8-byte token). */
export const COUNTER_BODY_BYTES = 8;
/** Body size of SHARE (a PAKE public share) and CONFIRM (a key-confirmation MAC). */
export const HANDSHAKE_BODY_BYTES = 32;
/** Protocol version carried in HELLO. */
export const PROTOCOL_VERSION = 1;
/** Application tag carried in HELLO, so a stray client of another protocol is told apart. */
export const APP_NAME = "parley";

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));

/** True when `type` is a v1 frame tag. */
export function isKnownFrameType(type: number): type is FrameTypeValue {
  return KNOWN_TYPES.has(type);
}

/** Largest body (bytes after the type byte) allowed for a frame of `type`. */
export function maxBodyBytes(type: FrameTypeValue): number {
  switch (type) {
    case FrameType.Data:
      return 4 + MAX_DATA_PAYLOAD_BYTES;
    case FrameType.Chat:
      return MAX_CHAT_BYTES;
    case FrameType.Ack:
    case FrameType.Ping:
    case FrameType.Pong:
      return COUNTER_BODY_BYTES;
    case FrameType.Share:
    case FrameType.Confirm:
      return HANDSHAKE_BODY_BYTES;
    default:
      return MAX_CONTROL_BYTES;
  }
}

/** Smallest body allowed for a frame of `type`. */
export function minBodyBytes(type: FrameTypeValue): number {
  switch (type) {
    case FrameType.Data:
      return 4;
    case FrameType.Ack:
    case FrameType.Ping:
    case FrameType.Pong:
      return COUNTER_BODY_BYTES;
    case FrameType.Share:
    case FrameType.Confirm:
      return HANDSHAKE_BODY_BYTES;
    case FrameType.Chat:
      return 0;
    default:
      return 2; // the smallest JSON object, "{}"
  }
}
