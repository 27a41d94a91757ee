/**
 * QueueBound (src/session/queue-bound.ts) on its own, on a path model, and through the
 * Scheduler: while we chat one way on a long path, DATA un-ACKed is held near the path's bytes
 * in flight plus a short queue, and a bound below the path grows again (no sinking).
 */

import { describe, expect, test } from "bun:test";
import type { Connection, ConnectionEvents } from "../../src/net/index.ts";
import { DATA_HEADER_BYTES } from "../../src/protocol/index.ts";
import { type PathFigures, QueueBound, TARGET_QUEUE_MS } from "../../src/session/queue-bound.ts";
import { type BulkFrame, Scheduler } from "../../src/session/scheduler.ts";
import { ManualClock } from "../memory-sessions.ts";

/** The path: 40 ms round trip, 100 MB/s (bytes per ms), so it holds 4 MB in flight. */
const RTT_MS = 40;
const RATE = 100_000;
const PATH_BYTES = RTT_MS * RATE;
const FLOOR = 1536 * 1024;

/** What a window of GAIN 1.25 gives on that path (the bound's ceiling). */
const WINDOW = 1.25 * PATH_BYTES;

/** The round trip a sender holding `unacked` un-ACKed sees: the path's, plus the queue beyond it. */
function rttWith(unacked: number, rate = RATE): number {
  return RTT_MS + Math.max(0, unacked - RTT_MS * rate) / rate;
}

/**
 * Rounds of a sender that keeps the bound full: each round's ACK carries the round trip of what
 * it holds; the rate is the path's (full) or what the bound delivers (below it).
 * @returns the bound after each round
 */
function rounds(q: QueueBound, count: number, startUnacked: number, rateSeen = RATE): number[] {
  let sent = startUnacked;
  let acked = 0;
  let now = 0;
  const figures = (rate: number): PathFigures => ({ window: WINDOW, minRttMs: RTT_MS, rate, floor: FLOOR });
  q.acked(acked, sent, undefined, figures(rateSeen), now); // starts at what is un-ACKed
  const bounds: number[] = [];
  for (let i = 0; i < count; i++) {
    const unacked = Math.min(q.bytes, WINDOW);
    const rtt = rttWith(unacked);
    now += rtt;
    acked = sent;
    sent = acked + unacked;
    q.acked(acked, sent, rtt, figures(Math.min(RATE, unacked / RTT_MS)), now);
    bounds.push(q.bytes);
  }
  return bounds;
}

describe("QueueBound on a path model", () => {
  test("from a full window (10 ms queued) it comes down to the path plus about TARGET_QUEUE_MS", () => {
    const bounds = rounds(new QueueBound(), 60, WINDOW);
    expect(bounds[0]).toBeLessThan(WINDOW);
    const last = bounds.at(-1) as number;
    expect(last).toBeGreaterThanOrEqual(PATH_BYTES); // the path stays full
    expect(rttWith(last) - RTT_MS).toBeLessThanOrEqual(2 * TARGET_QUEUE_MS);
  });

  test("never below the highest rate it was given x the path's round trip (the path stays full)", () => {
    const bounds = rounds(new QueueBound(), 60, WINDOW);
    expect(Math.min(...bounds)).toBeGreaterThanOrEqual(PATH_BYTES);
  });

  test("a bound below the path (no queue: round trips at the path's) grows again", () => {
    // Started at 2 MB with the rate that 2 MB delivers: a rate-based bound would stay there.
    const bounds = rounds(new QueueBound(), 80, 2_000_000, 2_000_000 / RTT_MS);
    expect(bounds[5] as number).toBeGreaterThan(2_000_000);
    expect(bounds.at(-1) as number).toBeGreaterThanOrEqual(PATH_BYTES);
  });

  test("within the floor and the window; Infinity until started and after a reset", () => {
    const q = new QueueBound();
    expect(q.bytes).toBe(Number.POSITIVE_INFINITY);
    const figures: PathFigures = { window: 3_000_000, minRttMs: RTT_MS, rate: 10_000, floor: FLOOR };
    q.acked(0, 5_000_000, undefined, figures, 0); // 5 MB un-ACKed: started at the window
    expect(q.bytes).toBe(3_000_000);
    q.reset();
    expect(q.bytes).toBe(Number.POSITIVE_INFINITY);
    q.acked(0, 100_000, undefined, figures, 0); // 100 KB un-ACKed: started at the floor
    expect(q.bytes).toBe(FLOOR);
    q.acked(100_000, 200_000, RTT_MS + 30, figures, 40); // a 30 ms queue: down, but not below the floor
    expect(q.bytes).toBe(FLOOR);
  });
});

describe("QueueBound's step", () => {
  const figures = (rate: number): PathFigures => ({ window: 6_000_000, minRttMs: RTT_MS, rate, floor: FLOOR });

  test("moves once a round (when what was un-ACKed at its start is ACKed), by at most a sixteenth", () => {
    const q = new QueueBound();
    q.acked(0, 5_000_000, undefined, figures(RATE), 0); // starts at 5 MB; the round ends at 5 MB ACKed
    q.acked(1_000_000, 6_000_000, RTT_MS + 30, figures(RATE), 10); // mid-round: a 30 ms queue, no move yet
    expect(q.bytes).toBe(5_000_000);
    q.acked(5_000_000, 7_000_000, RTT_MS + 30, figures(RATE), 40);
    // rate x (0.7 - 30) / 2 is -1.46 MB; a sixteenth of 5 MB is the most a round moves it.
    expect(q.bytes).toBe(5_000_000 - 5_000_000 / 16);
  });

  test("never below the highest rate of the last second x the path's round trip, though the rate fell since", () => {
    const q = new QueueBound();
    let sent = 5_000_000;
    q.acked(0, sent, undefined, figures(RATE), 0); // 100 MB/s: the path holds 4 MB
    let now = 0;
    for (let round = 0; round < 40; round++) {
      now += 45;
      q.acked(sent, sent + 1_000_000, RTT_MS + 30, figures(RATE / 2), now); // a 30 ms queue, half the rate
      sent += 1_000_000;
      if (now <= 900) expect(q.bytes).toBeGreaterThanOrEqual(RATE * RTT_MS);
    }
    // Past the second the higher rate is forgotten: the bound goes down to the rate now x the round trip.
    expect(q.bytes).toBe(Math.max(FLOOR, (RATE / 2) * RTT_MS));
  });
});

/** Takes every write at once. */
class InstantConnection implements Connection {
  readonly remoteAddress = "memory";
  readonly queuedBytes = 0;
  readonly closed = false;
  write(_bytes: Uint8Array): void {}
  end(): void {}
  destroy(): void {}
  setEvents(_events: ConnectionEvents): void {}
}

/**
 * A Scheduler always ready with DATA into the path model above (a frame's ACK comes back a round
 * trip after its write, the queue ahead of it included), 1 ms steps.
 * @returns `run(ms, chatEveryMs)`: the median over that span's milliseconds of the queue a byte
 *   written then waits behind (ms at the path's rate), and the bytes ACKed in it
 */
function longPathSender() {
  const clock = new ManualClock();
  /** The path's rate now, bytes per ms (a test may change it). */
  const path = { rate: RATE };
  let sent = 0;
  const pending: Array<{ end: number; due: number }> = [];
  let acked = 0;
  const scheduler = new Scheduler(
    new InstantConnection(),
    clock,
    {
      nextBulk(maxPayloadBytes: number): BulkFrame {
        const frame = new Uint8Array(DATA_HEADER_BYTES + maxPayloadBytes);
        return {
          frame,
          written: () => {
            sent += maxPayloadBytes;
            pending.push({ end: sent, due: clock.now() + rttWith(sent - acked, path.rate) });
          },
        };
      },
      bulkAllowed: () => true,
      wrote() {},
      overflowed() {},
    },
    undefined,
    { peerAcksEarly: true },
  );
  scheduler.pump();
  /** `peerBytesPerMs`: the peer's DATA arriving meanwhile (both ways), every ms. */
  const run = (ms: number, chatEveryMs = 0, peerBytesPerMs = 0) => {
    const rises: number[] = [];
    const ackedBefore = acked;
    for (let t = 1; t <= ms; t++) {
      if (chatEveryMs > 0 && t % chatEveryMs === 0) scheduler.send({ kind: "chat", text: "hi" });
      if (peerBytesPerMs > 0) scheduler.received(peerBytesPerMs);
      clock.advance(1);
      let last: { end: number; due: number } | undefined;
      while (pending.length > 0 && (pending[0] as { due: number }).due <= clock.now()) last = pending.shift();
      if (last) {
        acked = last.end;
        scheduler.acked(acked);
      }
      for (let turn = 0; turn < 8; turn++) clock.advance(0);
      const unacked = sent - acked;
      rises.push(rttWith(unacked, path.rate) - RTT_MS);
    }
    rises.sort((a, b) => a - b);
    return { riseMs: rises[rises.length >> 1] as number, ackedBytes: acked - ackedBefore };
  };
  return { scheduler, run, path };
}

describe("QueueBound through the Scheduler", () => {
  test("while we chat on a long path the queue ahead of a line is short and the path stays full", () => {
    const { scheduler, run } = longPathSender();
    run(3_000); // the start-up and the window's own rule (GAIN x rate x round trip)
    const before = run(1_000);
    // Not chatting: the window keeps a quarter more than the path, 10 ms of queue.
    expect(before.riseMs).toBeGreaterThan(5);
    const chatting = run(2_000, 15);
    const last = run(1_000, 15);
    expect(last.riseMs).toBeLessThanOrEqual(2 * TARGET_QUEUE_MS);
    // The path's rate all along: 100 MB/s for a second is 100 MB (ACKed in 1 ms steps).
    expect(last.ackedBytes).toBeGreaterThanOrEqual(0.97 * RATE * 1_000);
    expect(chatting.ackedBytes).toBeGreaterThanOrEqual(0.97 * RATE * 2_000);
    expect(scheduler.unackedBytes).toBeLessThan(scheduler.windowBytes);
    // Chat over: the window again (the queue of before).
    run(2_500);
    expect(run(1_000).riseMs).toBeGreaterThan(5);
  });

  test("not while the peer's DATA comes too: both ways the window follows a path that got faster", () => {
    const { run, path } = longPathSender();
    run(3_000);
    expect(run(2_000, 15).riseMs).toBeLessThanOrEqual(2 * TARGET_QUEUE_MS); // one way: the bound holds
    // Both ways no round trip is clean, so a bound would never move again: it must not apply
    // (neither started then nor kept from the one-way chat before).
    run(1_000, 15, 64);
    path.rate = 2 * RATE;
    run(3_000, 15, 64);
    const last = run(1_000, 15, 64);
    expect(last.ackedBytes).toBeGreaterThanOrEqual(0.9 * path.rate * 1_000);
  });
});
