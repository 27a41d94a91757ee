import { expect, test } from "bun:test";
import { lostLinesLine, MAX_BACKED_UP_CHARS, OutputGate } from "../../src/ui/output-gate.ts";

/** A stream that takes the first write and is backed up from then on, until `drain()`. */
function backedUpStream() {
  const written: string[] = [];
  let onDrain: (() => void) | undefined;
  const stream = {
    write(text: string) {
      written.push(text);
      return written.length === 1;
    },
    once(_event: "drain", listener: () => void) {
      onDrain = listener;
    },
  };
  return { stream, written, drain: () => onDrain?.() };
}

test("our own lines stop at MAX_BACKED_UP_CHARS while the output is backed up, and are counted", () => {
  const { stream, written, drain } = backedUpStream();
  const gate = new OutputGate(stream, (n) => `peer ${n}\n`, lostLinesLine);
  const line = `${"x".repeat(99)}\n`;
  const lines = Math.ceil((3 * MAX_BACKED_UP_CHARS) / line.length);
  for (let i = 0; i < lines; i++) gate.write(line); // a peer's flood of declined offers, each a line of ours
  gate.writeFromPeer("chat\n");
  const held = written.reduce((sum, t) => sum + t.length, 0);
  // The first two lines fill the stream; past that, MAX_BACKED_UP_CHARS at most wait in it.
  expect(held).toBeLessThanOrEqual(MAX_BACKED_UP_CHARS + 2 * line.length);
  const shown = written.length;
  drain();
  expect(written.slice(shown)).toEqual(["peer 1\n", lostLinesLine(lines - shown)]);
  expect(lostLinesLine(lines - shown)).toMatch(/^\d+ lines not shown: the output could not keep up\.\n$/);
  // Drained: our lines go out again, with a new allowance once it backs up anew.
  gate.write("after\n");
  expect(written.at(-1)).toBe("after\n");
});

test("a stream that never backs up gets every line", () => {
  const written: string[] = [];
  const gate = new OutputGate({ write: (t: string) => written.push(t) > 0 }, () => "", lostLinesLine);
  for (let i = 0; i < 50_000; i++) gate.write(`${"y".repeat(99)}\n`);
  expect(written.length).toBe(50_000);
});
