/**
 * FrameDecoder and frame encoders: golden vectors, every split of a stream holding every frame
 * type, one byte at a time, coalesced, limits checked as soon as the header arrives, the decoder
 * staying failed, truncated input, and a bounded seeded fuzz run.
 */

import { describe, expect, test } from "bun:test";
import {
  COUNTER_BODY_BYTES,
  type ControlFrame,
  encodeDataHeader,
  encodeFrame,
  encodeMessage,
  type Frame,
  FrameDecoder,
  FrameType,
  HEADER_BYTES,
  isKnownFrameType,
  MAX_CHAT_BYTES,
  MAX_CONTROL_BYTES,
  MAX_DATA_PAYLOAD_BYTES,
  MAX_FRAME_BYTES,
  type Message,
  makeHello,
  maxBodyBytes,
  minBodyBytes,
  ProtocolError,
  type ProtocolErrorCode,
  writeDataHeader,
} from "../../src/protocol/index.ts";
import { seededRandom } from "../seeded-random.ts";
import { concat, hex, thrownBy, toHex } from "./helpers.ts";

function u32be(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value);
  return b;
}

function expectProtocolError(fn: () => unknown, code: ProtocolErrorCode): ProtocolError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe(code);
  return err as ProtocolError;
}

function bytesOf(length: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

// ---- A stream holding every frame type ------------------------------------------------------

type Expected =
  | { readonly type: ControlFrame["type"]; readonly payload: Uint8Array }
  | { readonly type: typeof FrameType.Data; readonly transferId: number; readonly payload: Uint8Array };

const sample = {
  hello: makeHello("0123456789abcdef", "alice", ["resume"]),
  chat: { kind: "chat", text: "hi ☃ 😀" },
  emptyChat: { kind: "chat", text: "" }, // a frame with no body
  offer: { kind: "offer", id: 1, name: "report.pdf", size: 300, algo: "sha256" },
  accept: { kind: "accept", id: 1, offset: 0 },
  start: { kind: "start", id: 1, offset: 0 },
  reject: { kind: "reject", id: 3, code: "E_REJECTED" },
  end: { kind: "end", id: 1, bytes: 300, algo: "sha256", digest: "ab".repeat(32) },
  received: { kind: "received", id: 1, bytes: 300, ok: true },
  cancel: { kind: "cancel", id: 5, code: "E_WRITE", detail: "EFBIG" },
  folderEnd: { kind: "folderEnd", group: 5, code: "E_CANCELLED", detail: "folder" },
  ack: { kind: "ack", bytes: 2 ** 40 + 7 },
  ping: { kind: "ping", token: hex("0102030405060708") },
  pong: { kind: "pong", token: hex("0102030405060708") },
  ready: { kind: "ready" },
  share: { kind: "share", share: new Uint8Array(32).fill(7) },
  confirm: { kind: "confirm", mac: new Uint8Array(32).fill(9) },
  bye: { kind: "bye", reason: "exit" },
  leaving: { kind: "leaving", reason: "exit" },
} satisfies Record<string, Message>;

const controlMessages: readonly Message[] = Object.values(sample);

/** The stream as parts (each a whole frame or a DATA header or payload) and what must come out. */
function buildStream(): { parts: Uint8Array[]; expected: Expected[] } {
  const parts: Uint8Array[] = [];
  const expected: Expected[] = [];
  const control = (m: Message) => {
    const frame = encodeMessage(m);
    parts.push(frame);
    expected.push({ type: frame[4] as ControlFrame["type"], payload: frame.slice(5) });
  };
  const data = (transferId: number, payload: Uint8Array) => {
    parts.push(encodeDataHeader(transferId, payload.length), payload);
    expected.push({ type: FrameType.Data, transferId, payload });
  };
  control(sample.hello);
  control(sample.share);
  control(sample.confirm);
  control(sample.chat);
  control(sample.offer);
  control(sample.accept);
  control(sample.start);
  data(1, bytesOf(150, 1));
  control(sample.emptyChat); // between two DATA frames of the same id
  data(1, bytesOf(100, 2));
  data(0xffff_ffff, bytesOf(40, 3)); // the largest id: must come out unsigned
  data(1, new Uint8Array(0)); // empty DATA: no bytes, must not disturb what follows
  control(sample.ping);
  data(1, bytesOf(50, 4));
  control(sample.end);
  control(sample.received);
  control(sample.reject);
  control(sample.cancel);
  control(sample.folderEnd);
  control(sample.ack);
  control(sample.pong);
  control(sample.ready);
  control(sample.leaving);
  control(sample.bye);
  return { parts, expected };
}

/**
 * Merges adjacent DATA pieces of one id and drops empty ones, so that a stream decoded in any
 * split compares equal to the frame list it was built from (the decoder may cut one DATA frame
 * into several pieces; adjacent DATA frames of one id mean the same bytes on the wire).
 */
function normalize(frames: readonly (Frame | Expected)[]): Expected[] {
  const out: Expected[] = [];
  for (const f of frames) {
    if (f.type !== FrameType.Data) {
      out.push({ type: f.type, payload: Uint8Array.from(f.payload) });
      continue;
    }
    const transferId = (f as { transferId: number }).transferId;
    if (f.payload.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.type === FrameType.Data && last.transferId === transferId) {
      out[out.length - 1] = { type: FrameType.Data, transferId, payload: concat([last.payload, f.payload]) };
    } else {
      out.push({ type: FrameType.Data, transferId, payload: Uint8Array.from(f.payload) });
    }
  }
  return out;
}

function dataById(frames: readonly (Frame | Expected)[]): Map<number, string> {
  const byId = new Map<number, Uint8Array[]>();
  for (const f of frames) {
    if (f.type !== FrameType.Data) continue;
    const id = (f as { transferId: number }).transferId;
    byId.set(id, [...(byId.get(id) ?? []), f.payload]);
  }
  return new Map([...byId].map(([id, parts]) => [id, toHex(concat(parts))]));
}

function controlOnly(frames: readonly (Frame | Expected)[]): { type: number; payload: string }[] {
  return frames.filter((f) => f.type !== FrameType.Data).map((f) => ({ type: f.type, payload: toHex(f.payload) }));
}

/** Decodes `chunks` in order and checks what came out against `expected`. */
function expectDecodes(chunks: readonly Uint8Array[], expected: readonly Expected[], what: string): void {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (const chunk of chunks) frames.push(...decoder.push(chunk));
  expect(controlOnly(frames), `control frames, ${what}`).toEqual(controlOnly(expected));
  expect(dataById(frames), `DATA bytes per id, ${what}`).toEqual(dataById(expected));
  expect(normalize(frames), `frame order, ${what}`).toEqual(normalize(expected));
  expect(decoder.atFrameBoundary, `at a frame boundary after ${what}`).toBe(true);
}

describe("FrameDecoder golden vectors", () => {
  test("decodes a CHAT frame split at every byte boundary", () => {
    const bytes = hex("00000003 02 6869"); // golden: u32be len (type+body), type CHAT, "hi"
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new FrameDecoder();
      const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      expect(frames, `cut at ${cut}`).toEqual([{ type: FrameType.Chat, payload: Uint8Array.of(0x68, 0x69) }]);
    }
  });

  test("encodes a CHAT frame to the golden bytes", () => {
    expect(toHex(encodeFrame(FrameType.Chat, Uint8Array.of(0x68, 0x69)))).toBe("00000003026869");
    expect(toHex(encodeMessage({ kind: "chat", text: "hi" }))).toBe("00000003026869");
  });

  test("decodes a DATA frame with id 0xffffffff as an unsigned id", () => {
    // golden: len 7 = type + u32 id + "hi"; id all ones must not come out as -1
    const frames = new FrameDecoder().push(hex("00000007 06 ffffffff 6869"));
    expect(frames).toEqual([{ type: FrameType.Data, transferId: 0xffff_ffff, payload: Uint8Array.of(0x68, 0x69) }]);
  });

  test.each([
    [1, 2, "00000007 06 00000001"],
    [0xffff_ffff, 0, "00000005 06 ffffffff"],
    [0x01020304, MAX_DATA_PAYLOAD_BYTES, "00100005 06 01020304"],
  ])("encodeDataHeader(%p, %p) is %s", (id, payloadBytes, golden) => {
    expect(toHex(encodeDataHeader(id, payloadBytes))).toBe(golden.replace(/\s+/g, ""));
  });

  test("writeDataHeader writes at the offset and refuses a payload over MAX_DATA_PAYLOAD_BYTES", () => {
    const target = new Uint8Array(12).fill(0xee);
    writeDataHeader(target, 2, 9, 3);
    expect(toHex(target)).toBe("eeee" + "00000008" + "06" + "00000009" + "ee");
    expect(() => writeDataHeader(target, 0, 1, MAX_DATA_PAYLOAD_BYTES + 1)).toThrow(RangeError);
    expect(() => encodeDataHeader(1, MAX_DATA_PAYLOAD_BYTES + 1)).toThrow(RangeError);
  });
});

describe("FrameDecoder on a stream of every frame type", () => {
  const { parts, expected } = buildStream();
  const stream = concat(parts);

  test("the stream holds every frame type", () => {
    const types = new Set(expected.map((f) => f.type));
    expect([...types].sort((a, b) => a - b)).toEqual(Object.values(FrameType).sort((a, b) => a - b));
  });

  test("decodes the whole stream coalesced in one chunk", () => {
    expectDecodes([stream], expected, "one chunk");
  });

  test("decodes the stream split into two pushes at every byte boundary", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expectDecodes([stream.subarray(0, cut), stream.subarray(cut)], expected, `cut at ${cut}`);
    }
  });

  test("decodes the stream pushed one byte at a time", () => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    expectDecodes(chunks, expected, "one byte at a time");
  });

  test("decodes the stream pushed as the separate parts it was written in (header, then payload)", () => {
    expectDecodes(parts, expected, "written parts");
  });

  test("DATA pieces are views of the pushed chunk, not copies", () => {
    const payload = bytesOf(64, 9);
    const chunk = concat([encodeDataHeader(4, payload.length), payload]);
    const [piece, ...rest] = new FrameDecoder().push(chunk);
    expect(rest).toEqual([]);
    expect(piece?.type).toBe(FrameType.Data);
    expect(piece?.payload.buffer).toBe(chunk.buffer);
    expect(piece?.payload.byteOffset).toBe(9);
    expect(piece?.payload.length).toBe(64);
  });

  test("a DATA frame split across pushes comes out as several pieces of one id, in order", () => {
    const payload = bytesOf(30, 10);
    const bytes = concat([encodeDataHeader(6, payload.length), payload]);
    const d = new FrameDecoder();
    const a = d.push(bytes.subarray(0, 19)); // header + 10 payload bytes
    expect(d.atFrameBoundary).toBe(false);
    const b = d.push(bytes.subarray(19));
    expect(a).toEqual([{ type: FrameType.Data, transferId: 6, payload: payload.subarray(0, 10) }]);
    expect(b).toEqual([{ type: FrameType.Data, transferId: 6, payload: payload.subarray(10) }]);
    expect(d.atFrameBoundary).toBe(true);
  });

  test("control frame payloads are copies: reusing the chunk afterwards does not change them", () => {
    const chunk = encodeMessage({ kind: "chat", text: "hello" });
    const [frame] = new FrameDecoder().push(chunk);
    chunk.fill(0);
    expect(new TextDecoder().decode(frame?.payload)).toBe("hello");
  });
});

describe("FrameDecoder limits", () => {
  test("HTTP request bytes are E_FRAME_TOO_LARGE as soon as the 5-byte header arrives", () => {
    const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // Byte by byte: the error must come by the 5th byte (the whole header), never later.
    const d = new FrameDecoder();
    let failedAt = -1;
    for (let i = 0; i < request.length && failedAt < 0; i++) {
      try {
        expect(d.push(request.subarray(i, i + 1))).toEqual([]);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).code).toBe("E_FRAME_TOO_LARGE");
        failedAt = i;
      }
    }
    expect(failedAt).toBeGreaterThanOrEqual(0);
    expect(failedAt).toBeLessThan(HEADER_BYTES);

    expectProtocolError(() => new FrameDecoder().push(request.subarray(0, HEADER_BYTES)), "E_FRAME_TOO_LARGE");
    expectProtocolError(() => new FrameDecoder().push(request), "E_FRAME_TOO_LARGE");
  });

  test.each(Object.entries(FrameType))(
    "a length of MAX_FRAME_BYTES+1 with type %s is E_FRAME_TOO_LARGE from the header alone",
    (_name, type) => {
      const header = concat([u32be(MAX_FRAME_BYTES + 1), Uint8Array.of(type)]);
      expectProtocolError(() => new FrameDecoder().push(header), "E_FRAME_TOO_LARGE");
    },
  );

  test("a length of 0xffffffff is E_FRAME_TOO_LARGE (read unsigned)", () => {
    expectProtocolError(() => new FrameDecoder().push(hex("ffffffff 02")), "E_FRAME_TOO_LARGE");
  });

  test("the largest DATA frame is accepted and one byte more is E_FRAME_TOO_LARGE", () => {
    const largest = 1 + 4 + MAX_DATA_PAYLOAD_BYTES;
    const ok = new FrameDecoder();
    expect(ok.push(concat([u32be(largest), Uint8Array.of(FrameType.Data), u32be(1)]))).toEqual([]);
    expect(ok.atFrameBoundary).toBe(false);
    const tooLarge = concat([u32be(largest + 1), Uint8Array.of(FrameType.Data)]);
    expectProtocolError(() => new FrameDecoder().push(tooLarge), "E_FRAME_TOO_LARGE");
  });

  const unknownTypes = [0x00, Math.max(...Object.values(FrameType)) + 1, 0x7f, 0xff];

  test.each(unknownTypes)("type %i is E_UNKNOWN_TYPE", (type) => {
    const frame = concat([u32be(3), Uint8Array.of(type, 0x7b, 0x7d)]);
    expectProtocolError(() => new FrameDecoder().push(frame), "E_UNKNOWN_TYPE");
    expectProtocolError(() => new FrameDecoder().push(frame.subarray(0, 5)), "E_UNKNOWN_TYPE");
  });

  test("a length of 0 (no type byte) is E_FRAME_TOO_SMALL", () => {
    expectProtocolError(() => new FrameDecoder().push(hex("00000000 02")), "E_FRAME_TOO_SMALL");
  });

  test.each([
    ["ACK with a 7-byte body", "E_FRAME_TOO_SMALL", FrameType.Ack, COUNTER_BODY_BYTES - 1],
    ["ACK with a 9-byte body", "E_FRAME_TOO_LARGE", FrameType.Ack, COUNTER_BODY_BYTES + 1],
    ["PING with a 7-byte body", "E_FRAME_TOO_SMALL", FrameType.Ping, COUNTER_BODY_BYTES - 1],
    ["PONG with an empty body", "E_FRAME_TOO_SMALL", FrameType.Pong, 0],
    ["PONG with a 9-byte body", "E_FRAME_TOO_LARGE", FrameType.Pong, COUNTER_BODY_BYTES + 1],
    ["DATA without a whole transfer id", "E_FRAME_TOO_SMALL", FrameType.Data, 3],
    ["HELLO with a 1-byte body", "E_FRAME_TOO_SMALL", FrameType.Hello, 1],
    ["BYE with an empty body", "E_FRAME_TOO_SMALL", FrameType.Bye, 0],
    ["CHAT over MAX_CHAT_BYTES", "E_FRAME_TOO_LARGE", FrameType.Chat, MAX_CHAT_BYTES + 1],
    ["OFFER over MAX_CONTROL_BYTES", "E_FRAME_TOO_LARGE", FrameType.Offer, MAX_CONTROL_BYTES + 1],
    ["END over MAX_CONTROL_BYTES", "E_FRAME_TOO_LARGE", FrameType.End, MAX_CONTROL_BYTES + 1],
  ] as const)("%s is %s from the header alone", (_what, code, type, bodyBytes) => {
    const header = concat([u32be(bodyBytes + 1), Uint8Array.of(type)]);
    expectProtocolError(() => new FrameDecoder().push(header), code);
  });

  test("an ACK with a 7-byte body built by encodeFrame is E_FRAME_TOO_SMALL", () => {
    expectProtocolError(
      () => new FrameDecoder().push(encodeFrame(FrameType.Ack, new Uint8Array(7))),
      "E_FRAME_TOO_SMALL",
    );
  });

  test("a CHAT of exactly MAX_CHAT_BYTES is accepted, one byte more is E_FRAME_TOO_LARGE", () => {
    const body = new Uint8Array(MAX_CHAT_BYTES).fill(0x61);
    const frames = new FrameDecoder().push(encodeFrame(FrameType.Chat, body));
    expect(frames.length).toBe(1);
    expect(frames[0]?.payload.length).toBe(MAX_CHAT_BYTES);
    const tooLarge = encodeFrame(FrameType.Chat, new Uint8Array(MAX_CHAT_BYTES + 1));
    expectProtocolError(() => new FrameDecoder().push(tooLarge), "E_FRAME_TOO_LARGE");
  });

  test("a bad header after a good frame in the same chunk: the good frame comes out, then the error", () => {
    const chunk = concat([hex("00000003 02 6869"), hex("00000001 ff")]);
    const d = new FrameDecoder();
    expect(d.push(chunk)).toEqual([{ type: FrameType.Chat, payload: Uint8Array.of(0x68, 0x69) }]);
    expect(d.error?.code).toBe("E_UNKNOWN_TYPE");
    expectProtocolError(() => d.push(hex("00")), "E_UNKNOWN_TYPE");
  });
});

describe("FrameDecoder after an error", () => {
  test.each([
    ["E_FRAME_TOO_LARGE", hex("47455420 2f")],
    ["E_UNKNOWN_TYPE", hex("00000001 ff")],
    ["E_FRAME_TOO_SMALL", hex("00000000 02")],
  ] as const)("after %s every later push throws the same error", (code, bad) => {
    const d = new FrameDecoder();
    const first = expectProtocolError(() => d.push(bad), code);
    for (const later of [hex("00000003 02 6869"), new Uint8Array(0), hex("00")]) {
      expect(thrownBy(() => d.push(later))).toBe(first);
    }
  });
});

describe("FrameDecoder on truncated input", () => {
  test.each(controlMessages.map((m) => [m.kind, m] as const))(
    "every proper prefix of a %s frame emits nothing and is not at a frame boundary",
    (_kind, message) => {
      const frame = encodeMessage(message);
      for (let cut = 1; cut < frame.length; cut++) {
        const d = new FrameDecoder();
        expect(d.push(frame.subarray(0, cut)), `prefix of ${cut} bytes`).toEqual([]);
        expect(d.atFrameBoundary, `prefix of ${cut} bytes`).toBe(false);
      }
    },
  );

  test("a fresh decoder and one after whole frames are at a frame boundary", () => {
    const d = new FrameDecoder();
    expect(d.atFrameBoundary).toBe(true);
    d.push(new Uint8Array(0));
    expect(d.atFrameBoundary).toBe(true);
    d.push(encodeMessage({ kind: "bye", reason: "" }));
    expect(d.atFrameBoundary).toBe(true);
  });

  test("a truncated DATA frame is not at a frame boundary, even between header and id", () => {
    const frame = concat([encodeDataHeader(2, 4), hex("01020304")]);
    for (let cut = 1; cut < frame.length; cut++) {
      const d = new FrameDecoder();
      const pieces = d.push(frame.subarray(0, cut));
      expect(d.atFrameBoundary, `prefix of ${cut} bytes`).toBe(false);
      expect(
        pieces.reduce((n, p) => n + p.payload.length, 0),
        `prefix of ${cut} bytes`,
      ).toBe(Math.max(0, cut - 9));
    }
  });

  test("an empty DATA frame is at a frame boundary only after its id", () => {
    const frame = encodeDataHeader(2, 0);
    const d = new FrameDecoder();
    expect(d.push(frame.subarray(0, 5))).toEqual([]);
    expect(d.atFrameBoundary).toBe(false);
    expect(d.push(frame.subarray(5))).toEqual([]);
    expect(d.atFrameBoundary).toBe(true);
  });
});

describe("FrameDecoder with an empty CHAT frame", () => {
  test("is emitted at once when it ends the chunk", () => {
    const d = new FrameDecoder();
    expect(d.push(hex("00000001 02"))).toEqual([{ type: FrameType.Chat, payload: new Uint8Array(0) }]);
    expect(d.atFrameBoundary).toBe(true);
  });

  test("is emitted by the push that completes its header", () => {
    const d = new FrameDecoder();
    expect(d.push(hex("000000"))).toEqual([]);
    expect(d.push(hex("0102"))).toEqual([{ type: FrameType.Chat, payload: new Uint8Array(0) }]);
  });

  test("several in a row come out one each, between other frames", () => {
    const frames = new FrameDecoder().push(hex("00000001 02  00000001 02  00000002 02 61  00000001 02"));
    expect(frames.map((f) => toHex(f.payload))).toEqual(["", "", "61", ""]);
  });
});

describe("FrameDecoder on random garbage (seeded)", () => {
  /** Bytes that look like frames often enough to get past the header: small lengths, near-valid types. */
  function garbage(rand: () => number): Uint8Array {
    const parts: Uint8Array[] = [];
    const count = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < count; i++) {
      const mode = rand();
      if (mode < 0.15) {
        parts.push(bytesOf(Math.floor(rand() * 64), Math.floor(rand() * 2 ** 32)));
        continue;
      }
      const type = Math.floor(rand() * 16);
      const bodyBytes = mode < 0.9 ? Math.floor(rand() * 24) : Math.floor(rand() * 2 * MAX_CONTROL_BYTES);
      parts.push(u32be(bodyBytes + 1), Uint8Array.of(type));
      // Sometimes less body than declared, so the run ends mid-frame.
      const sent = rand() < 0.9 ? bodyBytes : Math.floor(rand() * bodyBytes);
      parts.push(bytesOf(Math.min(sent, 256), Math.floor(rand() * 2 ** 32)));
    }
    return concat(parts);
  }

  test("throws only ProtocolError, and whatever it returns is within the limits", () => {
    const rand = seededRandom(0x5eed);
    let errors = 0;
    let frameCount = 0;
    for (let run = 0; run < 2000; run++) {
      const input = garbage(rand);
      const d = new FrameDecoder();
      let at = 0;
      let out = 0;
      try {
        while (at < input.length) {
          const n = 1 + Math.floor(rand() * 40);
          for (const f of d.push(input.subarray(at, at + n))) {
            frameCount++;
            out += f.payload.length;
            expect(isKnownFrameType(f.type), `run ${run}: type ${f.type}`).toBe(true);
            if (f.type !== FrameType.Data) {
              expect(f.payload.length, `run ${run}`).toBeLessThanOrEqual(maxBodyBytes(f.type));
              expect(f.payload.length, `run ${run}`).toBeGreaterThanOrEqual(minBodyBytes(f.type));
            }
          }
          at += n;
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        errors++;
      }
      expect(out, `run ${run}: more payload out than bytes in`).toBeLessThanOrEqual(input.length);
    }
    // The generator must exercise both paths, or this test proves nothing.
    expect(errors).toBeGreaterThan(100);
    expect(frameCount).toBeGreaterThan(100);
  });

  test("uniform random bytes throw only ProtocolError", () => {
    const rand = seededRandom(42);
    for (let run = 0; run < 500; run++) {
      const input = bytesOf(Math.floor(rand() * 200), Math.floor(rand() * 2 ** 32));
      try {
        new FrameDecoder().push(input);
      } catch (err) {
        expect(err, `run ${run}`).toBeInstanceOf(ProtocolError);
      }
    }
  });
});
