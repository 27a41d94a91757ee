/**
 * changedAfterMadeIn (transfer/dir-calls.ts): a struct statx's change time less its birth time,
 * read at the kernel's offsets (stx_mask at 0, stx_btime at 80, stx_ctime at 96); none where the
 * mask leaves a time out, or the birth time is the epoch (a file system that says it keeps one
 * but does not: a folder just made would look changed 56 years after it was made, and be refused).
 */

import { expect, test } from "bun:test";
import { changedAfterMadeIn } from "../../src/transfer/dir-calls.ts";

const STATX_CTIME = 0x80;
const STATX_BTIME = 0x800;

/** A struct statx buffer with `mask`, and the two times given as [seconds, nanoseconds]. */
function statx(mask: number, btime: [number, number], ctime: [number, number]): DataView {
  const view = new DataView(new ArrayBuffer(256));
  view.setUint32(0, mask | 0x1 | 0x2, true);
  for (const [at, [sec, nsec]] of [
    [80, btime],
    [96, ctime],
  ] as const) {
    view.setBigInt64(at, BigInt(sec), true);
    view.setUint32(at + 8, nsec, true);
  }
  return view;
}

test("change time less birth time, in ms, to the nanosecond's part", () => {
  const both = STATX_BTIME | STATX_CTIME;
  expect(changedAfterMadeIn(statx(both, [1_796_336_909, 445_303_015], [1_796_336_909, 445_303_015]))).toBe(0);
  expect(changedAfterMadeIn(statx(both, [1_796_336_905, 441_303_026], [1_796_336_909, 453_303_015]))).toBeCloseTo(
    4_011.999989,
    3,
  );
  // FAT: the change time in 2 s steps, rounded down: before the birth time.
  expect(changedAfterMadeIn(statx(both, [1_796_336_909, 370_000_000], [1_796_336_908, 0]))).toBeCloseTo(-1_370, 3);
});

test("no birth time: the mask leaves it out, or it is the epoch", () => {
  expect(changedAfterMadeIn(statx(STATX_CTIME, [1_796_336_909, 0], [1_796_336_909, 0]))).toBeUndefined();
  expect(changedAfterMadeIn(statx(STATX_BTIME, [1_796_336_909, 0], [1_796_336_909, 0]))).toBeUndefined();
  expect(changedAfterMadeIn(statx(STATX_BTIME | STATX_CTIME, [0, 0], [1_796_336_909, 0]))).toBeUndefined();
});
