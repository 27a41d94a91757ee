/**
 * OutgoingTransfers.nextBulk: round-robin over the transfers that are sending, each handing
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
