/**
 * The flow-control constants must fit together: the receiver ACKs only after ACK_EVERY_BYTES,
 * so a send window smaller than that stops both sides for good (the sender waits for an ACK,
 * the receiver for more bytes). An ACK every 768 KiB against the short path's 512 KiB window
 * hung a 1 GiB transfer indefinitely; this keeps any such change from landing.
 */

import { expect, test } from "bun:test";
import { ACK_EVERY_BYTES, CHUNK_BYTES, WINDOW_BYTES } from "../../src/session/limits.ts";
import { SHORT_MIN_BYTES } from "../../src/session/send-window.ts";

test("the receiver ACKs well before the smallest send window is used up", () => {
  const smallestWindow = Math.min(SHORT_MIN_BYTES, WINDOW_BYTES);
  // At most half: the next ACK must be on its way while a whole record is still in flight.
  expect(ACK_EVERY_BYTES).toBeLessThanOrEqual(smallestWindow / 2);
  // And a window holds at least two records, so the pipe never empties between ACKs.
  expect(smallestWindow).toBeGreaterThanOrEqual(2 * CHUNK_BYTES);
});
