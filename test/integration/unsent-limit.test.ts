/**
 * The kernel's unsent bytes on a long path (TCP_NOTSENT_LOWAT): the scheduler caps them once the
 * send window's round trip reads as long, leaves a short path's socket as it was, and lifts the
 * cap if the path turns out short; a real socket on 127.0.0.1 reads the cap back.
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
import { LONG_PATH_UNSENT_BYTES } from "../../src/session/limits.ts";
import { type BulkFrame, Scheduler } from "../../src/session/scheduler.ts";
import { ManualClock } from "../memory-sessions.ts";

const PAYLOAD = 256 * 1024;

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

/** A scheduler with DATA always ready, one frame ACKed after each of `roundTripsMs` (the clock advances that much first): the caps it asked for. */
function sendWithRoundTrips(roundTripsMs: number[]): number[] {
  const clock = new ManualClock();
  const conn = new CapRecordingConnection();
  const scheduler = new Scheduler(conn, clock, {
    nextBulk: (): BulkFrame => ({ frame: new Uint8Array(DATA_HEADER_BYTES + PAYLOAD), written() {} }),
    bulkAllowed: () => true,
    wrote() {},
    overflowed() {},
  });
  scheduler.pump();
  let acked = 0;
  for (const ms of roundTripsMs) {
    clock.advance(ms); // also runs the turn's continuation, which writes more
    acked += PAYLOAD;
    scheduler.acked(acked);
  }
  scheduler.stop();
  return conn.caps;
}

test("a long path's socket gets the unsent cap at its first ACK; a short path's is left alone", () => {
  expect(sendWithRoundTrips([40])).toEqual([LONG_PATH_UNSENT_BYTES]);
  expect(sendWithRoundTrips([40, 40, 40])).toEqual([LONG_PATH_UNSENT_BYTES]);
  expect(sendWithRoundTrips([1, 1, 1])).toEqual([]);
});

test("a path that read as long (a cold receiver's first ACK) and then as short gets the cap lifted", () => {
  expect(sendWithRoundTrips([12, 0, 1, 1])).toEqual([LONG_PATH_UNSENT_BYTES, 0]);
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
