/**
 * OutgoingTransfers' offers: at most MAX_OUTGOING_TRANSFERS live, the rest queued by command (a
 * folder, a command of several paths, one file), in order inside each; a free place goes to the
 * command with the fewest live transfers (ties: the one queued first). Only the order of OFFERs
 * is looked at here, no DATA.
 */

import { expect, test } from "bun:test";
import { MAX_OUTGOING_TRANSFERS } from "../../src/session/limits.ts";
import type { OutgoingHost } from "../../src/session/outgoing.ts";
import { OutgoingTransfers } from "../../src/session/outgoing.ts";
import type { FrameSource } from "../../src/transfer/index.ts";

/** A source of one 4-byte frame. */
function oneFrame(id: number, name: string): FrameSource {
  let sent = 0;
  return {
    id,
    name,
    size: 4,
    algo: "xxh3",
    get sent() {
      return sent;
    },
    meta: {},
    nextFrame: () => {
      if (sent === 4) return undefined;
      sent = 4;
      return new Uint8Array(4);
    },
    trailer: () => ({ bytes: sent, digest: "00" }),
    stop() {},
  } as unknown as FrameSource;
}

/** OutgoingTransfers whose OFFERs' names are recorded in `offered`, in the order sent. */
function recorded(): {
  outgoing: OutgoingTransfers;
  offered: string[];
  enqueue: (name: string, place?: object) => void;
} {
  const offered: string[] = [];
  const host = {
    events: new Proxy({}, { get: () => () => {} }),
    scheduler: {
      send(m: { kind: string; name?: string }) {
        if (m.kind === "offer") offered.push(m.name as string);
      },
      queue() {},
      pump() {},
    },
    isActive: () => true,
    settled() {},
  } as unknown as OutgoingHost;
  const outgoing = new OutgoingTransfers(host);
  let nextId = 1;
  const enqueue = (name: string, place: object = {}) =>
    outgoing.enqueue(
      name,
      4,
      place,
      () => nextId++,
      (id) => oneFrame(id, name),
    );
  return { outgoing, offered, enqueue };
}

/** Sends transfer `id` whole and has the receiver say it got it: its place frees. */
function finish(outgoing: OutgoingTransfers, id: number): void {
  outgoing.onMessage({ kind: "accept", id, offset: 0 } as never);
  const frame = outgoing.nextBulk();
  if (frame === undefined || frame === "again") throw new Error(`no DATA from #${id}: ${frame}`);
  expect(outgoing.nextBulk()).toBe("again"); // its END
  outgoing.onMessage({ kind: "received", id, ok: true, bytes: 4 } as never);
}

/** Entry `e` of a folder `root` (group `group`) of `entries` entries. */
function entry(group: number, root: string, e: number, entries: number): { folder: object } {
  return { folder: { group, root, path: [`e${e}`], entries, bytes: entries * 4 } };
}

test("a file typed after a big folder is offered at the first free place, not after the folder's last entry", () => {
  // `transfer many` (40 entries), then `transfer file.bin`: 16 of the folder go at once.
  const { outgoing, offered, enqueue } = recorded();
  for (let e = 0; e < 40; e++) enqueue(`many/e${e}`, entry(1, "many", e, 40));
  enqueue("file.bin");
  expect(offered).toHaveLength(MAX_OUTGOING_TRANSFERS);
  expect(outgoing.pending).toBe(41);

  finish(outgoing, 1); // the folder's first entry ends
  // In the order typed it was many/e16 here, and file.bin came only after many/e39.
  expect(offered.slice(MAX_OUTGOING_TRANSFERS)).toEqual(["file.bin"]);
  finish(outgoing, 2);
  expect(offered.slice(MAX_OUTGOING_TRANSFERS)).toEqual(["file.bin", "many/e16"]);
  expect(outgoing.pending).toBe(39);
});

test("two folders share the places: the one with fewer live entries gets the next, each in its own order", () => {
  // `transfer a` (30 entries), then `transfer b` (30 entries), then `transfer c.bin d.bin` (one command).
  const { outgoing, offered, enqueue } = recorded();
  for (let e = 0; e < 30; e++) enqueue(`a/e${e}`, entry(1, "a", e, 30));
  for (let e = 0; e < 30; e++) enqueue(`b/e${e}`, entry(2, "b", e, 30));
  const command = { command: { seq: 9, transfers: 2 } };
  enqueue("c.bin", command);
  enqueue("d.bin", command);
  expect(offered.every((name) => name.startsWith("a/"))).toBe(true);

  // a's entries end one by one: b (0 live) and the command (0 live) get places, b first (queued first).
  for (let id = 1; id <= 4; id++) finish(outgoing, id);
  // b 1 live, command 1 live: a's next place goes to b (tie, queued first), then the command.
  expect(offered.slice(MAX_OUTGOING_TRANSFERS)).toEqual(["b/e0", "c.bin", "b/e1", "d.bin"]);
  // Then a (12 live) and b (2 live): b until it has as many live as a.
  for (let id = 5; id <= 8; id++) finish(outgoing, id);
  expect(offered.slice(MAX_OUTGOING_TRANSFERS + 4)).toEqual(["b/e2", "b/e3", "b/e4", "b/e5"]);
  expect(outgoing.pending).toBe(30 + 30 + 2 - 8);
});

test("failAll drops every queue: nothing more is offered, nothing is pending", () => {
  const { outgoing, offered, enqueue } = recorded();
  for (let e = 0; e < 20; e++) enqueue(`a/e${e}`, entry(1, "a", e, 20));
  enqueue("file.bin");
  outgoing.failAll({ code: "E_CONNECTION_LOST" } as never);
  expect(outgoing.pending).toBe(0);
  expect(offered).toHaveLength(MAX_OUTGOING_TRANSFERS);
});
