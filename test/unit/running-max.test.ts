/**
 * RunningMax: the highest value of the last span, as the send window's delivery rate and the
 * queue bound's lowest bound read it.
 */

import { expect, test } from "bun:test";
import { RunningMax } from "../../src/session/running-max.ts";

test("the highest value added within the span, forgotten once the span has passed it", () => {
  const max = new RunningMax(1_000);
  expect(max.highest).toBeUndefined();
  max.add(5, 0);
  max.add(9, 100);
  max.add(3, 200);
  expect(max.highest).toBe(9);
  max.expire(1_100); // 9 was added at 100: exactly the span ago, still kept
  expect(max.highest).toBe(9);
  max.expire(1_101);
  expect(max.highest).toBe(3);
  max.expire(1_201);
  expect(max.highest).toBeUndefined();
});

test("a value no larger than a newer one is never the highest again; an older larger one still is", () => {
  const max = new RunningMax(1_000);
  max.add(4, 0);
  max.add(4, 10); // equal and newer: the older goes, this one lasts longer
  max.add(2, 20);
  max.expire(1_005);
  expect(max.highest).toBe(4);
  max.expire(1_015);
  expect(max.highest).toBe(2);
  max.add(7, 1_020);
  max.clear();
  expect(max.highest).toBeUndefined();
});
