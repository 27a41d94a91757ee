/**
 * Protocol messages: every kind round-trips through encodeMessage -> FrameDecoder -> parseMessage,
 * golden bytes of the binary bodies, and field-by-field validation of untrusted JSON bodies.
 */

import { describe, expect, test } from "bun:test";
import {
  APP_NAME,
  type ControlFrame,
  chatFits,
  encodeAck,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  FrameType,
  type FrameTypeValue,
  MAX_CHAT_BYTES,
  MAX_DETAIL_CHARS,
  MAX_DIGEST_CHARS,
  MAX_FILE_NAME_BYTES,
  MAX_NAME_CHARS,
  MAX_REASON_CHARS,
  MAX_TRANSFER_ID,
  type Message,
  makeHello,
  PROTOCOL_VERSION,
  ProtocolError,
  parseMessage,
  shownReason,
} from "../../src/protocol/index.ts";
import { hex, thrownBy, toHex } from "./helpers.ts";

const utf8 = new TextEncoder();

/** The one control frame in `bytes`, through a real decoder. */
function decodeOne(bytes: Uint8Array): ControlFrame {
  const decoder = new FrameDecoder();
  const frames = decoder.push(bytes);
  expect(frames.length).toBe(1);
  expect(decoder.atFrameBoundary).toBe(true);
  const [frame] = frames;
  if (!frame || frame.type === FrameType.Data) throw new Error("expected one control frame");
  return frame;
}

function roundTrip(message: Message): Message {
  return parseMessage(decodeOne(encodeMessage(message)));
}

/** A frame of `type` whose body is `body` (a string is UTF-8 encoded), decoded and parsed. */
function parseBody(type: FrameTypeValue, body: string | Uint8Array): Message {
  return parseMessage(decodeOne(encodeFrame(type, typeof body === "string" ? utf8.encode(body) : body)));
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function expectBadMessage(fn: () => unknown): void {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe("E_BAD_MESSAGE");
}

function u64(value: bigint): Uint8Array {
  const body = new Uint8Array(8);
  new DataView(body.buffer).setBigUint64(0, value);
  return body;
}

const NONCE = "0123456789abcdef";
const DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("round trip encodeMessage -> FrameDecoder -> parseMessage", () => {
  const messages: [string, Message][] = [
    ["hello with name and features", makeHello(NONCE, "alice", ["resume", "xxh3"])],
    ["hello without name", makeHello("ffffffffffffffff", undefined)],
    ["hello with an empty name", makeHello(NONCE, "")],
    ["chat", { kind: "chat", text: "hello there" }],
    ["chat, empty", { kind: "chat", text: "" }],
    ["chat, unicode", { kind: "chat", text: "héllo wörld ☃ 日本語 😀👍🏽 \u202e" }],
    ["chat, of exactly MAX_CHAT_BYTES", { kind: "chat", text: "é".repeat(MAX_CHAT_BYTES / 2) }],
    ["chat, with JSON-looking text", { kind: "chat", text: '{"kind":"bye"}' }],
    ["offer", { kind: "offer", id: 1, name: "report.pdf", size: 1234, algo: "sha256" }],
    [
      "offer, largest id and size",
      { kind: "offer", id: MAX_TRANSFER_ID, name: "x", size: Number.MAX_SAFE_INTEGER, algo: "sha256" },
    ],
    ["offer of a stream (size unknown)", { kind: "offer", id: 3, name: "stdin.bin", size: null, algo: "xxh3" }],
    ["offer, unicode name of 200 bytes", { kind: "offer", id: 2, name: "é".repeat(100), size: 0, algo: "xxh3" }],
    [
      "offer, ASCII name of 255 bytes",
      { kind: "offer", id: 2, name: "a".repeat(MAX_FILE_NAME_BYTES), size: 0, algo: "xxh3" },
    ],
    ["accept", { kind: "accept", id: 3, offset: 0 }],
    ["accept with resume offset", { kind: "accept", id: 3, offset: 2 ** 40, prefix: "0123abcd" }],
    ["start at the accepted offset", { kind: "start", id: 3, offset: 2 ** 40 }],
    ["start over", { kind: "start", id: 3, offset: 0 }],
    ["share", { kind: "share", share: new Uint8Array(32).fill(1) }],
    ["confirm", { kind: "confirm", mac: new Uint8Array(32).fill(2) }],
    [
      "hello in code mode",
      { kind: "hello", v: 1, app: "parley", nonce: "0123456789abcdef", features: [], mode: "code" },
    ],
    [
      "offer with mtime and exec",
      { kind: "offer", id: 5, name: "run.sh", size: 10, algo: "xxh3", mtime: 1_700_000_000_123, exec: true },
    ],
    [
      "offer of a command of several",
      { kind: "offer", id: 7, name: "b.txt", size: 3, algo: "xxh3", command: { seq: 2, transfers: 5 } },
    ],
    ["reject", { kind: "reject", id: 4, code: "E_NO_SPACE" }],
    ["reject with a detail", { kind: "reject", id: 4, code: "E_TOO_MANY_TRANSFERS", detail: "64" }],
    ["end", { kind: "end", id: 5, bytes: 1234, algo: "sha256", digest: DIGEST }],
    ["end with empty digest", { kind: "end", id: 5, bytes: 0, algo: "none", digest: "" }],
    ["received ok without reason", { kind: "received", id: 6, bytes: 1234, ok: true }],
    ["received failed with a code", { kind: "received", id: 6, bytes: 10, ok: false, code: "E_BAD_CHECKSUM" }],
    [
      "received of a folder's entry, with the names stored",
      { kind: "received", id: 6, bytes: 1, ok: true, name: "a (1).jpg", root: "photos (1)" },
    ],
    ["cancel", { kind: "cancel", id: 7, code: "E_CANCELLED" }],
    ["folderEnd", { kind: "folderEnd", group: 7, code: "E_CANCELLED", detail: "folder" }],
    ["cancel with what reached an output", { kind: "cancel", id: 7, code: "E_WRITE", detail: "ENOSPC", bytes: 4096 }],
    ["ack 0", { kind: "ack", bytes: 0 }],
    ["ack above 2^32", { kind: "ack", bytes: 2 ** 32 + 5 }],
    ["ack whose low half has its top bit set", { kind: "ack", bytes: 3 * 2 ** 32 + 0x80000001 }],
    ["ack 2^53-1", { kind: "ack", bytes: Number.MAX_SAFE_INTEGER }],
    ["ping", { kind: "ping", token: hex("0102030405060708") }],
    ["pong", { kind: "pong", token: hex("ffeeddccbbaa9988") }],
    ["ready", { kind: "ready" }],
    ["bye", { kind: "bye", reason: "exit" }],
    ["bye with unicode reason", { kind: "bye", reason: "au revoir ☃" }],
    ["leaving", { kind: "leaving", reason: "exit" }],
  ];

  test.each(messages)("%s", (_what, message) => {
    expect(roundTrip(message)).toStrictEqual(message);
  });

  test("the table covers every message kind", () => {
    const kinds = new Set(messages.map(([, m]) => m.kind));
    const frameTypes = new Set(messages.map(([, m]) => encodeMessage(m)[4]));
    // Every frame type except DATA, which never passes through messages.
    const controlTypes = Object.values(FrameType).filter((t) => t !== FrameType.Data);
    const byValue = (a: number | undefined, b: number | undefined) => (a ?? 0) - (b ?? 0);
    expect([...frameTypes].sort(byValue)).toEqual(controlTypes.sort(byValue));
    expect(kinds.size).toBe(controlTypes.length);
  });

  test("parsed HELLO carries this build's version and app tag", () => {
    const hello = roundTrip(makeHello(NONCE, "bob"));
    expect(hello).toMatchObject({ kind: "hello", v: PROTOCOL_VERSION, app: APP_NAME, nonce: NONCE, name: "bob" });
  });

  test("received without a code has no code or detail key after parsing", () => {
    const parsed = roundTrip({ kind: "received", id: 1, bytes: 0, ok: true });
    expect(Object.keys(parsed)).not.toContain("code");
    expect(Object.keys(parsed)).not.toContain("detail");
  });
});

describe("golden bytes", () => {
  test.each([
    ["ack 2^32", { kind: "ack", bytes: 2 ** 32 } as Message, "00000009 0a 0000000100000000"],
    ["ack 2^53-1", { kind: "ack", bytes: Number.MAX_SAFE_INTEGER } as Message, "00000009 0a 001fffffffffffff"],
    [
      "ack 0x12_89abcdef",
      { kind: "ack", bytes: 0x12 * 2 ** 32 + 0x89abcdef } as Message,
      "00000009 0a 0000001289abcdef",
    ],
    ["ping", { kind: "ping", token: hex("0102030405060708") } as Message, "00000009 0b 0102030405060708"],
    ["pong", { kind: "pong", token: hex("0102030405060708") } as Message, "00000009 0c 0102030405060708"],
    ["chat hi", { kind: "chat", text: "hi" } as Message, "00000003 02 6869"],
    ["chat é", { kind: "chat", text: "é" } as Message, "00000003 02 c3a9"],
    ["bye", { kind: "bye", reason: "" } as Message, "0000000e 0d 7b22726561736f6e223a22227d"], // {"reason":""}
    ["ready", { kind: "ready" } as Message, "00000003 0e 7b7d"], // {}
  ])("%s encodes to %s", (_what, message, golden) => {
    expect(toHex(encodeMessage(message))).toBe(golden.replace(/\s+/g, ""));
  });

  // The receiver's ACK path (one a record) builds the frame directly: the same bytes, the same refusals.
  test.each([0, 1, 255, 256 * 1024, 2 ** 32 - 1, 2 ** 32, 0x12 * 2 ** 32 + 0x89abcdef, Number.MAX_SAFE_INTEGER])(
    "encodeAck(%d) is encodeMessage's ACK",
    (bytes) => {
      expect(toHex(encodeAck(bytes))).toBe(toHex(encodeMessage({ kind: "ack", bytes })));
    },
  );

  test.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY])(
    "encodeAck(%d) is refused as encodeMessage refuses it",
    (bytes) => {
      expect(() => encodeMessage({ kind: "ack", bytes })).toThrow(RangeError);
      expect(() => encodeAck(bytes)).toThrow("cannot encode ACK: counter out of range");
    },
  );

  test("an ACK body is read as u64 big-endian", () => {
    expect(parseBody(FrameType.Ack, hex("0000000100000002"))).toEqual({ kind: "ack", bytes: 2 ** 32 + 2 });
  });

  test("a CHAT body of invalid UTF-8 is shown with replacement characters, not rejected", () => {
    expect(parseBody(FrameType.Chat, hex("68 ff 69"))).toEqual({ kind: "chat", text: "h\ufffdi" });
  });

  test("chatFits counts UTF-8 bytes", () => {
    expect(chatFits("a".repeat(MAX_CHAT_BYTES))).toBe(true);
    expect(chatFits("a".repeat(MAX_CHAT_BYTES + 1))).toBe(false);
    expect(chatFits("é".repeat(MAX_CHAT_BYTES / 2))).toBe(true);
    expect(chatFits("é".repeat(MAX_CHAT_BYTES / 2 + 1))).toBe(false);
  });
});

const offer = { id: 1, name: "a.txt", size: 10, algo: "sha256" };
const end = { id: 1, bytes: 10, algo: "sha256", digest: DIGEST };
const hello = { v: 1, app: "parley", nonce: NONCE, features: [] as string[] };

describe("validation failures are E_BAD_MESSAGE", () => {
  const cases: [string, FrameTypeValue, string | Uint8Array][] = [
    ["OFFER body that is not JSON", FrameType.Offer, "not json"],
    ["OFFER body of truncated JSON", FrameType.Offer, '{"id":1,'],
    ["OFFER body of invalid UTF-8", FrameType.Offer, hex("7b22 ff 22 7d")],
    ["OFFER body that is a JSON array", FrameType.Offer, json([offer])],
    ["OFFER body that is JSON null", FrameType.Offer, "null"],
    ["OFFER body that is a JSON number", FrameType.Offer, "42"],
    ["OFFER body that is a JSON string", FrameType.Offer, '"offer"'],
    ["OFFER without id", FrameType.Offer, json({ ...offer, id: undefined })],
    ["OFFER without name", FrameType.Offer, json({ ...offer, name: undefined })],
    ["OFFER without size", FrameType.Offer, json({ ...offer, size: undefined })],
    ["OFFER without algo", FrameType.Offer, json({ ...offer, algo: undefined })],
    ["OFFER with id as a string", FrameType.Offer, json({ ...offer, id: "1" })],
    ["OFFER with name as a number", FrameType.Offer, json({ ...offer, name: 7 })],
    ["OFFER with size as a string", FrameType.Offer, json({ ...offer, size: "10" })],
    ["OFFER with size false", FrameType.Offer, json({ ...offer, size: false })],
    ["OFFER with a negative mtime", FrameType.Offer, json({ ...offer, mtime: -1 })],
    ["OFFER with exec as a string", FrameType.Offer, json({ ...offer, exec: "yes" })],
    ["OFFER of a command of one transfer", FrameType.Offer, json({ ...offer, command: { seq: 1, transfers: 1 } })],
    ["OFFER of a command without its count", FrameType.Offer, json({ ...offer, command: { seq: 1 } })],
    ["OFFER of a command numbered 0", FrameType.Offer, json({ ...offer, command: { seq: 0, transfers: 2 } })],
    ["ACCEPT with an offset and no prefix", FrameType.Accept, json({ id: 1, offset: 10 })],
    ["ACCEPT with an uppercase prefix", FrameType.Accept, json({ id: 1, offset: 10, prefix: "AB" })],
    ["START with a negative offset", FrameType.Start, json({ id: 1, offset: -1 })],
    ["OFFER with id 0", FrameType.Offer, json({ ...offer, id: 0 })],
    ["OFFER with id 2^32", FrameType.Offer, json({ ...offer, id: 2 ** 32 })],
    ["OFFER with id -1", FrameType.Offer, json({ ...offer, id: -1 })],
    ["OFFER with id 1.5", FrameType.Offer, json({ ...offer, id: 1.5 })],
    ["OFFER with negative size", FrameType.Offer, json({ ...offer, size: -1 })],
    ["OFFER with non-integer size", FrameType.Offer, json({ ...offer, size: 1.5 })],
    ["OFFER with size 2^53", FrameType.Offer, json({ ...offer, size: 2 ** 53 })],
    ["OFFER with size 1e400 (Infinity)", FrameType.Offer, '{"id":1,"name":"a","size":1e400,"algo":"sha256"}'],
    ["OFFER with an empty name", FrameType.Offer, json({ ...offer, name: "" })],
    ["OFFER with a name of 130 é (260 bytes)", FrameType.Offer, json({ ...offer, name: "é".repeat(130) })],
    ["OFFER with a name of 256 ASCII bytes", FrameType.Offer, json({ ...offer, name: "a".repeat(256) })],
    ["OFFER with a name of 64 emoji (256 bytes)", FrameType.Offer, json({ ...offer, name: "😀".repeat(64) })],
    ["OFFER with an empty algo", FrameType.Offer, json({ ...offer, algo: "" })],
    ["ACCEPT with id 0", FrameType.Accept, json({ id: 0, offset: 0 })],
    ["ACCEPT with negative offset", FrameType.Accept, json({ id: 1, offset: -1 })],
    ["ACCEPT without offset", FrameType.Accept, json({ id: 1 })],
    ["REJECT with id 2^32", FrameType.Reject, json({ id: 2 ** 32, code: "E_REJECTED" })],
    ["REJECT without code", FrameType.Reject, json({ id: 1 })],
    ["REJECT with a sentence for a code", FrameType.Reject, json({ id: 1, code: "the receiver said no" })],
    [
      "REJECT with a path as detail",
      FrameType.Reject,
      json({ id: 1, code: "E_NO_SPACE", detail: "/home/me/Downloads" }),
    ],
    [
      "REJECT with a sentence as detail",
      FrameType.Reject,
      json({ id: 1, code: "E_NO_SPACE", detail: "12 bytes free" }),
    ],
    [
      "REJECT with a detail over MAX_DETAIL_CHARS",
      FrameType.Reject,
      json({ id: 1, code: "E_X", detail: "x".repeat(MAX_DETAIL_CHARS + 1) }),
    ],
    ["BYE with a reason over MAX_REASON_CHARS", FrameType.Bye, json({ reason: "x".repeat(MAX_REASON_CHARS + 1) })],
    ["END with an uppercase digest", FrameType.End, json({ ...end, digest: DIGEST.toUpperCase() })],
    ["END with a non-hex digest", FrameType.End, json({ ...end, digest: "xyz0" })],
    ["END with a digest with a space", FrameType.End, json({ ...end, digest: "ab cd" })],
    [
      "END with a digest over MAX_DIGEST_CHARS",
      FrameType.End,
      json({ ...end, digest: "a".repeat(MAX_DIGEST_CHARS + 1) }),
    ],
    ["END with digest as a number", FrameType.End, json({ ...end, digest: 1234 })],
    ["END with id 0", FrameType.End, json({ ...end, id: 0 })],
    ["END with negative bytes", FrameType.End, json({ ...end, bytes: -5 })],
    ["RECEIVED without ok", FrameType.Received, json({ id: 1, bytes: 0 })],
    ["RECEIVED with ok as a string", FrameType.Received, json({ id: 1, bytes: 0, ok: "true" })],
    ["RECEIVED with code as a number", FrameType.Received, json({ id: 1, bytes: 0, ok: false, code: 5 })],
    ["RECEIVED with id above 2^32-1", FrameType.Received, json({ id: 2 ** 32 + 1, bytes: 0, ok: true })],
    [
      "RECEIVED with a stored folder name that is a path",
      FrameType.Received,
      json({ id: 1, bytes: 0, ok: true, root: "a/b" }),
    ],
    ["RECEIVED with an empty stored folder name", FrameType.Received, json({ id: 1, bytes: 0, ok: true, root: "" })],
    ["CANCEL with id 0", FrameType.Cancel, json({ id: 0, code: "E_CANCELLED" })],
    ["CANCEL with code null", FrameType.Cancel, json({ id: 1, code: null })],
    ["BYE without reason", FrameType.Bye, json({})],
    ["BYE that is a JSON array", FrameType.Bye, json(["exit"])],
    ["HELLO with an uppercase nonce", FrameType.Hello, json({ ...hello, nonce: NONCE.toUpperCase() })],
    ["HELLO with a 15-digit nonce", FrameType.Hello, json({ ...hello, nonce: NONCE.slice(1) })],
    ["HELLO with a 17-digit nonce", FrameType.Hello, json({ ...hello, nonce: `${NONCE}0` })],
    ["HELLO with a non-hex nonce", FrameType.Hello, json({ ...hello, nonce: "0123456789abcdeg" })],
    ["HELLO with a numeric nonce", FrameType.Hello, json({ ...hello, nonce: 1234567890123456 })],
    ["HELLO without nonce", FrameType.Hello, json({ ...hello, nonce: undefined })],
    ["HELLO with v as a string", FrameType.Hello, json({ ...hello, v: "1" })],
    ["HELLO without app", FrameType.Hello, json({ ...hello, app: undefined })],
    ["HELLO with features not a list", FrameType.Hello, json({ ...hello, features: "resume" })],
    ["HELLO without features", FrameType.Hello, json({ ...hello, features: undefined })],
    ["HELLO with a feature that is not a string", FrameType.Hello, json({ ...hello, features: [1] })],
    [
      "HELLO with a name over MAX_NAME_CHARS",
      FrameType.Hello,
      json({ ...hello, name: "n".repeat(MAX_NAME_CHARS + 1) }),
    ],
    ["HELLO with a name that is a number", FrameType.Hello, json({ ...hello, name: 5 })],
    ["ACK counter 2^53", FrameType.Ack, u64(2n ** 53n)],
    ["ACK counter 2^64-1", FrameType.Ack, u64(2n ** 64n - 1n)],
    ["READY body that is not JSON", FrameType.Ready, "no"],
  ];

  test.each(cases)("%s", (_what, type, body) => {
    expectBadMessage(() => parseBody(type, body));
  });

  test.each([FrameType.Offer, FrameType.Accept, FrameType.Reject, FrameType.End, FrameType.Received, FrameType.Cancel])(
    "frame type %i takes ids 1..2^32-1 and refuses 0 and 2^32",
    (type) => {
      const fields = { ...offer, ...end, offset: 0, code: "E_R", ok: true };
      expect(parseBody(type, json({ ...fields, id: 1 }))).toMatchObject({ id: 1 });
      expect(parseBody(type, json({ ...fields, id: MAX_TRANSFER_ID }))).toMatchObject({ id: MAX_TRANSFER_ID });
      expectBadMessage(() => parseBody(type, json({ ...fields, id: 0 })));
      expectBadMessage(() => parseBody(type, json({ ...fields, id: MAX_TRANSFER_ID + 1 })));
    },
  );

  test.each([-1, 1.5, "5", null, true, 2 ** 53, 1e300])("a CANCEL whose bytes is %p is refused", (bytes) => {
    expect(parseBody(FrameType.Cancel, json({ id: 1, code: "E_WRITE", bytes: 2 ** 53 - 1 }))).toMatchObject({
      bytes: 2 ** 53 - 1,
    });
    expectBadMessage(() => parseBody(FrameType.Cancel, json({ id: 1, code: "E_WRITE", bytes })));
  });

  test("an OFFER name of 100 é (200 UTF-8 bytes) is accepted, 130 é (260 bytes) is not", () => {
    expect(parseBody(FrameType.Offer, json({ ...offer, name: "é".repeat(100) }))).toMatchObject({
      name: "é".repeat(100),
    });
    expectBadMessage(() => parseBody(FrameType.Offer, json({ ...offer, name: "é".repeat(130) })));
  });

  test("the error keeps the JSON parse error as its cause", () => {
    const err = thrownBy(() => parseBody(FrameType.Bye, "{oops")) as ProtocolError;
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  test("unknown extra fields are ignored and not passed on", () => {
    const parsed = parseBody(
      FrameType.Accept,
      '{"id":1,"offset":5,"prefix":"ab","evil":"x","__proto__":{"kind":"bye"}}',
    );
    expect(parsed).toStrictEqual({ kind: "accept", id: 1, offset: 5, prefix: "ab" });
  });
});

test("shownReason: a peer's BYE or LEAVING reason is shown as it is only when plain words; else quoted and cut", () => {
  for (const own of ["exit", "done", "interrupted", "terminated", "hung up", "its output failed", "warm-up over"]) {
    expect(shownReason(own)).toBe(own);
  }
  expect(shownReason("exit). Connected to mallory")).toBe('"exit). Connected to mallory"');
  expect(shownReason("")).toBe('""');
  expect(shownReason("Exit")).toBe('"Exit"');
  expect(shownReason("a".repeat(41))).toBe(`"${"a".repeat(40)}…"`);
  // Cut by code point: a character outside the BMP is never split.
  expect(shownReason("😀".repeat(50))).toBe(`"${"😀".repeat(40)}…"`);
  // A quote of the peer's own cannot end ours (`exit"). Transfer #3 saved: ok ("` read as our
  // sentence between two quoted reasons), nor a backslash pass for one of our escapes.
  expect(shownReason('exit"). Transfer #3 saved: ok ("')).toBe('"exit\\"). Transfer #3 saved: ok (\\""');
  expect(shownReason("a\\u001b")).toBe('"a\\\\u001b"');
  expect(shownReason(`${'"'.repeat(50)}`)).toBe(`"${'\\"'.repeat(40)}…"`);
});
