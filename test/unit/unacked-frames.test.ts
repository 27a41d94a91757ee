/**
 * UnackedFrames: whose DATA not ACKed yet is, as transfers take turns frame by frame and the
 * peer's ACKs count the connection's DATA in all.
 */

import { expect, test } from "bun:test";
import { UnackedFrames } from "../../src/session/unacked-frames.ts";

test("frames of two transfers taking turns: each one's bytes not ACKed are its own, a frame ACKed in part counted in part", () => {
  const log = new UnackedFrames();
  for (let i = 0; i < 6; i++) log.written(i % 2 === 0 ? 1 : 3, (i + 1) * 100); // 1: 0-100, 200-300, 400-500
  expect(log.unackedOf(1, 0)).toBe(300);
  expect(log.unackedOf(3, 0)).toBe(300);
  // 250 ACKed: 1's frame 200-300 half, 3's 100-200 whole.
  log.acked(250);
  expect(log.unackedOf(1, 250)).toBe(150);
  expect(log.unackedOf(3, 250)).toBe(200);
  log.acked(600);
  expect(log.unackedOf(1, 600)).toBe(0);
  expect(log.unackedOf(3, 600)).toBe(0);
  expect(log.unackedOf(5, 600)).toBe(0);
});

test("more frames than its first ring holds, ACKed as they go: the figures stay exact", () => {
  const log = new UnackedFrames();
  let end = 0;
  let acked = 0;
  for (let i = 0; i < 5000; i++) {
    const owner = (i * 7) % 5;
    end += 1 + ((i * 31) % 64);
    log.written(owner, end);
    // ACKs lag behind, landing inside frames.
    if (i % 50 === 0 && i >= 300) {
      acked = Math.floor(end * 0.9);
      log.acked(acked);
    }
  }
  // Recount from scratch: every frame's bytes past `acked`, by owner.
  const expected = new Map<number, number>();
  let pos = 0;
  for (let i = 0; i < 5000; i++) {
    const owner = (i * 7) % 5;
    const bytes = 1 + ((i * 31) % 64);
    const start = pos;
    pos += bytes;
    if (pos > acked) expected.set(owner, (expected.get(owner) ?? 0) + pos - Math.max(start, acked));
  }
  for (let owner = 0; owner < 5; owner++) expect(log.unackedOf(owner, acked)).toBe(expected.get(owner) ?? 0);
});
