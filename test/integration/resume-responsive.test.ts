/**
 * Resuming a big file must not freeze the process: both sides hash the prefix the receiver
 * already has (the receiver to offer it, the sender to compare), and a multi-GiB prefix takes
 * seconds. Both peers share one process here, so any long stretch of hashing shows up as a
 * gap in a 1 ms heartbeat timer, and chat lines sent meanwhile would wait behind it.
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { connectedPair, type TestPeer } from "./peers.ts";

const peers: TestPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

/** Bytes the receiver already has: zeros, stored sparse, so the test writes almost nothing. */
const PREFIX_BYTES = 192 * 1024 * 1024;

/** A sparse file of `zeros` zero bytes followed by `tail`. */
function writeSparse(path: string, zeros: number, tail: Uint8Array): void {
  const fd = openSync(path, "w");
  try {
    if (tail.length > 0) writeSync(fd, tail, 0, tail.length, zeros);
    else if (zeros > 0) writeSync(fd, new Uint8Array(1), 0, 1, zeros - 1);
  } finally {
    closeSync(fd);
  }
}

test("hashing a 192 MiB resumed prefix on both sides leaves the event loop free", async () => {
  const [sender, receiver] = await connectedPair("sha256");
  peers.push(sender, receiver);
  const tail = crypto.getRandomValues(new Uint8Array(64 * 1024));
  const source = join(sender.dir, "big.bin");
  writeSparse(source, PREFIX_BYTES, tail);
  writeSparse(join(receiver.dir, "big.bin.part"), PREFIX_BYTES, new Uint8Array(0));

  let last = performance.now();
  let longestGap = 0;
  const heartbeat = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 1);
  let chatsSent = 0;
  const chatter = setInterval(() => sender.session?.sendChat(`line ${chatsSent++}`), 5);
  try {
    sender.session?.sendFile(source);
    const done = await receiver.waitFor("finished", () => true, 60_000);
    expect(done.done.resumedFrom).toBe(PREFIX_BYTES);
    expect(done.done.bytes).toBe(PREFIX_BYTES + tail.length);
  } finally {
    clearInterval(heartbeat);
    clearInterval(chatter);
  }

  // Hashed in one go, the stall was about 600 ms here (192 MiB of SHA-256 on each side); in
  // slices the longest gap measured 7-24 ms (100 leaves room for a slow, shared machine).
  expect(longestGap).toBeLessThan(100);
  // Chat went on while the prefix was being hashed: lines arrived before the transfer ended.
  expect(receiver.events.findIndex((e) => e.type === "chat")).toBeLessThan(
    receiver.events.findIndex((e) => e.type === "finished"),
  );
  const stored = readFileSync(join(receiver.dir, "big.bin"));
  expect(stored.length).toBe(PREFIX_BYTES + tail.length);
  expect(Buffer.compare(stored.subarray(PREFIX_BYTES), Buffer.from(tail))).toBe(0);
  expect(stored.subarray(0, PREFIX_BYTES).every((b) => b === 0)).toBe(true);
});

test("a resumed transfer cancelled while the prefix is being hashed stops cleanly on both sides", async () => {
  const [sender, receiver] = await connectedPair("sha256");
  peers.push(sender, receiver);
  const source = join(sender.dir, "big.bin");
  writeSparse(source, PREFIX_BYTES, crypto.getRandomValues(new Uint8Array(1024)));
  writeSparse(join(receiver.dir, "big.bin.part"), PREFIX_BYTES, new Uint8Array(0));

  sender.session?.sendFile(source);
  const started = await receiver.waitFor("started");
  receiver.session?.cancel(started.info.id);
  await sender.waitFor("failed");
  await receiver.waitFor("failed");
  // Both still talk afterwards.
  sender.session?.sendChat("still here");
  await receiver.waitFor("chat", (e) => e.text === "still here");
  writeFileSync(join(sender.dir, "small.txt"), "small");
  sender.session?.sendFile(join(sender.dir, "small.txt"));
  await receiver.waitFor("finished", (e) => e.done.name === "small.txt");
});
