/**
 * Resuming a big file must not freeze the process: both sides hash the prefix the receiver
 * already has (the receiver to offer it, the sender to compare), and a multi-GiB prefix takes
 * seconds. Both peers share one process here, so any long stretch of hashing shows up as a
 * gap in a 1 ms heartbeat timer, and chat lines sent meanwhile would wait behind it.
 * And while the receiver hashes, a peer that does not wait for ACCEPT is refused.
 */

import { afterEach, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { encodeDataHeader, encodeMessage } from "../../src/protocol/index.ts";
import { rawParley } from "../raw-parley.ts";
import { connectedPair, markAsParleyPart, TestPeer } from "./peers.ts";

const peers: TestPeer[] = [];
const sockets: Array<{ destroy(): void }> = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
});

/** Bytes the receiver already has: zeros, stored sparse, so the test writes almost nothing. */
const PREFIX_BYTES = 192 * 1024 * 1024;
/** The event-loop test's prefix: half, and still ~30 times the turns of a hash in one go. */
const LOOP_PREFIX_BYTES = 96 * 1024 * 1024;

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

test("hashing a 96 MiB resumed prefix on both sides leaves the event loop free", async () => {
  const [sender, receiver] = await connectedPair("sha256");
  peers.push(sender, receiver);
  const tail = crypto.getRandomValues(new Uint8Array(64 * 1024));
  const source = join(sender.dir, "big.bin");
  writeSparse(source, LOOP_PREFIX_BYTES, tail);
  writeSparse(join(receiver.dir, "big.bin.part"), LOOP_PREFIX_BYTES, new Uint8Array(0));
  markAsParleyPart(join(receiver.dir, "big.bin.part"), source);

  // A 1 ms heartbeat counts the turns of the event loop that come while either side is still
  // hashing the prefix. Hashed in one go (the stall this test guards against), no turn comes in
  // between; in slices, turns come between the slices however loaded the machine is. Counting
  // turns, not measuring gaps, keeps the test from asserting a speed.
  let turnsWhileChecking = 0;
  const checking = (peer: TestPeer) => peer.session?.transferStatus.some((t) => t.checking) ?? false;
  const heartbeat = setInterval(() => {
    if (checking(sender) || checking(receiver)) turnsWhileChecking++;
  }, 1);
  let chatsSent = 0;
  const chatter = setInterval(() => sender.session?.sendChat(`line ${chatsSent++}`), 5);
  try {
    sender.session?.sendFile(source);
    const done = await receiver.waitFor("finished", () => true, 60_000);
    expect(done.done.resumedFrom).toBe(LOOP_PREFIX_BYTES);
    expect(done.done.bytes).toBe(LOOP_PREFIX_BYTES + tail.length);
  } finally {
    clearInterval(heartbeat);
    clearInterval(chatter);
  }

  // 96 MiB hashed on each side in slices: 59 turns here idle (123 for 192 MiB; about 200 for
  // 192 MiB on a loaded machine); hashed in one go, 2 (the turns between the two sides' hashing).
  expect(turnsWhileChecking).toBeGreaterThanOrEqual(10);
  // Chat went on while the prefix was being hashed: lines arrived before the transfer ended.
  expect(receiver.events.findIndex((e) => e.type === "chat")).toBeLessThan(
    receiver.events.findIndex((e) => e.type === "finished"),
  );
  const stored = readFileSync(join(receiver.dir, "big.bin"));
  expect(stored.length).toBe(LOOP_PREFIX_BYTES + tail.length);
  expect(Buffer.compare(stored.subarray(LOOP_PREFIX_BYTES), Buffer.from(tail))).toBe(0);
  expect(stored.subarray(0, LOOP_PREFIX_BYTES).every((b) => b === 0)).toBe(true);
});

test("a resumed transfer cancelled while the prefix is being hashed stops cleanly on both sides", async () => {
  const [sender, receiver] = await connectedPair("sha256");
  peers.push(sender, receiver);
  const source = join(sender.dir, "big.bin");
  writeSparse(source, PREFIX_BYTES, crypto.getRandomValues(new Uint8Array(1024)));
  writeSparse(join(receiver.dir, "big.bin.part"), PREFIX_BYTES, new Uint8Array(0));
  markAsParleyPart(join(receiver.dir, "big.bin.part"), source);

  sender.session?.sendFile(source);
  const started = await receiver.waitFor("started");
  // `transfers` says the resume is being checked rather than showing the prefix as received.
  expect(receiver.session?.transferStatus.map((t) => t.checking)).toEqual([true]);
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

/** A receiver with a resumable `big.bin.part` (hashing it takes a while) and a hand-made peer. */
async function hashingReceiver() {
  const target = new TestPeer("target");
  peers.push(target);
  const part = join(target.dir, "big.bin.part");
  writeSparse(part, PREFIX_BYTES, new Uint8Array(0));
  markAsParleyPart(part);
  const raw = await rawParley(target.listener.port, { leader: false, words: target.codeWords });
  sockets.push(raw.socket);
  await target.waitForSession();
  return { target, raw, part };
}

test("START before our ACCEPT (sent while the prefix is hashed) ends the connection and keeps the .part", async () => {
  const { target, raw, part } = await hashingReceiver();
  const tail = crypto.getRandomValues(new Uint8Array(1024));
  const size = PREFIX_BYTES + tail.length;
  raw.send(
    Buffer.concat([
      encodeMessage({ kind: "offer", id: 1, name: "big.bin", size, algo: "sha256" }),
      encodeMessage({ kind: "start", id: 1, offset: PREFIX_BYTES }),
      encodeDataHeader(1, tail.length),
      tail,
      encodeMessage({ kind: "end", id: 1, bytes: size, algo: "sha256", digest: "00".repeat(32) }),
    ]),
  );
  const lost = await target.waitFor("lost");
  expect(lost.reason).toContain("before ACCEPT");
  expect(existsSync(part)).toBe(true);
  expect(existsSync(join(target.dir, "big.bin"))).toBe(false);
});

test("END before START ends the connection, and the .part is closed (kept for a resume)", async () => {
  const { target, raw, part } = await hashingReceiver();
  raw.send(
    Buffer.concat([
      encodeMessage({ kind: "offer", id: 1, name: "big.bin", size: PREFIX_BYTES + 10, algo: "sha256" }),
      encodeMessage({ kind: "end", id: 1, bytes: PREFIX_BYTES + 10, algo: "sha256", digest: "00".repeat(32) }),
    ]),
  );
  const lost = await target.waitFor("lost");
  expect(lost.reason).toContain("before START");
  await target.waitFor("failed");
  const openOnPart = readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === part;
    } catch {
      return false;
    }
  });
  expect(openOnPart).toEqual([]);
  expect(existsSync(part)).toBe(true);
});
