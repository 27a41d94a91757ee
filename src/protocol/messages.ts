/**
 * Protocol messages on the wire: one schema per message type (MESSAGE_SCHEMAS) that drives
 * both the encoder and the decoder with the same limits, so what we send is exactly what a
 * peer of this build accepts (a peer is untrusted input: every field is checked). Pure: no I/O.
 *
 * Bodies:
 *   json   HELLO OFFER ACCEPT START REJECT END RECEIVED CANCEL FOLDER_END BYE READY: a UTF-8 JSON object,
 *          keys in schema order, unknown keys ignored on the way in
 *   text   CHAT: UTF-8 text (invalid bytes shown as U+FFFD, never refused)
 *   u64    ACK: a u64 big-endian running total
 *   bytes  PING/PONG: an 8-byte token; SHARE/CONFIRM: 32 bytes
 * DATA never passes through here (see FrameDecoder).
 */

import { OWN_FEATURES } from "./features.ts";
import type { ControlFrame } from "./frame-decoder.ts";
import { encodeFrame } from "./frame-encoder.ts";
import {
  APP_NAME,
  COUNTER_BODY_BYTES,
  FrameType,
  type FrameTypeValue,
  HANDSHAKE_BODY_BYTES,
  HEADER_BYTES,
  MAX_CHAT_BYTES,
  PROTOCOL_VERSION,
} from "./frame-types.ts";
import {
  DETAIL_PATTERN,
  type FolderEntry,
  type Hello,
  type HelloMode,
  MAX_DETAIL_CHARS,
  MAX_DIGEST_CHARS,
  MAX_FILE_NAME_BYTES,
  MAX_NAME_CHARS,
  MAX_PATH_DEPTH,
  MAX_REASON_CHARS,
  MAX_TRANSFER_ID,
  type Message,
  REASON_CODE_PATTERN,
} from "./message-types.ts";
import { bad, type Field, type JsonObject, misfit, pickFields, truncateChars } from "./schema.ts";

// --- the schema table -------------------------------------------------------------------

const U64 = Number.MAX_SAFE_INTEGER;
const id: Field = { key: "id", spec: { type: "uint", min: 1, max: MAX_TRANSFER_ID } };
const count = (key: string): Field => ({ key, spec: { type: "uint", min: 0, max: U64 } });
const algo: Field = { key: "algo", spec: { type: "text", minChars: 1, maxChars: 32 } };
const digest = (key: string, optional = false): Field => ({
  key,
  spec: { type: "text", minChars: 0, maxChars: MAX_DIGEST_CHARS, pattern: /^[0-9a-f]*$/ },
  ...(optional ? { optional } : {}),
});
const reason: Field = { key: "reason", spec: { type: "text", minChars: 0, maxChars: MAX_REASON_CHARS } };
const code = (optional = false): Field => ({
  key: "code",
  spec: { type: "text", minChars: 3, maxChars: 32, pattern: REASON_CODE_PATTERN },
  ...(optional ? { optional } : {}),
});
const detail: Field = {
  key: "detail",
  spec: { type: "text", minChars: 0, maxChars: MAX_DETAIL_CHARS, pattern: DETAIL_PATTERN },
  optional: true,
};
const fileName = (minChars: number): Field["spec"] => ({
  type: "text",
  minChars,
  maxChars: MAX_FILE_NAME_BYTES,
  maxBytes: MAX_FILE_NAME_BYTES,
});

/** A stored name: one path component (no separator, no control character). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const STORED_NAME_PATTERN = /^[^/\\\u0000-\u001f\u007f]+$/;
const storedName: Field["spec"] = {
  type: "text",
  minChars: 1,
  maxChars: MAX_FILE_NAME_BYTES,
  maxBytes: MAX_FILE_NAME_BYTES,
  pattern: STORED_NAME_PATTERN,
};

type Kind = Message["kind"];
type BinaryKey = "text" | "bytes" | "token" | "share" | "mac";

/** How one message type looks on the wire. */
export type MessageSchema =
  | {
      readonly type: FrameTypeValue;
      readonly body: "json";
      readonly fields: readonly Field[];
      /** A rule across fields, checked after them: why the message is bad, or undefined. */
      readonly rule?: (m: JsonObject) => string | undefined;
      /** Drops what a valid message carries to no purpose (same on both sides). */
      readonly normalize?: (m: JsonObject) => JsonObject;
    }
  | { readonly type: FrameTypeValue; readonly body: "text"; readonly key: "text"; readonly maxBytes: number }
  | { readonly type: FrameTypeValue; readonly body: "u64"; readonly key: "bytes" }
  | { readonly type: FrameTypeValue; readonly body: "bytes"; readonly key: BinaryKey; readonly length: number };

/** Every message type: frame tag, body kind, fields with their bounds. */
export const MESSAGE_SCHEMAS: { readonly [K in Kind]: MessageSchema } = {
  hello: {
    type: FrameType.Hello,
    body: "json",
    fields: [
      { key: "v", spec: { type: "uint", min: 0, max: 0xffff } },
      { key: "app", spec: { type: "text", minChars: 1, maxChars: 32 } },
      { key: "nonce", spec: { type: "text", minChars: 16, maxChars: 16, pattern: /^[0-9a-f]{16}$/ } },
      { key: "name", spec: { type: "text", minChars: 0, maxChars: MAX_NAME_CHARS }, optional: true },
      {
        key: "features",
        spec: { type: "list", maxItems: 32, item: { type: "text", minChars: 0, maxChars: 32 } },
      },
      {
        key: "mode",
        spec: { type: "text", minChars: 1, maxChars: 16, oneOf: ["code", "port", "listen"] },
        optional: true,
      },
    ],
  },
  chat: { type: FrameType.Chat, body: "text", key: "text", maxBytes: MAX_CHAT_BYTES },
  offer: {
    type: FrameType.Offer,
    body: "json",
    fields: [
      id,
      { key: "name", spec: fileName(1) },
      { key: "size", spec: { type: "uint", min: 0, max: U64, nullable: true } },
      algo,
      { ...count("mtime"), optional: true },
      { key: "exec", spec: { type: "bool" }, optional: true },
      { key: "token", spec: { type: "text", minChars: 32, maxChars: 32, pattern: /^[0-9a-f]{32}$/ }, optional: true },
      {
        key: "command",
        optional: true,
        spec: {
          type: "object",
          fields: [
            { key: "seq", spec: id.spec },
            { key: "transfers", spec: { type: "uint", min: 2, max: U64 } },
          ],
        },
      },
      {
        key: "folder",
        optional: true,
        spec: {
          type: "object",
          fields: [
            { key: "group", spec: id.spec },
            { key: "root", spec: fileName(1) },
            { key: "path", spec: { type: "list", maxItems: MAX_PATH_DEPTH, item: fileName(1) } },
            { key: "dir", spec: { type: "bool" }, optional: true },
            { key: "entries", spec: { type: "uint", min: 1, max: U64 } },
            count("bytes"),
          ],
        },
      },
    ],
    rule: (m) => {
      const folder = m.folder as FolderEntry | undefined;
      if (folder && !folder.dir && folder.path.length === 0) return "OFFER folder path of a file must name it";
      return undefined;
    },
  },
  accept: {
    type: FrameType.Accept,
    body: "json",
    fields: [id, count("offset"), digest("prefix", true)],
    rule: (m) => (m.offset !== 0 && m.prefix === undefined ? "ACCEPT with an offset needs a prefix" : undefined),
    normalize: (m) => (m.offset === 0 ? { id: m.id, offset: 0 } : m),
  },
  start: { type: FrameType.Start, body: "json", fields: [id, count("offset")] },
  reject: { type: FrameType.Reject, body: "json", fields: [id, code(), detail] },
  end: { type: FrameType.End, body: "json", fields: [id, count("bytes"), algo, digest("digest")] },
  received: {
    type: FrameType.Received,
    body: "json",
    fields: [
      id,
      count("bytes"),
      { key: "ok", spec: { type: "bool" } },
      code(true),
      detail,
      { key: "name", spec: storedName, optional: true },
      { key: "root", spec: storedName, optional: true },
    ],
  },
  cancel: { type: FrameType.Cancel, body: "json", fields: [id, code(), detail, { ...count("bytes"), optional: true }] },
  folderEnd: { type: FrameType.FolderEnd, body: "json", fields: [{ key: "group", spec: id.spec }, code(), detail] },
  ack: { type: FrameType.Ack, body: "u64", key: "bytes" },
  ping: { type: FrameType.Ping, body: "bytes", key: "token", length: COUNTER_BODY_BYTES },
  pong: { type: FrameType.Pong, body: "bytes", key: "token", length: COUNTER_BODY_BYTES },
  share: { type: FrameType.Share, body: "bytes", key: "share", length: HANDSHAKE_BODY_BYTES },
  confirm: { type: FrameType.Confirm, body: "bytes", key: "mac", length: HANDSHAKE_BODY_BYTES },
  bye: { type: FrameType.Bye, body: "json", fields: [reason] },
  leaving: { type: FrameType.Leaving, body: "json", fields: [reason] },
  ready: { type: FrameType.Ready, body: "json", fields: [] },
};

const KIND_OF_TYPE = new Map<number, Kind>(
  (Object.entries(MESSAGE_SCHEMAS) as [Kind, MessageSchema][]).map(([kind, s]) => [s.type, kind]),
);

// --- encode and decode, both driven by the table ------------------------------------------

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
const strictUtf8Decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses and validates a control frame.
 * @throws ProtocolError E_BAD_MESSAGE when a field is missing, of the wrong type or out of range
 */
export function parseMessage(frame: ControlFrame): Message {
  const kind = KIND_OF_TYPE.get(frame.type) as Kind;
  const schema = MESSAGE_SCHEMAS[kind];
  const p = frame.payload;
  switch (schema.body) {
    case "text":
      return { kind, [schema.key]: utf8Decoder.decode(p) } as unknown as Message;
    case "u64":
      return { kind, [schema.key]: readU64(p) } as unknown as Message;
    case "bytes":
      if (p.length !== schema.length) bad(`${kind.toUpperCase()} body must be ${schema.length} bytes`);
      return { kind, [schema.key]: p } as unknown as Message;
    case "json": {
      const what = kind.toUpperCase();
      let fields = pickFields(schema.fields, parseJson(p, what), what);
      const why = schema.rule?.(fields);
      if (why) bad(why);
      if (schema.normalize) fields = schema.normalize(fields);
      return { kind, ...fields } as unknown as Message;
    }
  }
}

/**
 * Encodes a control message as one whole frame, checked against the same schema the decoder
 * uses. Fields the schema does not name are not sent.
 * @throws RangeError when a field does not fit (a bug here: bounded text is cut where it is made)
 */
export function encodeMessage(message: Message): Uint8Array {
  const schema = MESSAGE_SCHEMAS[message.kind];
  const value = (message as unknown as JsonObject)[schema.body === "json" ? "" : schema.key];
  switch (schema.body) {
    case "text": {
      const body = utf8.encode(value as string);
      if (body.length > schema.maxBytes) refuse(message.kind, `text over ${schema.maxBytes} bytes`);
      return encodeFrame(schema.type, body);
    }
    case "u64": {
      if (misfit({ type: "uint", min: 0, max: U64 }, value)) refuse(message.kind, "counter out of range");
      return encodeFrame(schema.type, u64Bytes(value as number));
    }
    case "bytes": {
      const bytes = value as Uint8Array;
      if (!(bytes instanceof Uint8Array) || bytes.length !== schema.length) {
        refuse(message.kind, `body must be ${schema.length} bytes`);
      }
      return encodeFrame(schema.type, bytes);
    }
    case "json": {
      let fields: JsonObject;
      try {
        fields = pickFields(schema.fields, message as unknown as JsonObject, message.kind.toUpperCase());
        const why = schema.rule?.(fields);
        if (why) bad(why);
      } catch (err) {
        return refuse(message.kind, (err as Error).message);
      }
      if (schema.normalize) fields = schema.normalize(fields);
      return encodeFrame(schema.type, utf8.encode(JSON.stringify(fields)));
    }
  }
}

function refuse(kind: string, why: string): never {
  throw new RangeError(`cannot encode ${kind.toUpperCase()}: ${why}`);
}

/**
 * A BYE reason as the wire takes it: cut to MAX_REASON_CHARS, so a long one is shortened,
 * never a protocol error at the peer.
 */
export function boundedReason(text: string): string {
  return truncateChars(text, MAX_REASON_CHARS);
}

/**
 * A detail token as the wire takes it (DETAIL_PATTERN, MAX_DETAIL_CHARS), or undefined when
 * `text` is not one (a path, a sentence): such text stays on this side.
 */
export function wireDetail(text: string | undefined): string | undefined {
  if (text === undefined || text.length === 0 || text.length > MAX_DETAIL_CHARS) return undefined;
  return DETAIL_PATTERN.test(text) ? text : undefined;
}

/** The HELLO this build sends. */
export function makeHello(
  nonce: string,
  name: string | undefined,
  features: readonly string[] = OWN_FEATURES,
  mode?: HelloMode,
): Hello {
  return {
    kind: "hello",
    v: PROTOCOL_VERSION,
    app: APP_NAME,
    nonce,
    ...(name === undefined ? {} : { name }),
    features,
    ...(mode === undefined ? {} : { mode }),
  };
}

/** Bytes of `text` as a CHAT body; false when it is over MAX_CHAT_BYTES. */
export function chatFits(text: string): boolean {
  return utf8.encode(text).length <= MAX_CHAT_BYTES;
}

function parseJson(payload: Uint8Array, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8Decoder.decode(payload));
  } catch (err) {
    return bad(`${what} body is not valid JSON`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(`${what} body must be a JSON object`);
  return value as JsonObject;
}

/**
 * An ACK frame for `bytes` consumed: the same bytes as encodeMessage({ kind: "ack", bytes }), built
 * in one buffer with no message object, schema walk or body copy (the receiver sends one a record).
 * @throws RangeError when `bytes` is not an integer in 0..2^53 - 1
 */
export function encodeAck(bytes: number): Uint8Array {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > U64) refuse("ack", "counter out of range");
  const frame = new Uint8Array(HEADER_BYTES + COUNTER_BODY_BYTES);
  frame[3] = COUNTER_BODY_BYTES + 1; // the u32 length (type byte and body) is under 256
  frame[4] = FrameType.Ack;
  writeU64(frame, HEADER_BYTES, bytes);
  return frame;
}

/** A counter (0 to 2^53 - 1) as a u64 big-endian body. */
function u64Bytes(value: number): Uint8Array {
  const body = new Uint8Array(COUNTER_BODY_BYTES);
  writeU64(body, 0, value);
  return body;
}

/** Writes a counter as a u64 big-endian at `at`, as two u32 halves: no DataView, no BigInt per ACK. */
function writeU64(target: Uint8Array, at: number, value: number): void {
  const high = Math.floor(value / 2 ** 32);
  const low = value >>> 0; // ToUint32: the value modulo 2^32
  target[at] = high >>> 24;
  target[at + 1] = high >>> 16;
  target[at + 2] = high >>> 8;
  target[at + 3] = high;
  target[at + 4] = low >>> 24;
  target[at + 5] = low >>> 16;
  target[at + 6] = low >>> 8;
  target[at + 7] = low;
}

/** A u64 big-endian counter (an ACK's), read as two u32 halves: no DataView, no BigInt per ACK. */
function readU64(p: Uint8Array): number {
  if (p.length !== COUNTER_BODY_BYTES) bad(`counter must be ${COUNTER_BODY_BYTES} bytes`);
  const high = (((p[0] as number) << 24) | ((p[1] as number) << 16) | ((p[2] as number) << 8) | (p[3] as number)) >>> 0;
  const low = (((p[4] as number) << 24) | ((p[5] as number) << 16) | ((p[6] as number) << 8) | (p[7] as number)) >>> 0;
  // 2^53 - 1 is 0x001fffff_ffffffff: any high half above 0x1fffff is beyond it.
  if (high > 0x1fffff) bad("counter exceeds 2^53 - 1");
  return high * 2 ** 32 + low;
}
