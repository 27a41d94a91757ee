/**
 * The progress line with a manual clock (issue 11 item 29): a resumed transfer's speed counts
 * only the bytes moved now, and a stalled bar's ETA does not rise. Lines fit the terminal in
 * columns, not UTF-16 units (item 23).
 */

import { expect, test } from "bun:test";
import { STALLED_MS, TransferProgress } from "../../src/ui/progress.ts";
import { displayWidth } from "../../src/ui/width.ts";

const MiB = 1024 * 1024;

function clock(): { now: () => number; advance(ms: number): void } {
  let t = 1_000_000;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

const speedOf = (line: string) => line.match(/\| ([\d.]+ \w+)\/s \|/)?.[1];
const etaOf = (line: string) => line.match(/ETA\s+(.+)$/)?.[1]?.trim();

test("a transfer resumed at 96 MiB that moves 30 MiB a second shows 30 MiB/s, not the prefix", () => {
  const c = clock();
  const bar = new TransferProgress("↓ #1 big.bin", 256 * MiB, c.now);
  c.advance(50);
  bar.update(96 * MiB + 256 * 1024); // the first report: the resumed prefix and a first chunk
  for (let s = 1; s <= 4; s++) {
    c.advance(1000);
    bar.update(96 * MiB + 256 * 1024 + s * 30 * MiB);
  }
  const line = bar.render(160);
  expect(speedOf(line), line).toBe("30.0 MiB");
  expect(etaOf(line), line).toBe("2s"); // 39.75 MiB left at 30 MiB/s, rounded up
});

test("a stalled bar's ETA holds, then says stalled; it never rises", () => {
  const c = clock();
  const bar = new TransferProgress("↑ #1 x", 100 * MiB, c.now);
  bar.update(0);
  for (let s = 1; s <= 2; s++) {
    c.advance(1000);
    bar.update(s * MiB);
  }
  const etas: string[] = [];
  for (let waited = 0; waited < STALLED_MS + 2000; waited += 500) {
    etas.push(etaOf(bar.render(160)) as string);
    c.advance(500);
  }
  expect(etas[0]).toBe("1m38s"); // 98 MiB at 1 MiB/s
  const beforeStall = etas.slice(0, STALLED_MS / 500);
  expect(new Set(beforeStall)).toEqual(new Set(["1m38s"]));
  expect(etas.at(-1)).toBe("stalled");
});

test("the line is cut to the terminal's columns, counted in display width", () => {
  const c = clock();
  const label = `↓ #1 ${"日本語のファイル名".repeat(4)}.bin`;
  const bar = new TransferProgress(label, 10 * MiB, c.now);
  bar.update(MiB);
  for (const columns of [40, 60, 80]) {
    const line = bar.render(columns);
    expect(displayWidth(line), line).toBeLessThan(columns);
    if (columns >= 60) expect(line, "the name gives way, the bar stays").toMatch(/… \[[=-]+\]\s+10% \|/);
  }
});

test("at 40 columns a short name stays unmarked and the bar narrows so the percentage shows", () => {
  // Before: "↑ #1 big.bin… [=============-----------" (a name left whole marked as cut, the
  // 24-column bar took the rest of the row: no percentage, bytes, speed or ETA).
  const c = clock();
  const bar = new TransferProgress("↑ #1 big.bin", 40 * MiB, c.now);
  bar.update(0);
  c.advance(1000);
  bar.update(16 * MiB);
  for (const columns of [20, 40, 80]) {
    const line = bar.render(columns);
    expect(displayWidth(line), line).toBeLessThan(columns);
    expect(line, line).toStartWith("↑ #1 big.bin [");
  }
  // The bytes do not fit beside the bar at 40: left out whole, not cut ("40% | 16.0 M" before).
  expect(bar.render(40)).toMatch(/^↑ #1 big\.bin \[=+-+\]\s+40%$/);
  expect(bar.render(60)).toMatch(/^↑ #1 big\.bin \[=+-+\]\s+40% \| 16\.0 MiB\/40\.0 MiB$/);
  expect(bar.render(80)).toMatch(/\| ETA\s+2s$/); // the whole line fits at 80
});

test("a narrow terminal leaves figures out whole, the ETA first, then the speed, then the bytes: none is cut mid-number", () => {
  // Before (newuser30): "... 37% | 353.6 MiB/9" at 40 columns, "... | 176.8 MiB" (no "/s") at 60.
  const c = clock();
  const bar = new TransferProgress("big.bin", 1_000_000_000, c.now);
  bar.update(0);
  c.advance(1000);
  bar.update(185_400_000);
  c.advance(1000);
  bar.update(370_800_000);
  const whole = bar.render(200);
  const [head, ...figures] = whole.split(" | ");
  expect(figures.length, whole).toBe(3);
  for (let columns = 20; columns <= 90; columns++) {
    const line = bar.render(columns);
    expect(displayWidth(line), line).toBeLessThan(columns);
    const [shownHead, ...shown] = line.split(" | ");
    // The figures shown are the first ones of the whole line, each whole.
    expect(shown, `${columns} columns: ${line}`).toEqual(figures.slice(0, shown.length));
    // The head is the name, the bar (narrowed) and the percentage.
    const barless = (text: string) => text.replace(/\[[=-]+\]/, "[]");
    if (shown.length > 0) expect(barless(shownHead as string)).toBe(barless(head as string));
  }
});

test("a terminal narrower than 11 columns gets a bar row narrower than it: one row, nothing wrapped", () => {
  // Before: the row was kept at 10 columns at least, so at 8 it wrapped: "↑ #2 big" and ".b" on a second row (newuser30).
  const c = clock();
  const bar = new TransferProgress("↑ #2 big.bin", 40 * MiB, c.now);
  bar.update(0);
  c.advance(1000);
  bar.update(16 * MiB);
  for (const columns of [2, 5, 8, 10, 11]) {
    const line = bar.render(columns);
    expect(displayWidth(line), line).toBeLessThan(columns);
    expect(line.length, line).toBeGreaterThan(0);
  }
});

test("a name with tabs keeps the bar and the percentage in view: each tab shown as ^I, the row within the width", () => {
  // Before: a tab is no column to the width, and up to eight to the terminal: at 40 columns
  // "↑ #1 a<4 tabs>b.bin [" ran to the row's end and the bar and percentage were never seen (attack31, tmux).
  const c = clock();
  const bar = new TransferProgress("↑ #1 a\t\t\t\tb.bin", 40 * MiB, c.now);
  bar.update(16 * MiB);
  for (let columns = 20; columns <= 90; columns++) {
    const line = bar.render(columns);
    expect(line, line).not.toContain("\t");
    expect(displayWidth(line), line).toBeLessThan(columns);
  }
  expect(bar.render(40)).toMatch(/^↑ #1 a\^I\^I\^I… \[=+-+\]\s+40%$/); // the name gives way, as any long one
  expect(bar.render(120)).toMatch(/^↑ #1 a\^I\^I\^I\^Ib\.bin \[=+-+\]\s+40% \|/);
});

test("a name exactly 13 columns wide that would give way stays whole: 12 columns and a mark are no narrower", () => {
  // Before: "↑ #1 abcdefg…" at 40 columns, as wide as the name and marked cut for nothing (review22).
  const c = clock();
  const bar = new TransferProgress("↑ #1 abcdefgh", 40 * MiB, c.now); // 13 columns
  bar.update(0);
  c.advance(1000);
  bar.update(16 * MiB);
  const line = bar.render(40);
  expect(displayWidth(line), line).toBeLessThan(40);
  expect(line, line).toStartWith("↑ #1 abcdefgh [");
  // One column wider gives way: one column is gained.
  const wider = new TransferProgress("↑ #1 abcdefghi", 40 * MiB, c.now).render(20);
  expect(wider, wider).toStartWith("↑ #1 abcdefg…");
});

test("the speed is the recent rate: ten seconds at 1 MiB/s, then 10 MiB/s shows 10 MiB/s within seconds, and the ETA follows it", () => {
  // Before: the average since the start, (10 + 30) MiB in 13 s = 3.1 MiB/s three seconds into
  // 10 MiB/s, and an ETA from that (60 MiB left: 20 s, not 6 s).
  const c = clock();
  const bar = new TransferProgress("↓ #1 big.bin", 100 * MiB, c.now);
  bar.update(0);
  let bytes = 0;
  for (let tick = 0; tick < 10; tick++) {
    c.advance(1000);
    bytes += MiB;
    bar.update(bytes);
  }
  expect(speedOf(bar.render(160))).toBe("1.0 MiB");
  for (let tick = 0; tick < 3; tick++) {
    c.advance(1000);
    bytes += 10 * MiB;
    bar.update(bytes);
  }
  const line = bar.render(160);
  expect(speedOf(line), line).toBe("10.0 MiB");
  expect(etaOf(line), line).toBe("6s"); // 60 MiB left at 10 MiB/s
});

test("a stall shows in the speed within seconds: 0 B/s once a window has passed with no byte", () => {
  // Before: 20 s at 10 MiB/s, then 4 s of nothing still said 8.3 MiB/s (200 MiB over 24 s).
  const c = clock();
  const bar = new TransferProgress("↑ #1 x", 1024 * MiB, c.now);
  bar.update(0);
  for (let tick = 1; tick <= 200; tick++) {
    c.advance(100);
    bar.update(tick * MiB);
  }
  expect(speedOf(bar.render(160))).toBe("10.0 MiB");
  c.advance(1500);
  // Half the window without a byte: about half the rate (the window starts at a sample, 150-200 ms apart here).
  const half = Number.parseFloat(speedOf(bar.render(160)) ?? "");
  expect(half).toBeGreaterThan(4.5);
  expect(half).toBeLessThan(5.5);
  c.advance(3_000); // a whole window (RATE_WINDOW_MS)
  const line = bar.render(160);
  expect(speedOf(line), line).toBe("0 B");
  expect(etaOf(line), line).toBe("stalled");
});

test("the samples behind the speed stay bounded however often the count is reported", () => {
  const c = clock();
  const bar = new TransferProgress("↑ #1 x", null, c.now);
  bar.update(0);
  for (let tick = 1; tick <= 100_000; tick++) {
    c.advance(1);
    bar.update(tick * 1024);
  }
  const samples = (bar as unknown as { samples: unknown[] }).samples.length;
  expect(samples).toBeLessThanOrEqual(3_000 / 150 + 3); // RATE_WINDOW_MS / SAMPLE_MS, and the ends;
  expect(bar.speed).toBeCloseTo(1024 * 1000, 0);
});
