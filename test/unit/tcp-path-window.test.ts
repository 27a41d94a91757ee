/**
 * The bench relay's TCP path model (bench/lib/tcp-path-window.ts) on a manual clock: the room
 * a Linux TCP stream would have in flight on a long path, round by round.
 */

import { describe, expect, test } from "bun:test";
import {
  PACING_BURST_MS,
  PACING_GAIN,
  PACING_SLOW_START_GAIN,
  TcpPathWindow,
} from "../../bench/lib/tcp-path-window.ts";

const MSS = 1448;
const RTT = 40;

/** Sends all the room there is each round trip and has it ACKed a round trip later. @returns bytes sent per round */
function rounds(window: TcpPathWindow, count: number, wanted = Number.POSITIVE_INFINITY): number[] {
  const sent: number[] = [];
  for (let i = 0; i < count; i++) {
    const now = i * RTT;
    const bytes = Math.min(window.room(now), wanted);
    window.sent(bytes, now);
    sent.push(bytes);
    window.acked(bytes);
  }
  return sent;
}

describe("TcpPathWindow", () => {
  test("starts at 10 segments and doubles a round trip (slow start) up to its cap", () => {
    const window = new TcpPathWindow({ mss: MSS, initialSegments: 10, capBytes: 4 * 2 ** 20, rttMs: RTT });
    const sent = rounds(window, 12);
    expect(sent[0]).toBe(10 * MSS);
    expect(sent[1]).toBe(20 * MSS);
    expect(sent[5]).toBe(320 * MSS);
    expect(Math.max(...sent)).toBe(4 * 2 ** 20);
    expect(sent.at(-1)).toBe(4 * 2 ** 20);
  });

  test("holds no more than the room: what is in flight waits for its ACK", () => {
    const window = new TcpPathWindow({ mss: MSS, initialSegments: 10, capBytes: 2 ** 20, rttMs: RTT });
    window.sent(window.room(0), 0);
    expect(window.room(1)).toBe(0);
    window.acked(5 * MSS);
    expect(window.room(RTT)).toBe(10 * MSS); // 5 segments freed, 5 more of growth
  });

  test("grows only while it is the limit: a sender using less keeps it at twice what it used", () => {
    const window = new TcpPathWindow({ mss: MSS, initialSegments: 10, capBytes: 16 * 2 ** 20, rttMs: RTT });
    rounds(window, 20, 64 * 1024);
    expect(window.congestionWindow).toBeLessThanOrEqual(2 * 64 * 1024 + 64 * 1024);
  });

  test("after idle retransmission timeouts it halves per timeout, down to the initial window", () => {
    const window = new TcpPathWindow({ mss: MSS, initialSegments: 10, capBytes: 4 * 2 ** 20, rttMs: RTT });
    rounds(window, 12);
    const open = window.congestionWindow;
    expect(window.room(11 * RTT + 100)).toBe(open); // idle less than an RTO (RTT + 200 ms)
    expect(window.room(11 * RTT + 250)).toBe(open / 2);
    expect(window.room(11 * RTT + 10_000)).toBe(10 * MSS);
  });

  test("paced, a full-grown window leaves at 1.2x its size a round trip, in bursts of a millisecond of that", () => {
    const cap = 2 ** 20;
    // 1,000 segments at first: the window starts at its cap (grown).
    const window = new TcpPathWindow({ mss: MSS, initialSegments: 1_000, capBytes: cap, rttMs: RTT, paced: true });
    const rate = (PACING_GAIN * cap) / RTT; // bytes a ms
    const burst = Math.floor(rate * PACING_BURST_MS);
    expect(window.room(0)).toBe(burst); // not the whole window at once
    window.sent(burst, 0);
    expect(window.room(0)).toBe(0);
    expect(window.paceWaitMs(burst, 0)).toBeCloseTo(PACING_BURST_MS, 3);
    expect(window.room(0.5)).toBe(Math.floor(rate * 0.5));
    // Idle a while: still one burst at most...
    expect(window.room(30)).toBe(burst);
    window.sent(burst, 30);
    // ...unless the caller (a timer) came late: then what the pace would have let out meanwhile.
    expect(window.room(33, 2)).toBe(Math.floor(rate * 3));
    window.sent(Math.floor(rate * 3), 33);
    // Spent, not owed: the next burst is a burst's time away (not three).
    expect(window.paceWaitMs(burst, 33)).toBeCloseTo(PACING_BURST_MS, 2);
    // Not paced: the whole window at once.
    const unpaced = new TcpPathWindow({ mss: MSS, initialSegments: 1_000, capBytes: cap, rttMs: RTT });
    expect(unpaced.room(0)).toBe(cap);
    expect(unpaced.paceWaitMs(cap, 0)).toBe(0);
  });

  test("paced in slow start at twice the window a round trip, which lets it double a round trip as before", () => {
    const window = new TcpPathWindow({ mss: MSS, initialSegments: 10, capBytes: 4 * 2 ** 20, rttMs: RTT, paced: true });
    const rate = (PACING_SLOW_START_GAIN * 10 * MSS) / RTT;
    expect(window.room(0)).toBe(Math.floor(Math.max(2 * MSS, rate * PACING_BURST_MS)));
    // Sent as the pace allows, a millisecond at a time, every round's window goes out within it.
    const sent: number[] = [];
    for (let round = 0; round < 6; round++) {
      let bytes = 0;
      for (let ms = 0; ms < RTT; ms++) {
        const now = round * RTT + ms;
        const room = window.room(now);
        window.sent(room, now);
        bytes += room;
      }
      sent.push(bytes);
      window.acked(bytes);
    }
    expect(sent[0]).toBe(10 * MSS);
    expect(sent[5]).toBe(320 * MSS);
  });
});
