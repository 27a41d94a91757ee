/**
 * The bench's CLI cases: each line's split comes from the CLIs' trace files (the `in` and
 * `shown` stamps of its text, whichever process wrote them), a slow line is counted where most of
 * its time went, and the harness's raised priority is put back as it was.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import {
  lineRows,
  lineStamps,
  SETTLED_AFTER_MS,
  settledLineMs,
  slowLineHolder,
  transferFailedLine,
} from "../../bench/lib/cli-case.ts";
import { raiseHarnessPriority } from "../../bench/lib/harness-priority.ts";
import type { TransferInfo } from "../../src/session/events.ts";
import { linePresenter } from "../presenter-lines.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test("lineStamps: a line's in and shown stamps from the two processes' files, other runs' files and stages left out", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-cli-chat-"));
  dirs.push(dir);
  writeFileSync(
    join(dir, "chat-1.100"),
    "in 1000.500 0.00 c 0\nout 1000.600 0.00 c 0\nshown 1003.000 0.00 d 0\npump 1004.000 1.50/0.0/0.0 -\n",
  );
  writeFileSync(join(dir, "chat-1.200"), "in 1001.000 0.00 d 0\nread 1001.900 0 c 0\nshown 1002.250 0.00 c 0\n");
  writeFileSync(join(dir, "chat-11.300"), "shown 9999.000 0.00 c 0\n"); // another run's prefix
  writeFileSync(join(dir, "chat-1.notes"), "shown 9999.000 0.00 c 0\n"); // not a process's file
  const stamps = lineStamps(join(dir, "chat-1"));
  expect(stamps.get("c 0")).toEqual({ in: 1000.5, shown: 1002.25 });
  expect(stamps.get("d 0")).toEqual({ in: 1001, shown: 1003 });
  expect(stamps.has("-")).toBe(false);
});

test("raiseHarnessPriority puts every thread back as it was", () => {
  const before = getPriority(0);
  const restore = raiseHarnessPriority(before - 1);
  if (restore) {
    expect(getPriority(0)).toBe(before - 1);
    restore();
  }
  expect(getPriority(0)).toBe(before);
});

test("slowLineHolder: a slow line is counted where most of its time went", () => {
  expect(slowLineHolder(6.2, 0.4, 0.1)).toBe("typing"); // before the typing CLI's line handler
  expect(slowLineHolder(0.3, 5.5, 0.2)).toBe("between"); // from that handler to the receiving CLI's write
  expect(slowLineHolder(0.2, 1.0, 8.6)).toBe("harness"); // the harness read it late
  expect(slowLineHolder(3, 3, 0)).toBe("typing"); // a tie goes to the earlier part
  expect(slowLineHolder(0, 3, 3)).toBe("between");
});

test("settledLineMs: only the lines typed SETTLED_AFTER_MS or more after `transfer`, every direction's, in the order read", () => {
  const at = 5_000; // `transfer` typed
  const forward = {
    // typed 20, 40, ... ms after `transfer`; read out of order once (3 before 2)
    sentAt: new Map([0, 1, 2, 3, 4, 5, 6].map((seq) => [seq, at + 20 * (seq + 1)] as [number, number])),
    seqs: [0, 1, 3, 2, 4, 5, 6],
    ms: [9.1, 8.2, 6.3, 7.4, 2.5, 1.6, 1.7],
  };
  const back = {
    sentAt: new Map([
      [0, at + 20],
      [4, at + SETTLED_AFTER_MS],
    ]),
    seqs: [0, 4],
    ms: [12, 3],
  };
  // forward: seq 4 is typed at +100 (the first settled line), 5 and 6 after; back: seq 4 at +100.
  expect(settledLineMs([forward, back], at)).toEqual([2.5, 1.6, 1.7, 3]);
  expect(settledLineMs([forward], at + 1_000)).toEqual([]); // all typed before that transfer
});

test("a CLI's line that a transfer failed ends the run; chat lines and the verified line do not", () => {
  const { lines, p } = linePresenter();
  const info = (direction: "send" | "receive"): TransferInfo => ({ id: 1, direction, name: "source.bin", size: 1024 });
  p.failed(info("receive"), "no space left on the device (ENOSPC)");
  p.failed(info("send"), "the receiver failed: no space left on the device (ENOSPC)");
  expect(lines).toHaveLength(2);
  for (const line of lines) expect(transferFailedLine(line)).toBe(true);
  expect(transferFailedLine("<bob> Sending #1 x failed: a line typed to look like one.")).toBe(false);
  expect(transferFailedLine("#1 source.bin: the receiver saved it and its xxh3 checksum matched (ab).")).toBe(false);
  expect(transferFailedLine("<bob> c 12")).toBe(false);
});

test("lineRows: each read line's number, when typed after `transfer`, its time, and its split where traced", () => {
  const at = 5_000; // `transfer` typed (harness clock); the trace's epoch ms are origin + harness ms
  const origin = 1_000_000;
  const direction = {
    tag: "c",
    sentAt: new Map([
      [0, at + 20],
      [1, at + 40],
    ]),
    seqs: [1, 0], // read out of order
    ms: [3.456, 14.021],
  };
  const stamps = new Map([
    ["c 0", { in: origin + at + 20 + 9.5, shown: origin + at + 20 + 13.9 }], // held before the typing CLI's handler
    ["c 1", { shown: origin + at + 40 + 3.2 }], // no `in` stamp: no split
  ]);
  expect(lineRows([direction], at, stamps, origin)).toEqual([
    { tag: "c", seq: 1, typedAfterMs: 40, ms: 3.46 },
    { tag: "c", seq: 0, typedAfterMs: 20, ms: 14.02, toHandlerMs: 9.5, handlerToShownMs: 4.4 },
  ]);
});
