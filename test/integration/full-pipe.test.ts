/**
 * Issue 11 item 21, through a session: `receive --stdout` into a pipe nobody reads. The
 * receiving session ACKs only what went into the pipe, so the sender stops at its window
 * (nothing piles up, nothing blocks); once the reader reads, the rest follows, byte for byte.
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameType } from "../../src/protocol/index.ts";
import { WINDOW_BYTES } from "../../src/session/index.ts";
import { StreamReceiver } from "../../src/transfer/index.ts";
import { memorySessions } from "../memory-sessions.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test("11.21: a full output pipe holds the sender back at its window; the file arrives whole once it is read", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-pipe-"));
  const path = join(dir, "pipe");
  Bun.spawnSync(["mkfifo", path]);
  const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const p = memorySessions({ b: { openSink: (offer, algo) => new StreamReceiver(w, offer.name, offer.size, algo) } });
  cleanups.push(() => {
    p.close();
    closeSync(r);
    closeSync(w);
    rmSync(dir, { recursive: true, force: true });
  });
  const { a, b } = p;
  const size = 8 * WINDOW_BYTES;
  const data = Uint8Array.from({ length: size }, (_, i) => (i * 13) & 0xff);
  const src = join(a.dir, "big.bin");
  writeFileSync(src, data);
  a.session.sendFile(src);
  for (let i = 0; i < 50; i++) {
    a.conn.deliver();
    b.conn.deliver();
    p.clock.advance(1); // a turn of the event loop: the sender's continuation runs
  }
  // Nobody reads: the sender sent at most a window beyond what went into the pipe, and stopped.
  const sentSoFar = b.seen.filter((e) => e.type === "progress").at(-1);
  expect(sentSoFar && sentSoFar.type === "progress" && sentSoFar.bytes).toBeLessThanOrEqual(WINDOW_BYTES + 256 * 1024);
  expect(a.pendingTypes()).not.toContain(FrameType.Data);
  expect(a.session.unackedBytes).toBeGreaterThan(0);
  // The reader reads: everything follows.
  const got: number[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (let i = 0; i < 20_000 && !a.seen.some((e) => e.type === "finished"); i++) {
    for (;;) {
      let n = 0;
      try {
        n = readSync(r, buf, 0, buf.length, null);
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN") throw err;
      }
      if (n <= 0) break;
      for (let k = 0; k < n; k++) got.push(buf[k] as number);
    }
    a.conn.deliver();
    b.conn.deliver();
    p.clock.advance(1);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  expect(a.seen.some((e) => e.type === "finished")).toBe(true);
  expect(got.length).toBe(size);
  expect(Buffer.compare(Buffer.from(got), Buffer.from(data))).toBe(0);
}, 60_000);
