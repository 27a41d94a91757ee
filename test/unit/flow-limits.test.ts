/**
 * The flow-control constants must fit together: the receiver ACKs only after ACK_EVERY_BYTES,
 * so a send window smaller than that stops both sides for good (the sender waits for an ACK,
 * the receiver for more bytes). An ACK every 768 KiB against the short path's 512 KiB window
 * hung a 1 GiB transfer indefinitely; this keeps any such change from landing.
 */

import { expect, test } from "bun:test";
import { ackThresholdBytes } from "../../src/session/ack-cadence.ts";
import {
  ACK_EVERY_BYTES,
  CHUNK_BYTES,
  RELAY_ACK_EVERY_BYTES,
  RELAY_MIN_WINDOW_BYTES,
  RELAY_WINDOW_BYTES,
  WINDOW_BYTES,
} from "../../src/session/limits.ts";
import { SendWindow, SHORT_MIN_BYTES, YOUNG_WINDOW_BYTES } from "../../src/session/send-window.ts";

test("the receiver ACKs well before the smallest send window is used up", () => {
  const smallestWindow = Math.min(SHORT_MIN_BYTES, WINDOW_BYTES);
  // At most half: the next ACK must be on its way while a whole record is still in flight.
  expect(ACK_EVERY_BYTES).toBeLessThanOrEqual(smallestWindow / 2);
  // And a window holds at least two records, so the pipe never empties between ACKs.
  expect(smallestWindow).toBeGreaterThanOrEqual(2 * CHUNK_BYTES);
});

test("a young window (smaller than ACK_EVERY_BYTES) always hears back from a receiver with the early cadence", () => {
  // Lossless and instant: the sender fills its window, the receiver consumes all of it and ACKs
  // when ackThresholdBytes says so. A blocked sender with no ACK due would be a hang.
  const window = new SendWindow(undefined, undefined, { young: true });
  expect(window.bytes).toBeLessThan(ACK_EVERY_BYTES);
  let sent = 0;
  let acked = 0;
  let now = 0;
  let sizes = 0;
  while (sent < 64 * 2 ** 20) {
    while (sent - acked < window.bytes) {
      sent += window.frameBytes();
      window.sent(sent, now);
    }
    const owed = sent - acked; // all consumed at once
    expect(owed).toBeGreaterThanOrEqual(ackThresholdBytes(sent));
    now += 40;
    acked = sent;
    window.acked(acked, now);
    sizes++;
  }
  expect(window.bytes).toBeGreaterThanOrEqual(WINDOW_BYTES); // grown up
  expect(sizes).toBeGreaterThan(5);
});

test("the early ACK cadence: an eighth of what was consumed, from 4 KiB up to ACK_EVERY_BYTES", () => {
  expect(ackThresholdBytes(0)).toBe(4096);
  expect(ackThresholdBytes(64 * 1024)).toBe(8 * 1024);
  expect(ackThresholdBytes(10 * 2 ** 20)).toBe(ACK_EVERY_BYTES);
});

test("through a relay the ACK cadence fits the relay window minimum as the usual one fits the usual minimum", () => {
  // Half the window at most (an ACK leaves while the rest is in flight), a record left in flight.
  expect(RELAY_ACK_EVERY_BYTES).toBeLessThanOrEqual(RELAY_MIN_WINDOW_BYTES / 2);
  expect(RELAY_MIN_WINDOW_BYTES - RELAY_ACK_EVERY_BYTES).toBeGreaterThanOrEqual(2 * CHUNK_BYTES);
  // Fewer ACKs than one per record, or there is nothing to gain.
  expect(RELAY_ACK_EVERY_BYTES).toBeGreaterThanOrEqual(2 * CHUNK_BYTES);
  expect(RELAY_MIN_WINDOW_BYTES).toBeLessThanOrEqual(WINDOW_BYTES);
  expect(ackThresholdBytes(64 * 2 ** 20, RELAY_ACK_EVERY_BYTES)).toBe(RELAY_ACK_EVERY_BYTES);
  expect(ackThresholdBytes(64 * 1024, RELAY_ACK_EVERY_BYTES)).toBe(8 * 1024);
});

/**
 * A young window on a short path (1 ms round trips) at 32 MB/s, whose 1 ms of data is far below
 * any minimum: every time the sender is blocked with everything consumed, the receiver must owe
 * an ACK at cadence `ackEvery`. @returns the smallest window once 4 MiB were sent
 */
function slowShortPath(window: SendWindow, ackEvery: number): number {
  let sent = 0;
  let acked = 0;
  let now = 0;
  let smallest = Number.POSITIVE_INFINITY;
  while (sent < 64 * 2 ** 20) {
    while (sent - acked < window.bytes) {
      sent += Math.min(window.frameBytes(), 64 * 1024);
      window.sent(sent, now);
    }
    const owed = sent - acked;
    expect(owed).toBeGreaterThanOrEqual(ackThresholdBytes(sent, ackEvery));
    now += 1 + owed / (32 * 1024);
    acked = sent;
    window.acked(acked, now);
    if (sent > 4 * 2 ** 20) smallest = Math.min(smallest, window.bytes);
  }
  return smallest;
}

test("a relayed window, young or slow, is never blocked without an ACK due at the relay cadence", () => {
  const relayed = new SendWindow(undefined, undefined, { young: true, shortMinBytes: RELAY_MIN_WINDOW_BYTES });
  expect(slowShortPath(relayed, RELAY_ACK_EVERY_BYTES)).toBe(RELAY_MIN_WINDOW_BYTES);
  // With the relay's short-path window on top, never below that minimum either.
  const grown = new SendWindow(undefined, undefined, {
    young: true,
    shortMinBytes: RELAY_MIN_WINDOW_BYTES,
    shortBytes: RELAY_WINDOW_BYTES,
  });
  expect(slowShortPath(grown, RELAY_ACK_EVERY_BYTES)).toBeGreaterThanOrEqual(RELAY_MIN_WINDOW_BYTES);
  expect(RELAY_WINDOW_BYTES).toBeGreaterThanOrEqual(RELAY_MIN_WINDOW_BYTES);
  // The same path without the option keeps the usual minimum: the option is what holds it up.
  expect(slowShortPath(new SendWindow(undefined, undefined, { young: true }), ACK_EVERY_BYTES)).toBe(SHORT_MIN_BYTES);
});

test("a window young again after an idle second hears back from the receiver's new stretch of early ACKs", () => {
  // As above, twice: a first transfer grows the window on a 40 ms path, then nothing for 2 s,
  // then a second one. The receiver's cadence counts from the second stretch's first byte
  // (scheduler.ts received: DATA after ACK_CADENCE_RESTART_MS without any).
  const window = new SendWindow(undefined, undefined, { young: true });
  let sent = 0;
  let acked = 0;
  let now = 0;
  let stretchStart = 0;
  const transfer = (bytes: number): number => {
    let smallest = Number.POSITIVE_INFINITY;
    const end = sent + bytes;
    while (acked < end) {
      while (sent - acked < window.bytes && sent < end) {
        sent = Math.min(end, sent + window.frameBytes());
        window.sent(sent, now);
        smallest = Math.min(smallest, window.bytes);
      }
      const owed = sent - acked;
      // Owed enough for an ACK, or the transfer's end (ACKed at once).
      expect(owed >= ackThresholdBytes(sent - stretchStart) || sent === end).toBe(true);
      now += 40;
      acked = sent;
      window.acked(acked, now);
    }
    return smallest;
  };
  transfer(32 * 2 ** 20);
  expect(window.bytes).toBeGreaterThanOrEqual(WINDOW_BYTES);
  now += 2_000;
  stretchStart = sent;
  expect(transfer(32 * 2 ** 20)).toBe(YOUNG_WINDOW_BYTES);
  expect(window.bytes).toBeGreaterThanOrEqual(WINDOW_BYTES);
});
