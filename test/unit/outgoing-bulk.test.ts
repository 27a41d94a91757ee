/**
 * OutgoingTransfers.nextBulk: round-robin by command (a folder, a command of several paths, one
 * file), then over its transfers that are sending, each handing
 * the scheduler one reused BulkFrame refilled per DATA frame (no object or closure per frame),
 * whose `written` reports that transfer's progress.
 */

import { expect, test } from "bun:test";
import type { OutgoingHost } from "../../src/session/outgoing.ts";
import { OutgoingTransfers } from "../../src/session/outgoing.ts";
import type { BulkFrame } from "../../src/session/scheduler.ts";
import type { FrameSource } from "../../src/transfer/index.ts";

/** A source of `count` frames, each a fresh 4-byte array marked with the source's id. */
function frames(id: number, count: number): FrameSource {
  let sent = 0;
  return {
    id,
    name: `f${id}`,
    size: count * 4,
    algo: "xxh3",
    get sent() {
      return sent;
    },
    meta: {},
    nextFrame: () => {
      if (sent === count * 4) return undefined;
      sent += 4;
      return new Uint8Array([id, id, id, id]);
    },
    trailer: () => ({ bytes: sent, digest: "00" }),
  } as unknown as FrameSource;
}

test("each transfer hands out one BulkFrame, refilled per frame, in turn with the others", () => {
  const progressed: Array<[number, number]> = [];
  const host = {
    events: new Proxy(
      {},
      {
        get: (_target, name) =>
          name === "transferProgressed"
            ? (info: { id: number }, bytes: number) => progressed.push([info.id, bytes])
            : () => {},
      },
    ),
    scheduler: { send() {}, queue() {}, pump() {} },
    isActive: () => true,
    settled() {},
  } as unknown as OutgoingHost;
  const outgoing = new OutgoingTransfers(host);
  let nextId = 1;
  const open = (id: number) => frames(id, 3);
  for (const n of [1, 2]) outgoing.enqueue(`f${n}`, 12, {}, () => nextId++, open);
  for (const id of [1, 2]) outgoing.onMessage({ kind: "accept", id, offset: 0 } as never);

  const seen: BulkFrame[] = [];
  for (let i = 0; i < 6; i++) {
    const bulk = outgoing.nextBulk();
    if (bulk === undefined || bulk === "again") throw new Error(`frame ${i}: ${bulk}`);
    seen.push(bulk);
    expect(bulk.frame[0]).toBe(i % 2 === 0 ? 1 : 2); // round-robin: 1, 2, 1, 2, ...
    bulk.written();
  }
  // One object per transfer, reused for all three of its frames (before: a new one per frame).
  expect(new Set(seen).size).toBe(2);
  expect(seen[0]).toBe(seen[2] as BulkFrame);
  expect(seen[1]).toBe(seen[3] as BulkFrame);
  expect(progressed).toEqual([
    [1, 4],
    [2, 4],
    [1, 8],
    [2, 8],
    [1, 12],
    [2, 12],
  ]);
  // Then each queues its END, and nothing is left to send.
  expect(outgoing.nextBulk()).toBe("again");
  expect(outgoing.nextBulk()).toBe("again");
  expect(outgoing.nextBulk()).toBeUndefined();
});

/** An OutgoingHost that only counts: no events, no scheduler. */
function quietHost(): OutgoingHost {
  return {
    events: new Proxy({}, { get: () => () => {} }),
    scheduler: { send() {}, queue() {}, pump() {} },
    isActive: () => true,
    settled() {},
  } as unknown as OutgoingHost;
}

/** The sources (by frame's first byte) of the next `count` DATA frames. */
function turns(outgoing: OutgoingTransfers, count: number): number[] {
  const order: number[] = [];
  for (let i = 0; i < count; i++) {
    const bulk = outgoing.nextBulk();
    if (bulk === undefined || bulk === "again") throw new Error(`frame ${i}: ${bulk}`);
    order.push(bulk.frame[0] as number);
    bulk.written();
  }
  return order;
}

test("a file sent first keeps half the turns when a folder (16 entries in flight) comes after it", () => {
  // `transfer file.bin` then `transfer album` (20 entries): per transfer the file had 1 turn in 16.
  const outgoing = new OutgoingTransfers(quietHost());
  let nextId = 1;
  const open = (id: number) => frames(id, 100);
  outgoing.enqueue("file.bin", 400, {}, () => nextId++, open);
  for (let e = 0; e < 20; e++) {
    const folder = { group: 2, root: "album", path: [`e${e}.bin`], entries: 20, bytes: 8000 };
    outgoing.enqueue(`album/e${e}.bin`, 400, { folder }, () => nextId++, open);
  }
  for (let id = 1; id <= 16; id++) outgoing.onMessage({ kind: "accept", id, offset: 0 } as never);

  const order = turns(outgoing, 60);
  // The file every other frame; the folder's turns go round its 15 entries in flight.
  expect(order.filter((id, i) => i % 2 === 0 && id === 1).length).toBe(30);
  expect(order.filter((_, i) => i % 2 === 1)).toEqual([...Array(30)].map((_, i) => 2 + (i % 15)));
});

test("a command's several files share one turn, as a folder does, against a file sent alone", () => {
  // `transfer a.bin b.bin c.bin` (one command), then `transfer d.bin`.
  const outgoing = new OutgoingTransfers(quietHost());
  let nextId = 1;
  const open = (id: number) => frames(id, 100);
  const command = { seq: 7, transfers: 3 };
  for (const name of ["a", "b", "c"]) outgoing.enqueue(`${name}.bin`, 400, { command }, () => nextId++, open);
  outgoing.enqueue("d.bin", 400, {}, () => nextId++, open);
  for (let id = 1; id <= 4; id++) outgoing.onMessage({ kind: "accept", id, offset: 0 } as never);

  expect(turns(outgoing, 12)).toEqual([1, 4, 2, 4, 3, 4, 1, 4, 2, 4, 3, 4]);
});
