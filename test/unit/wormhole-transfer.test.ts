/**
 * magic-wormhole's file-transfer messages (src/protocol/wormhole-transfer.ts): what the Python
 * client sends (its own JSON spelling, `json.dumps`) parses to the same values; what we send has
 * the keys and values the Python client reads; hostile or malformed fields never pass.
 */

import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../../src/protocol/errors.ts";
import {
  encodeAnswer,
  encodeError,
  encodeOffer,
  encodeTransit,
  encodeTransitAck,
  MAX_DIRECT_TARGETS,
  MAX_RELAY_TARGETS,
  parseHints,
  parsePlainMessage,
  parseTransitAck,
} from "../../src/protocol/wormhole-transfer.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe("parsing what a wormhole client sends", () => {
  test("its transit message (bytes as cmd_send.py writes them)", () => {
    const bytes = utf8(
      '{"transit": {"abilities-v1": [{"type": "direct-tcp-v1"}, {"type": "relay-v1"}], "hints-v1": [' +
        '{"type": "direct-tcp-v1", "priority": 0.0, "hostname": "192.0.2.2", "port": 41234}, ' +
        '{"type": "relay-v1", "hints": [{"type": "direct-tcp-v1", "priority": 2.0, "hostname": "127.0.0.1", "port": 4001}]}, ' +
        '{"type": "tor-tcp-v1", "hostname": "x.onion", "port": 80}]}}',
    );
    expect(parsePlainMessage(bytes)).toEqual({
      transit: { direct: [{ host: "192.0.2.2", port: 41234 }], relays: [{ host: "127.0.0.1", port: 4001 }] },
    });
  });

  test("offers: text, file (a name with spaces and unicode), directory; the Python spelling", () => {
    expect(parsePlainMessage(utf8('{"offer": {"message": "hi there"}}'))).toEqual({
      offer: { kind: "message", text: "hi there" },
    });
    expect(
      parsePlainMessage(utf8('{"offer": {"file": {"filename": "a b \\u00e9\\ud83d\\ude00.txt", "filesize": 3}}}')),
    ).toEqual({ offer: { kind: "file", name: "a b é😀.txt", size: 3 } });
    expect(
      parsePlainMessage(
        utf8(
          '{"offer": {"directory": {"mode": "zipfile/deflated", "dirname": "d", "zipsize": 10, "numbytes": 20, "numfiles": 2}}}',
        ),
      ),
    ).toEqual({
      offer: { kind: "directory", name: "d", mode: "zipfile/deflated", zipSize: 10, numBytes: 20, numFiles: 2 },
    });
  });

  test("answers, errors, several keys in one message, unknown keys ignored", () => {
    expect(parsePlainMessage(utf8('{"answer": {"file_ack": "ok"}}'))).toEqual({
      answer: { kind: "file_ack", ok: true },
    });
    expect(parsePlainMessage(utf8('{"answer": {"message_ack": "no"}}'))).toEqual({
      answer: { kind: "message_ack", ok: false },
    });
    expect(parsePlainMessage(utf8('{"error": "transfer rejected"}'))).toEqual({ error: "transfer rejected" });
    expect(parsePlainMessage(utf8('{"transit": {"hints-v1": []}, "answer": {"file_ack": "ok"}, "x": 1}'))).toEqual({
      transit: { direct: [], relays: [] },
      answer: { kind: "file_ack", ok: true },
    });
    expect(parsePlainMessage(utf8('{"something-new": true}'))).toEqual({});
  });

  test("malformed offers become `unknown` (declined), never a file of a bad size", () => {
    for (const offer of [
      '{"file": {"filename": "a", "filesize": -1}}',
      '{"file": {"filename": "a", "filesize": 1.5}}',
      '{"file": {"filename": 3, "filesize": 1}}',
      '{"file": {"filename": "a", "filesize": 1e300}}',
      '{"directory": {"mode": "zipfile/deflated", "dirname": "d", "zipsize": "10", "numbytes": 1, "numfiles": 1}}',
      '{"message": 42}',
      '{"dilation": {}}',
      "[]",
    ]) {
      expect(parsePlainMessage(utf8(`{"offer": ${offer}}`)).offer?.kind).toBe("unknown");
    }
  });

  test("not a JSON object: ProtocolError E_BAD_MESSAGE", () => {
    for (const text of ["", "[1]", "null", '"x"', "{", "\xff"]) {
      expect(() => parsePlainMessage(utf8(text))).toThrow(ProtocolError);
    }
    expect(() => parsePlainMessage(Uint8Array.of(0x7b, 0xff, 0x7d))).toThrow(ProtocolError);
  });

  test("hints: bad ports and hosts skipped, counts bounded", () => {
    const hints = [
      { type: "direct-tcp-v1", hostname: "", port: 1 },
      { type: "direct-tcp-v1", hostname: "h", port: 0 },
      { type: "direct-tcp-v1", hostname: "h", port: 65536 },
      { type: "direct-tcp-v1", hostname: "h", port: "80" },
      ...Array.from({ length: 100 }, (_, i) => ({ type: "direct-tcp-v1", hostname: "h", port: i + 1 })),
    ];
    const parsed = parseHints({ "hints-v1": hints });
    expect(parsed.direct.length).toBe(MAX_DIRECT_TARGETS); // 60 valid ones offered
    expect(parseHints(null)).toEqual({ direct: [], relays: [] });
  });

  test("hints: a host that is no host name or address is skipped (its words reached our lines)", () => {
    const hosts = ["10.0.0.2", "relay.magic-wormhole.io", "my_host", "::1", "fe80::1%eth0", "::ffff:10.0.0.1"];
    const forged = [
      "relay.example.org:4001: it refused the connection (nothing listens there); 10.0.0.7",
      "10.0.0.2 ",
      " 10.0.0.2",
      "a\nb",
      "-x",
      ".",
      "a\u202eb",
      "[::1]",
    ];
    const tcp = (hostname: string) => ({ type: "direct-tcp-v1", hostname, port: 4001 });
    const parsed = parseHints({
      "hints-v1": [...[...hosts, ...forged].map(tcp), { type: "relay-v1", hints: forged.map(tcp) }],
    });
    expect(parsed.direct.map((h) => h.host)).toEqual(hosts);
    expect(parsed.relays).toEqual([]);
  });
});

describe("what we send, as the wormhole client reads it", () => {
  test("transit: abilities, direct hints, the relay", () => {
    expect(json(encodeTransit([{ host: "10.0.0.2", port: 5000 }], [{ host: "127.0.0.1", port: 4001 }]))).toEqual({
      transit: {
        "abilities-v1": [{ type: "direct-tcp-v1" }, { type: "relay-v1" }],
        "hints-v1": [
          { type: "direct-tcp-v1", priority: 0, hostname: "10.0.0.2", port: 5000 },
          { type: "relay-v1", hints: [{ type: "direct-tcp-v1", priority: 0, hostname: "127.0.0.1", port: 4001 }] },
        ],
      },
    });
    expect(json(encodeTransit([], []))).toMatchObject({ transit: { "hints-v1": [] } });
  });

  test("offers, answers, errors and the final ack", () => {
    expect(json(encodeOffer({ kind: "file", name: "a b.txt", size: 3 }))).toEqual(
      json(utf8('{"offer": {"file": {"filename": "a b.txt", "filesize": 3}}}')),
    );
    expect(json(encodeOffer({ kind: "message", text: "hi" }))).toEqual({ offer: { message: "hi" } });
    expect(
      json(
        encodeOffer({ kind: "directory", name: "d", mode: "zipfile/deflated", zipSize: 1, numBytes: 2, numFiles: 3 }),
      ),
    ).toEqual({
      offer: { directory: { mode: "zipfile/deflated", dirname: "d", zipsize: 1, numbytes: 2, numfiles: 3 } },
    });
    expect(json(encodeAnswer("file_ack"))).toEqual({ answer: { file_ack: "ok" } });
    expect(json(encodeAnswer("message_ack"))).toEqual({ answer: { message_ack: "ok" } });
    expect(json(encodeError("transfer rejected"))).toEqual({ error: "transfer rejected" });
    expect(json(encodeTransitAck("ab"))).toEqual(json(utf8('{"ack": "ok", "sha256": "ab"}')));
  });

  test("the ack parsed back: ok with its digest, or what the receiver said", () => {
    expect(parseTransitAck(utf8('{"ack": "ok", "sha256": "AB"}'))).toEqual({ ok: true, sha256: "ab", said: "ok" });
    expect(parseTransitAck(utf8('{"ack": "failed"}'))).toEqual({ ok: false, said: "failed" });
    expect(() => parseTransitAck(utf8("ok"))).toThrow(ProtocolError);
  });
});

test("a deeply nested error or ack from the peer is read without a crash (only text is taken)", () => {
  const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
  const bytes = (text: string) => new TextEncoder().encode(text);
  expect(parsePlainMessage(bytes(`{"error":${deep}}`)).error).toBe("(an error that is not text)");
  expect(parseTransitAck(bytes(`{"ack":${deep}}`))).toEqual({ ok: false, said: "(an ack that is not text)" });
  expect(parsePlainMessage(bytes('{"error":"transfer rejected"}')).error).toBe("transfer rejected");
});

test("a peer's hints make us dial at most MAX_DIRECT_TARGETS direct and MAX_RELAY_TARGETS relay addresses in all", () => {
  const tcp = (i: number) => ({ type: "direct-tcp-v1", hostname: `10.0.${i >> 8}.${i & 255}`, port: 4000 });
  const hints = [
    ...Array.from({ length: 40 }, (_, i) => tcp(i)),
    ...Array.from({ length: 24 }, (_, i) => ({
      type: "relay-v1",
      hints: Array.from({ length: 16 }, (_, j) => tcp(i * 16 + j)),
    })),
  ];
  const parsed = parseHints({ "abilities-v1": [], "hints-v1": hints });
  expect(parsed.direct).toHaveLength(MAX_DIRECT_TARGETS);
  expect(parsed.relays).toHaveLength(MAX_RELAY_TARGETS);
});
