/**
 * The lines kept to repaint a resized terminal from the top: the newest whole lines that fit
 * in the rows left, counted at the new width.
 */

import { expect, test } from "bun:test";
import { RecentLines } from "../../src/ui/recent-lines.ts";

test("the newest lines that fit in the rows, counted at the width, oldest first", () => {
  const lines = new RecentLines();
  for (const line of ["one", "x".repeat(25), "two", "three"]) lines.push(line);
  expect(lines.tail(10, 10)).toEqual(["one", "x".repeat(25), "two", "three"]);
  // At 10 columns the long line takes 3 rows: 5 rows hold the last three lines.
  expect(lines.tail(5, 10)).toEqual(["x".repeat(25), "two", "three"]);
  expect(lines.tail(4, 10)).toEqual(["two", "three"]);
  expect(lines.tail(4, 30)).toEqual(["one", "x".repeat(25), "two", "three"]);
  expect(lines.tail(0, 10)).toEqual([]);
});

test("wide characters take two columns; text with newlines is kept line by line", () => {
  const lines = new RecentLines();
  lines.push("語".repeat(6)); // 12 columns: 2 rows at 10
  lines.push("a\nb");
  expect(lines.tail(2, 10)).toEqual(["a", "b"]);
  expect(lines.tail(4, 10)).toEqual(["語".repeat(6), "a", "b"]);
});

test("only the last `limit` lines are kept", () => {
  const lines = new RecentLines(3);
  for (let i = 0; i < 10; i++) lines.push(String(i));
  expect(lines.tail(100, 80)).toEqual(["7", "8", "9"]);
});
