/**
 * The message schema table: golden bytes for every message type (the schema fixes the key
 * order, so a message always encodes the same), and the encoder holding to exactly the limits
 * the decoder enforces (issue 11 item 15: a reason over the limit used to be sent, then end
 * the connection at the peer), and reasons as a code plus a path-free token (issue 11 item 10).
 */

import { describe, expect, test } from "bun:test";
import {
  boundedReason,
  encodeMessage,
  FrameDecoder,
  FrameType,
  MAX_CHAT_BYTES,
  MAX_DETAIL_CHARS,
  MAX_FILE_NAME_BYTES,
  MAX_NAME_CHARS,
  MAX_REASON_CHARS,
  MESSAGE_SCHEMAS,
  type Message,
  makeHello,
  parseMessage,
  wireDetail,
} from "../../src/protocol/index.ts";
import { thrownBy } from "./helpers.ts";

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** Golden frame: the 5-byte header as hex, then the body (JSON text, or hex for binary bodies). */
const GOLDEN: [string, Message, string, string][] = [
  [
    "hello",
    makeHello("0123456789abcdef", "alice", ["resume"], "code"),
    "0000006501",
    '{"v":1,"app":"parley","nonce":"0123456789abcdef","name":"alice","features":["resume"],"mode":"code"}',
  ],
  [
    "offer",
    { kind: "offer", id: 1, name: "a.txt", size: 10, algo: "sha256", mtime: 1700000000000, exec: true },
    "0000005403",
    '{"id":1,"name":"a.txt","size":10,"algo":"sha256","mtime":1700000000000,"exec":true}',
  ],
  [
    "offer of a folder entry",
    {
      kind: "offer",
      id: 3,
      name: "b",
      size: 0,
      algo: "xxh3",
      folder: { group: 3, root: "r", path: ["d", "b"], entries: 2, bytes: 5 },
    },
    "0000007203",
    '{"id":3,"name":"b","size":0,"algo":"xxh3","folder":{"group":3,"root":"r","path":["d","b"],"entries":2,"bytes":5}}',
  ],
  [
    "offer with a resume token",
    { kind: "offer", id: 5, name: "c.pdf", size: 9, algo: "xxh3", token: "0123456789abcdef0123456789abcdef" },
    "0000005a03",
    '{"id":5,"name":"c.pdf","size":9,"algo":"xxh3","token":"0123456789abcdef0123456789abcdef"}',
  ],
  [
    "offer of a stream",
    { kind: "offer", id: 2, name: "s", size: null, algo: "xxh3" },
    "0000002e03",
    '{"id":2,"name":"s","size":null,"algo":"xxh3"}',
  ],
  ["accept", { kind: "accept", id: 1, offset: 0 }, "0000001404", '{"id":1,"offset":0}'],
  [
    "accept to resume",
    { kind: "accept", id: 1, offset: 5, prefix: "ab" },
    "0000002204",
    '{"id":1,"offset":5,"prefix":"ab"}',
  ],
  ["start", { kind: "start", id: 1, offset: 5 }, "000000140f", '{"id":1,"offset":5}'],
  ["reject", { kind: "reject", id: 1, code: "E_NO_SPACE" }, "0000001d05", '{"id":1,"code":"E_NO_SPACE"}'],
  [
    "end",
    { kind: "end", id: 1, bytes: 10, algo: "xxh3", digest: "00ff" },
    "0000003207",
    '{"id":1,"bytes":10,"algo":"xxh3","digest":"00ff"}',
  ],
  [
    "received",
    { kind: "received", id: 1, bytes: 10, ok: false, code: "E_WRITE", detail: "ENOSPC" },
    "0000004208",
    '{"id":1,"bytes":10,"ok":false,"code":"E_WRITE","detail":"ENOSPC"}',
  ],
  [
    "received, stored under another name",
    { kind: "received", id: 1, bytes: 10, ok: true, name: "mid50 (1).bin" },
    "0000003508",
    '{"id":1,"bytes":10,"ok":true,"name":"mid50 (1).bin"}',
  ],
  ["cancel", { kind: "cancel", id: 1, code: "E_CANCELLED" }, "0000001e09", '{"id":1,"code":"E_CANCELLED"}'],
  [
    "folderEnd",
    { kind: "folderEnd", group: 3, code: "E_CANCELLED", detail: "folder" },
    "0000003312",
    '{"group":3,"code":"E_CANCELLED","detail":"folder"}',
  ],
  ["bye", { kind: "bye", reason: "exit" }, "000000120d", '{"reason":"exit"}'],
  ["leaving", { kind: "leaving", reason: "exit" }, "0000001213", '{"reason":"exit"}'],
  ["ready", { kind: "ready" }, "000000030e", "{}"],
  ["chat", { kind: "chat", text: "hé" }, "0000000402", "hé"],
  ["ack", { kind: "ack", bytes: 2 ** 32 + 1 }, "000000090a", "hex:0000000100000001"],
  ["ping", { kind: "ping", token: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }, "000000090b", "hex:0102030405060708"],
  ["pong", { kind: "pong", token: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1) }, "000000090c", "hex:0807060504030201"],
  ["share", { kind: "share", share: new Uint8Array(32).fill(1) }, "0000002110", `hex:${"01".repeat(32)}`],
  ["confirm", { kind: "confirm", mac: new Uint8Array(32).fill(2) }, "0000002111", `hex:${"02".repeat(32)}`],
];

function goldenHex(header: string, body: string): string {
  return header + (body.startsWith("hex:") ? body.slice(4) : Buffer.from(body, "utf8").toString("hex"));
}

describe("golden bytes of every message type", () => {
  test.each(GOLDEN)("%s", (_what, message, header, body) => {
    const bytes = encodeMessage(message);
    expect(hexOf(bytes)).toBe(goldenHex(header, body));
    const frames = new FrameDecoder().push(bytes);
    const frame = frames[0];
    if (!frame || frame.type === FrameType.Data) throw new Error("expected one control frame");
    expect(parseMessage(frame)).toStrictEqual(message);
  });

  test("every message type in the schema table has a golden", () => {
    expect(new Set<string>(GOLDEN.map(([, m]) => m.kind))).toEqual(new Set(Object.keys(MESSAGE_SCHEMAS)));
  });

  test("fields outside the schema are not sent", () => {
    const extra = { kind: "cancel", id: 1, code: "E_READ", path: "/home/me/secret" } as Message;
    expect(Buffer.from(encodeMessage(extra).subarray(5)).toString()).toBe('{"id":1,"code":"E_READ"}');
  });
});

describe("the encoder holds to the decoder's limits", () => {
  const over: [string, Message][] = [
    ["a REJECT with a sentence as code", { kind: "reject", id: 1, code: "not enough space" }],
    ["a REJECT whose detail is a path", { kind: "reject", id: 1, code: "E_NO_SPACE", detail: "/home/me/Downloads" }],
    ["a CANCEL whose detail is a sentence", { kind: "cancel", id: 1, code: "E_READ", detail: "cannot read it" }],
    [
      "a RECEIVED detail over MAX_DETAIL_CHARS",
      { kind: "received", id: 1, bytes: 0, ok: false, code: "E_WRITE", detail: "x".repeat(MAX_DETAIL_CHARS + 1) },
    ],
    [
      "an OFFER token that is not 32 hex characters",
      { kind: "offer", id: 1, name: "a", size: 1, algo: "xxh3", token: "ab" },
    ],
    ["a RECEIVED name that is a path", { kind: "received", id: 1, bytes: 0, ok: true, name: "../x" }],
    ["a BYE reason of MAX_REASON_CHARS + 1", { kind: "bye", reason: "x".repeat(MAX_REASON_CHARS + 1) }],
    ["an OFFER name of 256 bytes", { kind: "offer", id: 1, name: "é".repeat(128), size: 1, algo: "xxh3" }],
    ["an OFFER id of 0", { kind: "offer", id: 0, name: "a", size: 1, algo: "xxh3" }],
    ["a HELLO name over MAX_NAME_CHARS", makeHello("0123456789abcdef", "n".repeat(MAX_NAME_CHARS + 1))],
    ["a CHAT over MAX_CHAT_BYTES", { kind: "chat", text: "a".repeat(MAX_CHAT_BYTES + 1) }],
    ["an ACK over 2^53 - 1", { kind: "ack", bytes: 2 ** 53 }],
    ["an END digest in uppercase", { kind: "end", id: 1, bytes: 0, algo: "xxh3", digest: "AB" }],
    ["an ACCEPT offset without a prefix", { kind: "accept", id: 1, offset: 5 }],
    ["a PING token of 7 bytes", { kind: "ping", token: new Uint8Array(7) }],
  ];

  test.each(over)("%s is refused by the encoder", (_what, message) => {
    expect(thrownBy(() => encodeMessage(message))).toBeInstanceOf(RangeError);
  });

  test("at the limits both sides agree", () => {
    const atLimit: Message[] = [
      { kind: "bye", reason: "x".repeat(MAX_REASON_CHARS) },
      { kind: "reject", id: 1, code: "E_REJECTED", detail: "x".repeat(MAX_DETAIL_CHARS) },
      { kind: "offer", id: 1, name: "a".repeat(MAX_FILE_NAME_BYTES), size: 1, algo: "xxh3" },
      { kind: "chat", text: "a".repeat(MAX_CHAT_BYTES) },
    ];
    for (const m of atLimit) {
      const [frame] = new FrameDecoder().push(encodeMessage(m));
      if (!frame || frame.type === FrameType.Data) throw new Error("expected one control frame");
      expect(parseMessage(frame)).toStrictEqual(m);
    }
  });

  test("boundedReason cuts a long reason to what the decoder takes, never splitting a character", () => {
    const long = `cannot read /${"very-long-folder/".repeat(30)}file.bin`;
    expect(boundedReason(long).length).toBe(MAX_REASON_CHARS);
    expect(boundedReason("short")).toBe("short");
    const emoji = `${"x".repeat(MAX_REASON_CHARS - 1)}😀`; // the pair straddles the limit
    expect(boundedReason(emoji)).toBe("x".repeat(MAX_REASON_CHARS - 1));
    const [frame] = new FrameDecoder().push(encodeMessage({ kind: "bye", reason: boundedReason(long) }));
    if (!frame || frame.type === FrameType.Data) throw new Error("expected one control frame");
    expect(parseMessage(frame)).toMatchObject({ kind: "bye", reason: long.slice(0, MAX_REASON_CHARS) });
  });

  test("wireDetail lets through one token and keeps paths and sentences here", () => {
    expect(wireDetail("EFBIG")).toBe("EFBIG");
    expect(wireDetail("xxh3")).toBe("xxh3");
    expect(wireDetail("/home/me")).toBeUndefined();
    expect(wireDetail("12 free")).toBeUndefined();
    expect(wireDetail("x".repeat(MAX_DETAIL_CHARS + 1))).toBeUndefined();
  });
});
