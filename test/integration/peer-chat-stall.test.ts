/**
 * A receiver whose user types nothing, while the peer's lines come in: its file writes stay on
 * the event loop until one stalls on the file system (FS_STALL_MS), and after that none does
 * while the lines go on (session/incoming-sinks.ts SessionWriteMark), so the peer's next lines
 * are not held behind another such write every ASYNC_SPAN_BYTES. Two Sessions over the in-memory
 * pair, the receiver's file calls recorded and its synchronous writes timed by a fake clock.
 */

import { afterEach, expect, test } from "bun:test";
import { writeFileSync, writeSync, writevSync } from "node:fs";
import { join } from "node:path";
import { CHAT_ACTIVE_MS, FS_STALL_MS } from "../../src/session/limits.ts";
import { ASYNC_SPAN_BYTES, type FileWrites } from "../../src/transfer/write-behind.ts";
import { memorySessions } from "../memory-sessions.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Real writes, counted; the first synchronous one takes `firstMs` of a clock of its own; pooled ones done at the next turn. */
function recordedWrites(firstMs: number) {
  let t = 0;
  const counts = { sync: 0, pooled: 0 };
  const timed = () => {
    if (counts.sync++ === 0) t += firstMs;
  };
  const writes: FileWrites = {
    now: () => t,
    writeSync: (...args) => {
      timed();
      return writeSync(...args);
    },
    writevSync: (fd, parts, position) => {
      timed();
      return writevSync(fd, parts, position);
    },
    write: (fd, bytes, offset, length, position, done) => {
      counts.pooled++;
      // Written at once, said done at the test's next turn (as soon as the pool would be).
      const n = writeSync(fd, bytes, offset, length, position);
      queueMicrotask(() => done(null, n));
    },
  };
  return { writes, counts };
}

async function receiveWhileThePeerChats(firstMs: number) {
  const record = recordedWrites(firstMs);
  const p = memorySessions({ b: { writeBehind: record.writes } });
  cleanups.push(() => p.close());
  const { a, b } = p;
  const src = join(a.dir, "big.bin");
  const size = 3 * ASYNC_SPAN_BYTES;
  writeFileSync(src, new Uint8Array(size));
  a.session.sendChat("hello"); // only the sender's user types
  a.session.sendFile(src);
  for (let turn = 0; !b.seen.some((e) => e.type === "finished") && turn < 200_000; turn++) {
    if (turn % 400 === 0) a.session.sendChat(`line ${turn}`); // every 100 ms of the clock
    a.conn.deliver();
    b.conn.deliver();
    p.clock.advance(0.25);
    await null; // the pooled writes' callbacks
  }
  expect(b.seen.find((e) => e.type === "finished")).toBeDefined();
  return record.counts;
}

test("after a write stalls on the file system, none is synchronous while the peer's lines go on", async () => {
  const counts = await receiveWhileThePeerChats(FS_STALL_MS);
  expect(counts.sync).toBe(1); // the stalled one only
  expect(counts.pooled).toBeGreaterThan(0);
});

test("writes that do not stall stay synchronous (the pool's cost is paid only after a stall)", async () => {
  const counts = await receiveWhileThePeerChats(0);
  expect(counts.pooled).toBe(0);
  expect(counts.sync).toBeGreaterThan((3 * ASYNC_SPAN_BYTES) / (256 * 1024));
});

test("a stall in an earlier stretch of lines sends no write to the pool in a later one", async () => {
  const record = recordedWrites(FS_STALL_MS); // the first file's first write stalls
  const p = memorySessions({ b: { writeBehind: record.writes } });
  cleanups.push(() => p.close());
  const { a, b } = p;
  const receive = async (name: string, size: number) => {
    const src = join(a.dir, name);
    writeFileSync(src, new Uint8Array(size));
    const before = b.seen.filter((e) => e.type === "finished").length;
    a.session.sendChat(`sending ${name}`); // only the sender's user types
    a.session.sendFile(src);
    for (let turn = 0; b.seen.filter((e) => e.type === "finished").length === before && turn < 100_000; turn++) {
      if (turn % 400 === 0) a.session.sendChat(`line ${turn}`); // every 100 ms of the clock
      a.conn.deliver();
      b.conn.deliver();
      p.clock.advance(0.25);
      await null; // the pooled writes' callbacks
    }
    expect(b.seen.filter((e) => e.type === "finished")).toHaveLength(before + 1);
  };
  await receive("first.bin", 4 * 256 * 1024);
  expect(record.counts.sync).toBe(1); // the stalled one; the rest went to the pool
  // The lines stop and no write comes for longer than CHAT_ACTIVE_MS: that stretch is over.
  for (let ms = 0; ms < CHAT_ACTIVE_MS + 500; ms += 50) {
    a.conn.deliver();
    b.conn.deliver();
    p.clock.advance(50);
  }
  const pooledBefore = record.counts.pooled;
  await receive("second.bin", ASYNC_SPAN_BYTES / 2); // a new stretch of lines, no write stalls in it
  expect(record.counts.pooled, "a stall of the earlier stretch held over").toBe(pooledBefore);
});
