/**
 * HeldLines: what the reporters hold while an --ask question waits: in order, bounded by
 * MAX_HELD_CHARS with those past it counted by kind, a line replacing the one held with its number.
 */

import { expect, test } from "bun:test";
import { HeldLines, MAX_HELD_CHARS } from "../../src/cli/held-lines.ts";

test("held in order, a line with replaces in the place of the earlier one of its number; nothing held after release", () => {
  const held = new HeldLines<{ text: string; replaces?: number }>();
  held.hold({ text: "a" });
  held.hold({ text: "p1 10%", replaces: 1 });
  held.hold({ text: "b" });
  held.hold({ text: "p1 20%", replaces: 1 });
  const { lines, lostOf } = held.release();
  expect(lines.map((l) => l.text)).toEqual(["a", "p1 20%", "b"]);
  expect(lostOf()).toBe(0);
  expect(held.release().lines).toEqual([]);
});

test("past MAX_HELD_CHARS lines are counted by kind, not held; a replacement counts only what it grows", () => {
  const held = new HeldLines<{ text: string; kind: string; replaces?: number }>((l) => l.kind);
  const big = "x".repeat(MAX_HELD_CHARS - 10);
  held.hold({ text: big, kind: "events" });
  held.hold({ text: "12345", kind: "events", replaces: 7 });
  held.hold({ text: "123456789012", kind: "chat" }); // 12 more: past the bound
  held.hold({ text: "1234567890", kind: "events", replaces: 7 }); // 5 more: fits
  held.hold({ text: "y", kind: "events" }); // past it now
  const { lines, lostOf } = held.release();
  expect(lines.map((l) => l.text)).toEqual([big, "1234567890"]);
  expect([lostOf("chat"), lostOf("events"), lostOf()]).toEqual([1, 1, 0]);
  // Counted afresh after a release.
  held.hold({ text: "z", kind: "chat" });
  expect(held.release().lostOf("chat")).toBe(0);
});
