import { expect, test } from "bun:test";
import { analyseChatTrace, eventsDuring, formatChatTrace, stageSplit } from "../../bench/lib/chat-trace-report.ts";

// Two processes, as PARLEY_CHAT_TRACE writes them: "stage epochMs extra text".
const SENDER = ["in 1000.000 0 c 0", "out 1000.100 0 c 0", "in 1020.000 0 c 1", "queued 1020.050 0 c 1"].join("\n");
const RECEIVER = [
  "read 1000.500 2 c 0",
  "decoded 1001.000 0 c 0",
  "shown 1001.200 0 c 0",
  "stall 1030.000 12.00/1.0/10.0 -",
  "read 1025.000 0 c 1",
  "decoded 1025.100 0 c 1",
  "shown 1031.000 0 c 1",
].join("\n");

test("pairs each line's sending and receiving halves across the files and splits it by stage", () => {
  const report = analyseChatTrace(
    new Map([
      ["sender", SENDER],
      ["receiver", RECEIVER],
    ]),
  );
  expect(report.lines.map((l) => [l.text, Number(l.ms.toFixed(3)), l.recordsAhead])).toEqual([
    ["c 0", 1.2, 2],
    ["c 1", 11, 0],
  ]);
  const split = stageSplit(report.lines[0] as (typeof report.lines)[number]).map(([a, b, ms]) => [
    a,
    b,
    Number(ms.toFixed(3)),
  ]);
  expect(split).toEqual([
    ["in", "out", 0.1],
    ["out", "read", 0.4],
    ["read", "decoded", 0.5],
    ["decoded", "shown", 0.2],
  ]);
  expect(report.events).toEqual([
    { process: "receiver", what: "stall", endedAt: 1030, wallMs: 12, cpuMs: 1, queuedMs: 10 },
  ]);
  // The stall (1018-1030) overlaps c 1 (1020-1031), not c 0 (1000-1001.2).
  expect(eventsDuring(report.events, 1020, 1031)).toHaveLength(1);
  expect(eventsDuring(report.events, 1000, 1001.2)).toHaveLength(0);
});

test("a text reused by a later run pairs with the receiving half shown soonest after it was sent", () => {
  const report = analyseChatTrace(
    new Map([
      ["run1 sender", "in 1000 0 c 0"],
      ["run1 receiver", "shown 1003 0 c 0"],
      ["run2 sender", "in 9000 0 c 0"],
      ["run2 receiver", "shown 9002 0 c 0"],
    ]),
  );
  expect(report.lines.map((l) => l.ms)).toEqual([3, 2]);
});

test("the text report names the worst line, its stages and the stall during it", () => {
  const text = formatChatTrace(
    analyseChatTrace(
      new Map([
        ["sender", SENDER],
        ["receiver", RECEIVER],
      ]),
    ),
    1,
  );
  expect(text).toContain("2 lines");
  expect(text).toContain('"c 1" at +20 ms: 11.0 ms');
  expect(text).toContain("receiver: stall ended at +10.0: 12.0 ms (cpu 1.0, queued 10.0)");
  expect(text).not.toContain('"c 0"');
});

test("only the lines whose text matches are reported", () => {
  const files = new Map([
    ["sender", SENDER],
    ["receiver", RECEIVER],
  ]);
  expect(formatChatTrace(analyseChatTrace(files), 5, /^c 0$/)).toStartWith("1 lines");
});
