/**
 * ACKs through a relay (session/limits.ts RELAY_ACK_EVERY_BYTES): on a channel marked as relayed,
 * a receiver whose peer offers "relay-window" ACKs every 512 KiB instead of every record, and
 * the sender's window stays at 1 MiB or more, so the transfer never waits on a missing ACK; a
 * peer without the feature keeps the usual cadence. Two sessions on real sockets on 127.0.0.1;
 * the receiver's records are counted under its SecureConnection (it sends nothing but ACKs and
 * the transfer's end).
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ForwardingConnection } from "../../src/net/index.ts";
import { Feature } from "../../src/protocol/index.ts";
import { writeRandomFile } from "./peers.ts";
import { secureSessionSide } from "./secure-session-side.ts";
import { socketPair } from "./socket-pair.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 5 + 1);
const KEY_B = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Counts the records written through it (one write is one record under SecureConnection). */
class WriteCounting extends ForwardingConnection {
  writes = 0;
  override write(bytes: Uint8Array): void {
    this.writes++;
    super.write(bytes);
  }
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

const FILE_BYTES = 24 * 1024 * 1024;

/**
 * Sends FILE_BYTES from a to b over a relayed channel pair; each side takes its peer to offer
 * `features`. @returns the records b wrote (its ACKs, and RECEIVED)
 */
async function relayedTransfer(features: readonly string[]): Promise<number> {
  const [ca, cb] = await socketPair(cleanups);
  const counted = new WriteCounting(cb);
  const a = secureSessionSide(ca, "dialed", KEY, KEY_B, cleanups, { relayed: true, peerFeatures: features });
  const b = secureSessionSide(counted, "accepted", KEY_B, KEY, cleanups, { relayed: true, peerFeatures: features });
  const src = join(a.dir, "relayed.bin");
  const bytes = writeRandomFile(src, FILE_BYTES);
  a.session.sendFile(src);
  await waitFor("the transfer", () => b.events.some((e) => e.type === "finished"), 60_000);
  expect(readFileSync(join(b.dir, "relayed.bin")).equals(bytes)).toBe(true);
  expect(b.events.filter((e) => e.type === "failed")).toEqual([]);
  return counted.writes;
}

test("through a relay, a peer that keeps the relay window is ACKed every 512 KiB: the file verifies", async () => {
  const withFeature = await relayedTransfer([Feature.EarlyAcks, Feature.RelayWindow]);
  // One ACK per 256 KiB record would be ~96 in the steady part alone; every 512 KiB, ~44 there,
  // plus the early ACKs of the first 2 MiB (a quarter of what was consumed so far).
  expect(withFeature).toBeLessThan(70);
  expect(withFeature).toBeGreaterThan(FILE_BYTES / (512 * 1024) - 1);
}, 90_000);

test("through a relay, a peer without the feature is ACKed as usual (every record)", async () => {
  const without = await relayedTransfer([Feature.EarlyAcks]);
  expect(without).toBeGreaterThan(FILE_BYTES / (256 * 1024));
}, 90_000);
