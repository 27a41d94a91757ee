/**
 * The kernel's unsent bytes and the size of DATA frames while the path is not known yet
 * (TCP_NOTSENT_LOWAT, SendWindow.unsentCap / frameBytes): the scheduler caps the unsent bytes
 * from the first DATA frame, lifts the cap at the first ACK that shows a short path, keeps it
 * on a long one; with a peer that ACKs early the window starts young, with small frames that
 * grow as ACKs come; a real socket on 127.0.0.1 reads the cap back.
 */

import { afterEach, expect, test } from "bun:test";
import {
  type Connection,
  type ConnectionEvents,
  dial,
  type Listener,
  listen,
  type SocketConnection,
} from "../../src/net/index.ts";
import { notSentLowWater } from "../../src/net/tcp-options.ts";
import { DATA_HEADER_BYTES } from "../../src/protocol/index.ts";
import { CHUNK_BYTES, LONG_PATH_UNSENT_BYTES } from "../../src/session/limits.ts";
import { type BulkFrame, Scheduler } from "../../src/session/scheduler.ts";
import { SHORT_MIN_BYTES, YOUNG_WINDOW_BYTES } from "../../src/session/send-window.ts";
import { ManualClock } from "../memory-sessions.ts";

/** Takes every write at once and records each cap asked for. */
class CapRecordingConnection implements Connection {
  readonly remoteAddress = "memory";
  readonly queuedBytes = 0;
  readonly closed = false;
  readonly caps: number[] = [];
  write(_bytes: Uint8Array): void {}
  limitUnsent(bytes: number): boolean {
    this.caps.push(bytes);
    return true;
  }
  end(): void {}
  destroy(): void {}
  setEvents(_events: ConnectionEvents): void {}
}

/**
 * A scheduler with DATA always ready (frames as large as it asks for, CHUNK_BYTES at most);
 * after each of `roundTripsMs` (the clock advances that much first) everything sent is ACKed;
 * with `chatting`, a chat line is sent at the start of each.
 * @returns the caps it asked for, the payload of every frame, and its window at the start
 */
function sendWithRoundTrips(
  roundTripsMs: number[],
  peerAcksEarly = false,
  chatting = false,
): { caps: number[]; payloads: number[]; firstWindow: number } {
  const clock = new ManualClock();
  const conn = new CapRecordingConnection();
  const payloads: number[] = [];
  const scheduler = new Scheduler(
    conn,
    clock,
    {
      nextBulk: (max?: number): BulkFrame => {
        const payload = Math.min(CHUNK_BYTES, max ?? CHUNK_BYTES);
        payloads.push(payload);
        return { frame: new Uint8Array(DATA_HEADER_BYTES + payload), written() {} };
      },
      bulkAllowed: () => true,
      wrote() {},
      overflowed() {},
    },
    undefined,
    { peerAcksEarly },
  );
  const firstWindow = scheduler.windowBytes;
  scheduler.pump();
  let sent = 0;
  for (const ms of roundTripsMs) {
    // A line each round trip keeps us chatting (a line in the last CHAT_ACTIVE_MS).
    if (chatting) scheduler.send({ kind: "chat", text: "still here" });
    sent = payloads.reduce((a, b) => a + b, 0);
    clock.advance(ms); // also runs the turn's continuation, which writes more
    scheduler.acked(sent);
  }
  scheduler.stop();
  return { caps: conn.caps, payloads, firstWindow };
}

test("the unsent cap is on from the first DATA frame and lifted at the first ACK that shows a short path", () => {
  const { caps } = sendWithRoundTrips([1, 1, 1]);
  expect(caps).toHaveLength(2);
  expect(caps[0]).toBeGreaterThan(0);
  expect(caps[0]).toBeLessThanOrEqual(LONG_PATH_UNSENT_BYTES / 2);
  expect(caps[1]).toBe(0);
});

test("a long path keeps the cap from the first frame, growing with the window up to LONG_PATH_UNSENT_BYTES", () => {
  const { caps } = sendWithRoundTrips(Array(12).fill(40));
  expect(caps.length).toBeGreaterThan(1);
  expect(caps.every((c) => c > 0 && c <= LONG_PATH_UNSENT_BYTES)).toBe(true);
  expect(caps).toEqual([...caps].sort((a, b) => a - b)); // it only grows here
  expect(caps.at(-1) as number).toBeGreaterThan(caps[0] as number);
});

test("a session that sends no DATA (chat, ACKs for the peer's transfer) never caps its socket's unsent bytes", () => {
  const clock = new ManualClock();
  const conn = new CapRecordingConnection();
  let asked = 0;
  const scheduler = new Scheduler(conn, clock, {
    nextBulk: () => {
      asked++;
      return undefined; // no transfer of ours
    },
    bulkAllowed: () => true,
    wrote() {},
    overflowed() {},
  });
  scheduler.send({ kind: "chat", text: "only chat here" });
  scheduler.consumed(1024 * 1024, true); // an ACK for the peer's DATA
  clock.advance(40);
  scheduler.send({ kind: "chat", text: "and more" });
  scheduler.stop();
  expect(asked).toBeGreaterThan(0); // the scheduler did look for DATA
  expect(conn.caps).toEqual([]);
});

test("a cold receiver's slow first ACK does not read as a long path: the cap is lifted at the next", () => {
  const { caps } = sendWithRoundTrips([12, 1, 1]);
  expect(caps).toHaveLength(2);
  expect(caps[0]).toBeLessThan(LONG_PATH_UNSENT_BYTES); // as set at the first frame, not raised by the 12 ms
  expect(caps[1]).toBe(0);
});

test("with a peer that ACKs early the window starts young: small frames that grow as ACKs come", () => {
  // 8 ms round trips: a long path that carries a turn's 512 KiB a round (64 MB/s), fast enough
  // that frames are not held to 10 ms of its rate (send-window.ts FRAME_MS; at 40 ms a round
  // this one would be a 13 MB/s path).
  const { payloads, firstWindow } = sendWithRoundTrips(Array(12).fill(8), true);
  expect(firstWindow).toBe(YOUNG_WINDOW_BYTES);
  expect(payloads[0]).toBeLessThanOrEqual(YOUNG_WINDOW_BYTES);
  expect(payloads).toEqual([...payloads].sort((a, b) => a - b)); // never shrink on the way up
  expect(payloads.at(-1)).toBe(CHUNK_BYTES);
  // Without the peer's early ACKs the window starts where it always did (its ACKs come every 192 KiB).
  expect(sendWithRoundTrips([40], false).firstWindow).toBe(SHORT_MIN_BYTES);
});

test("while we chat on a long path, frames are at most half the unsent cap, so the kernel takes each whole", () => {
  const { caps, payloads } = sendWithRoundTrips(Array(24).fill(40), true, true);
  // (One turn's share while chatting, CHAT_TURN_DATA_BYTES, per round trip here: the window
  // stays near its floor, whose cap is below LONG_PATH_UNSENT_BYTES.)
  const cap = caps.at(-1) as number;
  expect(cap).toBeGreaterThan(0);
  expect(payloads.at(-1)).toBe(cap / 2);
  expect(payloads.every((p) => p <= LONG_PATH_UNSENT_BYTES / 2)).toBe(true);
  // Without chat a path fast enough gets whole records (the test above).
  expect(sendWithRoundTrips(Array(12).fill(8), true).payloads.at(-1)).toBe(CHUNK_BYTES);
});

test("a young window on a short path goes to whole frames at the first clean ACK", () => {
  const { payloads } = sendWithRoundTrips([0.2, 0.2, 0.2], true);
  expect(payloads[0]).toBeLessThanOrEqual(YOUNG_WINDOW_BYTES);
  expect(payloads.at(-1)).toBe(CHUNK_BYTES);
});

const listeners: Listener[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop();
});

test("a socket connection sets TCP_NOTSENT_LOWAT on its descriptor, and 0 clears it", async () => {
  if (process.platform !== "linux") return; // the option is Linux's
  const accepted = new Promise<SocketConnection>((resolve) => listeners.push(listen("127.0.0.1", 0, resolve)));
  const listener = listeners[0] as Listener;
  const dialed = await dial("127.0.0.1", listener.port);
  const other = await accepted;
  try {
    expect(dialed.fd).toBeGreaterThanOrEqual(0);
    expect(notSentLowWater(dialed.fd)).toBe(0); // the kernel's default: never set
    expect(dialed.limitUnsent(LONG_PATH_UNSENT_BYTES)).toBe(true);
    expect(notSentLowWater(dialed.fd)).toBe(LONG_PATH_UNSENT_BYTES);
    expect(notSentLowWater(other.fd)).toBe(0); // per socket
    expect(dialed.limitUnsent(0)).toBe(true);
    expect(notSentLowWater(dialed.fd)).toBe(0);
  } finally {
    dialed.destroy();
    other.destroy();
  }
});
