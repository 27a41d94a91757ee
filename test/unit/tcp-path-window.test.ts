/**
 * The bench relay's TCP path model (bench/lib/tcp-path-window.ts) on a manual clock: the room
 * a Linux TCP stream would have in flight on a long path, round by round.
 */

import { describe, expect, test } from "bun:test";
import { TcpPathWindow } from "../../bench/lib/tcp-path-window.ts";

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
});
