/**
 * A line from the peer holds our DATA as a line of ours does (Scheduler.peerChatted): both
 * ways, with only the peer typing, our DATA un-ACKed drops from the window to one record
 * (BOTH_WAYS_CHAT_WINDOW_BYTES), so the typist's loop gets a turn between fewer of our records.
 */

import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BOTH_WAYS_CHAT_WINDOW_BYTES } from "../../src/session/limits.ts";
import { memorySessions } from "../memory-sessions.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test("both ways, our DATA un-ACKed is held to one record once the peer chats, though we do not", () => {
  const p = memorySessions();
  cleanups.push(() => p.close());
  const { a, b } = p;
  const src = join(a.dir, "big.bin");
  writeFileSync(src, new Uint8Array(64 * 1024 * 1024));
  a.session.sendFile(src);
  const back = join(b.dir, "back.bin");
  writeFileSync(back, new Uint8Array(64 * 1024 * 1024));
  b.session.sendFile(back); // both ways
  // A turn of the event loop each 0.25 ms (a fast short path); the receiver's ACKs come back
  // every fourth turn, so our window, not a turn's share, is what holds our DATA.
  let turn = 0;
  const turns = (n: number) => {
    let most = 0;
    for (let i = 0; i < n; i++) {
      a.conn.deliver();
      most = Math.max(most, a.session.unackedBytes);
      if (++turn % 4 === 0) b.conn.deliver(); // b's ACKs (and its DATA) every fourth turn
      p.clock.advance(0.25);
    }
    return most;
  };
  turns(80); // past the window's start
  expect(turns(40)).toBeGreaterThan(BOTH_WAYS_CHAT_WINDOW_BYTES); // nobody chats: the window
  b.session.sendChat("hi");
  b.conn.deliver();
  expect(a.seen.some((e) => e.type === "chat")).toBe(true);
  turns(8); // what was in flight before the line
  expect(turns(40)).toBeLessThanOrEqual(BOTH_WAYS_CHAT_WINDOW_BYTES);
});
