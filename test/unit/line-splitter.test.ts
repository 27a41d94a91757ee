/** LineSplitter: input cut into lines as readline cuts them, with a bound on one line. */

import { expect, test } from "bun:test";
import { LineSplitter } from "../../src/ui/line-splitter.ts";

function split(chunks: readonly string[], maxChars = 100): string[] {
  const out: string[] = [];
  const lines = new LineSplitter(maxChars, { line: (text) => out.push(text), tooLong: () => out.push("<too long>") });
  for (const chunk of chunks) lines.push(chunk);
  lines.end();
  return out;
}

test("\\n, \\r\\n and \\r end a line, also when \\r and \\n arrive apart", () => {
  expect(split(["a\nb\r\nc\rd"])).toEqual(["a", "b", "c", "d"]);
  expect(split(["a\r", "\nb\r", "c\r", "\r", "\n"])).toEqual(["a", "b", "c", ""]);
  expect(split(["a\r", "x"])).toEqual(["a", "x"]);
});

test("a line in many pieces is one line; empty lines count; a last line without a break counts at the end", () => {
  expect(split(["he", "l", "lo\n\nwor", "ld"])).toEqual(["hello", "", "world"]);
  expect(split(["done\n"])).toEqual(["done"]);
  expect(split([])).toEqual([]);
});

test("a line past the bound is dropped to its end and reported once; the next lines are whole", () => {
  expect(split(["x".repeat(60), "x".repeat(60), "x".repeat(500), "\nafter\n"])).toEqual(["<too long>", "after"]);
  expect(split(["y".repeat(100), "\nok"])).toEqual(["y".repeat(100), "ok"]);
  expect(split(["z".repeat(101)])).toEqual(["<too long>"]);
  expect(split(["z".repeat(150), "\n", "z".repeat(150), "\n"])).toEqual(["<too long>", "<too long>"]);
});
