/**
 * Protocol messages: typed views of frames, with field-by-field validation of everything the
 * peer sends (a peer is untrusted input), and their encoders. Pure: no I/O.
 *
 * Control bodies are small JSON objects; CHAT is UTF-8 text; ACK is a u64 big-endian running
 * total; PING/PONG carry an 8-byte token. DATA never passes through here (see FrameDecoder).
 */

import { ProtocolError } from "./errors.ts";
import type { ControlFrame } from "./frame-decoder.ts";
import { encodeFrame } from "./frame-encoder.ts";
import { APP_NAME, COUNTER_BODY_BYTES, FrameType, MAX_CHAT_BYTES, PROTOCOL_VERSION } from "./frame-types.ts";

/** Longest peer display name, in UTF-16 code units. */
export const MAX_NAME_CHARS = 64;
/** Longest file name in an OFFER, in UTF-8 bytes (the usual file system limit). */
export const MAX_FILE_NAME_BYTES = 255;
/** Longest free-text reason (REJECT, CANCEL, BYE, RECEIVED). */
export const MAX_REASON_CHARS = 200;
/** Largest transfer id (u32). */
export const MAX_TRANSFER_ID = 0xffff_ffff;
/** Longest digest, in characters of lowercase hex. */
export const MAX_DIGEST_CHARS = 128;

export interface Hello {
  readonly kind: "hello";
  readonly v: number;
  readonly app: string;
  /** 64-bit random process nonce, 16 lowercase hex digits. */
  readonly nonce: string;
  readonly name?: string;
  readonly features: readonly string[];
  /**
   * The dialer's password mode: "code" (it knows the listener's code words) or "port" (no
   * code: only a loopback listener accepts that). The listener says "listen".
   */
  readonly mode?: HelloMode;
}

export type HelloMode = "code" | "port" | "listen";

/** PAKE public share (CPace, 32 bytes), sent after HELLO. */
export interface Share {
  readonly kind: "share";
  readonly share: Uint8Array;
}
/** Key confirmation: a MAC (32 bytes) over the handshake, proving both derived the same keys. */
export interface Confirm {
  readonly kind: "confirm";
  readonly mac: Uint8Array;
}
export interface Chat {
  readonly kind: "chat";
  readonly text: string;
}
export interface Offer {
  readonly kind: "offer";
  readonly id: number;
  readonly name: string;
  /** Bytes, or null when not known up front (a stream); END then says how many there were. */
  readonly size: number | null;
  /** Digest algorithm the END trailer will use, so the receiver can hash while receiving. */
  readonly algo: string;
  /** Modification time, ms since the epoch, for the receiver to keep. */
  readonly mtime?: number;
  /** The file is executable: the receiver sets the executable bits. */
  readonly exec?: boolean;
  /** Set when the file is one entry of a folder being sent. */
  readonly folder?: FolderEntry;
}

/** Where an OFFER sits in a folder transfer: the receiver recreates the tree under a new folder. */
export interface FolderEntry {
  /** Identifies the folder transfer (the sender's id of its first entry). */
  readonly group: number;
  /** The folder's name (the top-level folder on the receiver, made unique there). */
  readonly root: string;
  /** Path inside the folder, one component per item; the last is the entry's own name (none: the folder itself, empty). */
  readonly path: readonly string[];
  /** The entry is an empty directory (size 0, no data). */
  readonly dir?: boolean;
  /** Entries and bytes in the whole folder transfer, for progress and the totals. */
  readonly entries: number;
  readonly bytes: number;
}
export interface Accept {
  readonly kind: "accept";
  readonly id: number;
  /** Bytes the receiver already has (a .part from an interrupted attempt); 0 for a new file. */
  readonly offset: number;
  /** With offset > 0: digest (the OFFER's algo) of those first `offset` bytes, to be compared. */
  readonly prefix?: string;
}
/**
 * The sender's answer to an ACCEPT with offset > 0: DATA starts at `offset`, which is the
 * accepted offset when the prefix digest matched the sender's file, else 0 (start over).
 */
export interface Start {
  readonly kind: "start";
  readonly id: number;
  readonly offset: number;
}
export interface Reject {
  readonly kind: "reject";
  readonly id: number;
  readonly reason: string;
}
export interface End {
  readonly kind: "end";
  readonly id: number;
  readonly bytes: number;
  readonly algo: string;
  readonly digest: string;
}
export interface Received {
  readonly kind: "received";
  readonly id: number;
  readonly bytes: number;
  readonly ok: boolean;
  readonly reason?: string;
  /** Why it failed, as a stable code (E_BAD_CHECKSUM, E_WRITE, ...), when `ok` is false. */
  readonly code?: string;
}
export interface Cancel {
  readonly kind: "cancel";
  readonly id: number;
  readonly reason: string;
}
export interface Ack {
  readonly kind: "ack";
  /** Running total of DATA payload bytes the receiver has consumed. */
  readonly bytes: number;
}
export interface Ping {
  readonly kind: "ping" | "pong";
  readonly token: Uint8Array;
}
/** Sent by the side with the larger HELLO nonce on the one connection it keeps; the session starts. */
export interface Ready {
  readonly kind: "ready";
}
export interface Bye {
  readonly kind: "bye";
  readonly reason: string;
}

export type Message =
  | Hello
  | Share
  | Confirm
  | Chat
  | Offer
  | Accept
  | Start
  | Reject
  | End
  | Received
  | Cancel
  | Ack
  | Ping
  | Bye
  | Ready;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
const strictUtf8Decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses and validates a control frame.
 * @throws ProtocolError E_BAD_MESSAGE when a field is missing, of the wrong type or out of range
 */
export function parseMessage(frame: ControlFrame): Message {
  const p = frame.payload;
  switch (frame.type) {
    case FrameType.Chat:
      return { kind: "chat", text: utf8Decoder.decode(p) };
    case FrameType.Ack:
      return { kind: "ack", bytes: readU64(p) };
    case FrameType.Ping:
      return { kind: "ping", token: p };
    case FrameType.Share:
      return { kind: "share", share: p };
    case FrameType.Confirm:
      return { kind: "confirm", mac: p };
    case FrameType.Pong:
      return { kind: "pong", token: p };
    case FrameType.Hello: {
      const o = parseJson(p, "HELLO");
      const v = int(o, "v", 0, 0xffff);
      const app = str(o, "app", 1, 32);
      const nonce = str(o, "nonce", 16, 16);
      if (!/^[0-9a-f]{16}$/.test(nonce)) bad("HELLO nonce must be 16 lowercase hex digits");
      const name = o.name === undefined ? undefined : str(o, "name", 0, MAX_NAME_CHARS);
      const features = o.features;
      if (
        !Array.isArray(features) ||
        features.length > 32 ||
        !features.every((f) => typeof f === "string" && f.length <= 32)
      ) {
        bad("HELLO features must be a short list of short strings");
      }
      const mode = o.mode === undefined ? undefined : str(o, "mode", 1, 16);
      if (mode !== undefined && mode !== "code" && mode !== "port" && mode !== "listen") bad("HELLO mode is unknown");
      return {
        kind: "hello",
        v,
        app,
        nonce,
        ...(name === undefined ? {} : { name }),
        features: features as string[],
        ...(mode === undefined ? {} : { mode }),
      };
    }
    case FrameType.Offer: {
      const o = parseJson(p, "OFFER");
      const name = str(o, "name", 1, MAX_FILE_NAME_BYTES);
      if (utf8.encode(name).length > MAX_FILE_NAME_BYTES) bad(`OFFER name is longer than ${MAX_FILE_NAME_BYTES} bytes`);
      return {
        kind: "offer",
        id: transferId(o),
        name,
        size: o.size === null ? null : int(o, "size", 0, Number.MAX_SAFE_INTEGER),
        algo: str(o, "algo", 1, 32),
        ...(o.mtime === undefined ? {} : { mtime: int(o, "mtime", 0, Number.MAX_SAFE_INTEGER) }),
        ...(o.exec === undefined ? {} : { exec: bool(o, "exec") }),
        ...(o.folder === undefined ? {} : { folder: folderEntry(o.folder) }),
      };
    }
    case FrameType.Accept: {
      const o = parseJson(p, "ACCEPT");
      const offset = int(o, "offset", 0, Number.MAX_SAFE_INTEGER);
      if (offset === 0) return { kind: "accept", id: transferId(o), offset };
      return { kind: "accept", id: transferId(o), offset, prefix: hex(o, "prefix") };
    }
    case FrameType.Start: {
      const o = parseJson(p, "START");
      return { kind: "start", id: transferId(o), offset: int(o, "offset", 0, Number.MAX_SAFE_INTEGER) };
    }
    case FrameType.Reject: {
      const o = parseJson(p, "REJECT");
      return { kind: "reject", id: transferId(o), reason: str(o, "reason", 0, MAX_REASON_CHARS) };
    }
    case FrameType.End: {
      const o = parseJson(p, "END");
      return {
        kind: "end",
        id: transferId(o),
        bytes: int(o, "bytes", 0, Number.MAX_SAFE_INTEGER),
        algo: str(o, "algo", 1, 32),
        digest: hex(o, "digest"),
      };
    }
    case FrameType.Received: {
      const o = parseJson(p, "RECEIVED");
      if (typeof o.ok !== "boolean") bad("RECEIVED ok must be a boolean");
      const reason = o.reason === undefined ? undefined : str(o, "reason", 0, MAX_REASON_CHARS);
      const code = o.code === undefined ? undefined : str(o, "code", 1, 32);
      return {
        kind: "received",
        id: transferId(o),
        bytes: int(o, "bytes", 0, Number.MAX_SAFE_INTEGER),
        ok: o.ok as boolean,
        ...(reason === undefined ? {} : { reason }),
        ...(code === undefined ? {} : { code }),
      };
    }
    case FrameType.Cancel: {
      const o = parseJson(p, "CANCEL");
      return { kind: "cancel", id: transferId(o), reason: str(o, "reason", 0, MAX_REASON_CHARS) };
    }
    case FrameType.Bye: {
      const o = parseJson(p, "BYE");
      return { kind: "bye", reason: str(o, "reason", 0, MAX_REASON_CHARS) };
    }
    case FrameType.Ready:
      parseJson(p, "READY");
      return { kind: "ready" };
  }
}

/** Encodes a control message as one whole frame. */
export function encodeMessage(message: Message): Uint8Array {
  switch (message.kind) {
    case "chat":
      return encodeFrame(FrameType.Chat, utf8.encode(message.text));
    case "ack": {
      const body = new Uint8Array(COUNTER_BODY_BYTES);
      new DataView(body.buffer).setBigUint64(0, BigInt(message.bytes));
      return encodeFrame(FrameType.Ack, body);
    }
    case "ping":
      return encodeFrame(FrameType.Ping, message.token);
    case "pong":
      return encodeFrame(FrameType.Pong, message.token);
    case "share":
      return encodeFrame(FrameType.Share, message.share);
    case "confirm":
      return encodeFrame(FrameType.Confirm, message.mac);
    default: {
      const { kind, ...fields } = message;
      return encodeFrame(JSON_TYPES[kind], utf8.encode(JSON.stringify(fields)));
    }
  }
}

/** The HELLO this build sends. */
export function makeHello(
  nonce: string,
  name: string | undefined,
  features: readonly string[] = [],
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

const JSON_TYPES = {
  hello: FrameType.Hello,
  offer: FrameType.Offer,
  accept: FrameType.Accept,
  reject: FrameType.Reject,
  end: FrameType.End,
  received: FrameType.Received,
  cancel: FrameType.Cancel,
  bye: FrameType.Bye,
  ready: FrameType.Ready,
  start: FrameType.Start,
} as const;

type JsonObject = Record<string, unknown>;

function bad(message: string): never {
  throw new ProtocolError("E_BAD_MESSAGE", message);
}

function parseJson(payload: Uint8Array, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8Decoder.decode(payload));
  } catch (err) {
    throw new ProtocolError("E_BAD_MESSAGE", `${what} body is not valid JSON`, { cause: err });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(`${what} body must be a JSON object`);
  return value as JsonObject;
}

function int(o: JsonObject, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
  return bad(`field "${key}" must be an integer in ${min}..${max}`);
}

function str(o: JsonObject, key: string, minLength: number, maxLength: number): string {
  const v = o[key];
  if (typeof v === "string" && v.length >= minLength && v.length <= maxLength) return v;
  return bad(`field "${key}" must be a string of ${minLength}..${maxLength} characters`);
}

/** Most components in a folder entry's path. */
export const MAX_PATH_DEPTH = 64;

function folderEntry(value: unknown): FolderEntry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("OFFER folder must be an object");
  const o = value as JsonObject;
  const path = o.path;
  const dir = o.dir === undefined ? undefined : bool(o, "dir");
  if (
    !Array.isArray(path) ||
    path.length < (dir ? 0 : 1) ||
    path.length > MAX_PATH_DEPTH ||
    !path.every((c) => typeof c === "string" && c.length > 0 && utf8.encode(c).length <= MAX_FILE_NAME_BYTES)
  ) {
    bad(`OFFER folder path must be up to ${MAX_PATH_DEPTH} names of 1..${MAX_FILE_NAME_BYTES} bytes`);
  }
  return {
    group: transferId(o, "group"),
    root: str(o, "root", 1, MAX_FILE_NAME_BYTES),
    path: path as string[],
    ...(dir === undefined ? {} : { dir }),
    entries: int(o, "entries", 1, Number.MAX_SAFE_INTEGER),
    bytes: int(o, "bytes", 0, Number.MAX_SAFE_INTEGER),
  };
}

function bool(o: JsonObject, key: string): boolean {
  const v = o[key];
  if (typeof v === "boolean") return v;
  return bad(`field "${key}" must be true or false`);
}

/** A digest: lowercase hex, at most MAX_DIGEST_CHARS. */
function hex(o: JsonObject, key: string): string {
  const v = str(o, key, 0, MAX_DIGEST_CHARS);
  if (/^[0-9a-f]*$/.test(v)) return v;
  return bad(`field "${key}" must be lowercase hex`);
}

function transferId(o: JsonObject, key = "id"): number {
  return int(o, key, 1, MAX_TRANSFER_ID);
}

function readU64(p: Uint8Array): number {
  if (p.length !== COUNTER_BODY_BYTES) bad(`counter must be ${COUNTER_BODY_BYTES} bytes`);
  const value = new DataView(p.buffer, p.byteOffset, p.byteLength).getBigUint64(0);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) bad("counter exceeds 2^53 - 1");
  return Number(value);
}
