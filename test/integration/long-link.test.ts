/**
 * A link with a long round trip (a relay on 127.0.0.1 that holds every chunk 400 ms each way):
 * the send window, sized in time, grows past its loopback floor so the link is not capped at
 * floor / round trip, the file arrives intact, and chat still goes both ways meanwhile. Once the
 * window has grown past the floor the relay's delay is dropped for the rest of the file.
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dial } from "../../src/net/index.ts";
import { WINDOW_BYTES } from "../../src/session/limits.ts";
import { type Relay, startRelay } from "../relay.ts";
import { TestPeer, writeRandomFile } from "./peers.ts";

const peers: TestPeer[] = [];
const relays: Relay[] = [];
afterEach(() => {
  for (const r of relays.splice(0)) r.stop();
  for (const p of peers.splice(0)) p.close();
});

test("over an 800 ms round trip the send window grows past its floor; file intact, chat flows", async () => {
  const alice = new TestPeer("alice", "xxh3");
  const bob = new TestPeer("bob", "xxh3");
  peers.push(alice, bob);
  // The window grows past its floor only where the path carries more than the floor per round
  // trip: this test's relay shares one process with both peers, and under load it carried 2.6 MB/s,
  // 0.57 MB per 200 ms (the window rightly stayed at its 1.5 MiB floor); at 800 ms that is 2 MB.
  // The handshake goes through at once (its two round trips took 1.7 s at 800 ms); every DATA
  // frame, every ACK and the chat line then take the long way (the window sees no other path:
  // it samples round trips only of DATA, and starts young whatever the handshake took).
  const relay = await startRelay(bob.listener.port);
  relays.push(relay);
  await alice.rendezvous.dialed(await dial("127.0.0.1", relay.port), bob.codeWords);
  const [sending] = await Promise.all([alice.waitForSession(), bob.waitForSession()]);
  relay.setDelayMs(400);

  const path = join(alice.dir, "far.bin");
  const bytes = writeRandomFile(path, 16 * 1024 * 1024);
  let widest = 0;
  let grownAt: number | undefined;
  alice.onProgress = (_info, bytes) => {
    widest = Math.max(widest, sending.sendWindowBytes);
    // Once past the floor the case is made: the rest of the file goes over a short link (what
    // the relay holds still goes out in order), instead of ~4 s more of 800 ms round trips.
    if (grownAt === undefined && widest > WINDOW_BYTES) {
      grownAt = bytes;
      relay.setDelayMs(0);
    }
  };
  sending.sendFile(path);
  sending.sendChat("over the long link");
  const done = await bob.waitFor("finished", () => true, 110_000);

  expect(done.done.bytes).toBe(bytes.length);
  expect(Buffer.compare(readFileSync(join(bob.dir, "far.bin")), Buffer.from(bytes))).toBe(0);
  // A fixed window would have stayed at WINDOW_BYTES (and the link at 1.5 MiB per 800 ms): any
  // growth past it is the behaviour under test. How far it grows follows the delivery rate, a
  // speed: 2.8 MB on an idle machine, 1.97 MB with the load average at 15, so no bound on that.
  expect(widest).toBeGreaterThan(WINDOW_BYTES);
  // It grew while most of the file was still to go: the growth, not the end, cut the delay.
  expect(grownAt, "bytes sent when the window passed its floor").toBeLessThan(bytes.length / 2);
  expect(bob.events.some((e) => e.type === "chat" && e.text === "over the long link")).toBe(true);
}, 120_000);
