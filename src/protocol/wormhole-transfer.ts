/**
 * magic-wormhole's file-transfer protocol (its file-transfer-protocol.md): the JSON messages two
 * ends exchange through the mailbox, and the final ack sent in a transit record. Pure: bytes in,
 * values out, every field checked before use (a peer is untrusted input).
 *
 *   sender   -> {"transit": {"abilities-v1": [...], "hints-v1": [...]}}
 *   sender   -> {"offer": {"message": TEXT}}                                  text
 *             | {"offer": {"file": {"filename": NAME, "filesize": N}}}
 *             | {"offer": {"directory": {"mode": "zipfile/deflated", "dirname": NAME,
 *                                        "zipsize": N, "numbytes": N, "numfiles": N}}}
 *   receiver -> {"transit": {...}}, then {"answer": {"message_ack": "ok"}} | {"answer": {"file_ack": "ok"}}
 *   either   -> {"error": REASON}                                              (gives up)
 *   transit, receiver -> sender, after the last byte: {"ack": "ok", "sha256": HEX}
 *
 * One message may carry several keys; unknown keys and messages are ignored, as the Python
 * client does. Hints: `direct-tcp-v1` {hostname, port, priority?}; `relay-v1` {hints: [...]}.
 */

import { ProtocolError } from "./errors.ts";

/** A host and port from a hint (structurally net's TransitHint). */
export interface WireHint {
  readonly host: string;
  readonly port: number;
}

export interface WireHints {
  readonly direct: WireHint[];
  readonly relays: WireHint[];
}

/**
 * Limits on what a peer's hints may make us dial, in all (not per hint: 64 relay hints of 16
 * addresses each would have had us dial over a thousand addresses of the peer's choosing).
 */
const MAX_HINTS = 64;
export const MAX_DIRECT_TARGETS = 16;
export const MAX_RELAY_TARGETS = 8;
/** Longest text message or reason taken (a mailbox message is small; this bounds the screen). */
export const MAX_PLAIN_TEXT_CHARS = 1024 * 1024;
/** Longest offered file or folder name taken as is (sanitised later anyway). */
const MAX_NAME_CHARS = 4096;

export type PlainOffer =
  | { readonly kind: "message"; readonly text: string }
  | { readonly kind: "file"; readonly name: string; readonly size: number }
  | {
      readonly kind: "directory";
      readonly name: string;
      /** "zipfile/deflated" is the only mode wormhole clients use. */
      readonly mode: string;
      /** Bytes of the zip that transit will carry. */
      readonly zipSize: number;
      /** The sender's estimate of the unpacked size. */
      readonly numBytes: number;
      readonly numFiles: number;
    }
  /**
   * An offer of a kind we do not know (or malformed): decline it. `textChars`: a text message
   * longer than MAX_PLAIN_TEXT_CHARS (UTF-16 units), declined with its own words.
   */
  | { readonly kind: "unknown"; readonly detail: string; readonly textChars?: number };

export type PlainAnswer =
  | { readonly kind: "file_ack" | "message_ack"; readonly ok: boolean }
  | { readonly kind: "unknown" };

/** The keys of one mailbox message that we act on. */
export interface PlainMessage {
  readonly error?: string;
  readonly transit?: WireHints;
  readonly offer?: PlainOffer;
  readonly answer?: PlainAnswer;
}

const utf8 = new TextEncoder();

function encode(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

function parseObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new ProtocolError("E_BAD_MESSAGE", `${what} is not JSON`, { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError("E_BAD_MESSAGE", `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * A host a hint may name: a host name or IPv4 address (letters, digits, dots, hyphens,
 * underscores), or an IPv6 address (hex digits, colons, dots; a `%zone`). Anything else cannot be
 * dialed, and its words went into our lines: a relay "hostname" of `relay.example.org:4001: it
 * refused the connection (nothing listens there); 10.0.0.7` read, in `cannot reach the transit
 * relay ...`, as failures of relays never tried (session 30).
 */
const HINT_HOST = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?)$/;

function tcpHint(h: unknown): WireHint | undefined {
  if (!isObject(h)) return undefined;
  const { hostname, port } = h;
  if (typeof hostname !== "string" || hostname.length > 255 || !HINT_HOST.test(hostname)) return undefined;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: hostname, port };
}

/** A `transit` value's hints-v1 (unknown hint types are skipped, as transit.py does). */
export function parseHints(transit: unknown): WireHints {
  const hints = isObject(transit) ? transit["hints-v1"] : undefined;
  const direct: WireHint[] = [];
  const relays: WireHint[] = [];
  for (const h of Array.isArray(hints) ? hints.slice(0, MAX_HINTS) : []) {
    if (!isObject(h)) continue;
    if (h.type === "direct-tcp-v1") {
      const hint = tcpHint(h);
      if (hint && direct.length < MAX_DIRECT_TARGETS) direct.push(hint);
    } else if (h.type === "relay-v1") {
      for (const r of Array.isArray(h.hints) ? h.hints.slice(0, MAX_RELAY_TARGETS) : []) {
        const hint = tcpHint(r);
        if (hint && relays.length < MAX_RELAY_TARGETS) relays.push(hint);
      }
    }
  }
  return { direct, relays };
}

/** Our `transit` message: both abilities, our direct addresses and our relay. */
export function encodeTransit(direct: readonly WireHint[], relays: readonly WireHint[]): Uint8Array {
  return encode({ transit: transitValue(direct, relays) });
}

/** The value of a `transit` key. */
export function transitValue(direct: readonly WireHint[], relays: readonly WireHint[]): Record<string, unknown> {
  const tcp = (h: WireHint) => ({ type: "direct-tcp-v1", priority: 0.0, hostname: h.host, port: h.port });
  const hints: unknown[] = direct.map(tcp);
  if (relays.length > 0) hints.push({ type: "relay-v1", hints: relays.map(tcp) });
  return { "abilities-v1": [{ type: "direct-tcp-v1" }, { type: "relay-v1" }], "hints-v1": hints };
}

function parseOffer(offer: unknown): PlainOffer {
  if (!isObject(offer)) return { kind: "unknown", detail: "not an object" };
  if ("message" in offer) {
    const text = offer.message;
    if (typeof text !== "string") return { kind: "unknown", detail: "message" };
    if (text.length > MAX_PLAIN_TEXT_CHARS) return { kind: "unknown", detail: "message", textChars: text.length };
    return { kind: "message", text };
  }
  if ("file" in offer) {
    const file = offer.file;
    if (!isObject(file)) return { kind: "unknown", detail: "file" };
    const { filename, filesize } = file;
    if (typeof filename !== "string" || filename.length > MAX_NAME_CHARS || !isCount(filesize)) {
      return { kind: "unknown", detail: "file" };
    }
    return { kind: "file", name: filename, size: filesize };
  }
  if ("directory" in offer) {
    const dir = offer.directory;
    if (!isObject(dir)) return { kind: "unknown", detail: "directory" };
    const { mode, dirname, zipsize, numbytes, numfiles } = dir;
    if (typeof mode !== "string" || typeof dirname !== "string" || dirname.length > MAX_NAME_CHARS) {
      return { kind: "unknown", detail: "directory" };
    }
    if (!isCount(zipsize) || !isCount(numbytes) || !isCount(numfiles)) return { kind: "unknown", detail: "directory" };
    return {
      kind: "directory",
      name: dirname,
      mode: mode.slice(0, 64),
      zipSize: zipsize,
      numBytes: numbytes,
      numFiles: numfiles,
    };
  }
  return { kind: "unknown", detail: Object.keys(offer).slice(0, 4).join(",").slice(0, 64) };
}

function parseAnswer(answer: unknown): PlainAnswer {
  if (!isObject(answer)) return { kind: "unknown" };
  if ("file_ack" in answer) return { kind: "file_ack", ok: answer.file_ack === "ok" };
  if ("message_ack" in answer) return { kind: "message_ack", ok: answer.message_ack === "ok" };
  return { kind: "unknown" };
}

/**
 * One mailbox message of the file-transfer protocol.
 * @throws ProtocolError E_BAD_MESSAGE when it is not a JSON object
 */
export function parsePlainMessage(bytes: Uint8Array): PlainMessage {
  const m = parseObject(bytes, "a wormhole message");
  const out: { -readonly [K in keyof PlainMessage]: PlainMessage[K] } = {};
  // Only text is taken from the peer: String() or JSON.stringify() of a deeply nested value throws.
  if ("error" in m) out.error = typeof m.error === "string" ? m.error.slice(0, 1000) : "(an error that is not text)";
  if ("transit" in m) out.transit = parseHints(m.transit);
  if ("offer" in m) out.offer = parseOffer(m.offer);
  if ("answer" in m) out.answer = parseAnswer(m.answer);
  return out;
}

/** An offer as a wormhole client reads it. */
export function encodeOffer(offer: Exclude<PlainOffer, { kind: "unknown" }>): Uint8Array {
  switch (offer.kind) {
    case "message":
      return encode({ offer: { message: offer.text } });
    case "file":
      return encode({ offer: { file: { filename: offer.name, filesize: offer.size } } });
    case "directory":
      return encode({
        offer: {
          directory: {
            mode: offer.mode,
            dirname: offer.name,
            zipsize: offer.zipSize,
            numbytes: offer.numBytes,
            numfiles: offer.numFiles,
          },
        },
      });
  }
}

/** `{"answer": {"file_ack": "ok"}}` or `{"answer": {"message_ack": "ok"}}`. */
export function encodeAnswer(kind: "file_ack" | "message_ack"): Uint8Array {
  return encode({ answer: { [kind]: "ok" } });
}

/** `{"error": REASON}`: we give up (a declined offer, a failure). */
export function encodeError(reason: string): Uint8Array {
  return encode({ error: reason });
}

/** The receiver's final transit record. */
export function encodeTransitAck(sha256Hex: string): Uint8Array {
  return encode({ ack: "ok", sha256: sha256Hex });
}

/**
 * The receiver's last record when it did not store what came: `{"ack": words}`. Anything but
 * "ok" fails the sender (the Python client: "Transfer failed (remote says: {'ack': words})").
 */
export function encodeTransitRefusal(words: string): Uint8Array {
  return encode({ ack: words });
}

export interface TransitAck {
  readonly ok: boolean;
  /** Lowercase hex, when the receiver sent one. */
  readonly sha256?: string;
  /** What it said instead of "ok" (bounded). */
  readonly said: string;
}

/** @throws ProtocolError E_BAD_MESSAGE when the record is not a JSON object */
export function parseTransitAck(bytes: Uint8Array): TransitAck {
  const m = parseObject(bytes, "the receiver's ack");
  const sha = typeof m.sha256 === "string" ? m.sha256.toLowerCase().slice(0, 128) : undefined;
  const said = typeof m.ack === "string" ? m.ack.slice(0, 200) : "(an ack that is not text)";
  return { ok: m.ack === "ok", ...(sha === undefined ? {} : { sha256: sha }), said };
}
