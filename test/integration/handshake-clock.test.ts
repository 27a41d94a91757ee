/**
 * The handshake adapter on a manual clock over in-memory connections (issue 12.2): its
 * timers run on the injected Clock, so "silent for 2 s" and "no handshake within 5 s" are
 * reached without waiting and without sockets.
 */

import { expect, test } from "bun:test";
import { dropWords } from "../../src/cli/drop-words.ts";
import { RecordSealer } from "../../src/crypto/index.ts";
import { memoryPair } from "../../src/net/index.ts";
import { encodeMessage, makeHello } from "../../src/protocol/index.ts";
import { FIRST_HELLO_MS, HELLO_TIMEOUT_MS, Rendezvous } from "../../src/session/index.ts";
import { ManualClock } from "../memory-sessions.ts";

function rendezvous(clock: ManualClock, dropped: string[], firstHelloMs?: number): Rendezvous {
  const none = () => {};
  return new Rendezvous({
    downloadDir: "/nonexistent",
    checksum: "xxh3",
    codeWords: "ribbon-walnut",
    clock,
    ...(firstHelloMs === undefined ? {} : { firstHelloMs }),
    events: {
      chatReceived: none,
      transferStarted: none,
      transferProgressed: none,
      transferFinished: none,
      transferFailed: none,
      peerLeft: none,
      connectionLost: none,
      closed: none,
    },
    rendezvousEvents: { connected: none, wrongCode: none, dropped: (_a, reason) => dropped.push(dropWords(reason)) },
  });
}

test("a silent connection is dropped when the manual clock passes FIRST_HELLO_MS, not before", () => {
  const clock = new ManualClock();
  const dropped: string[] = [];
  const [ours] = memoryPair();
  rendezvous(clock, dropped).accepted(ours);
  clock.advance(FIRST_HELLO_MS - 1);
  expect(dropped).toEqual([]);
  expect(ours.closed).toBe(false);
  clock.advance(1);
  expect(dropped).toEqual(["not a Parley peer (no greeting)"]);
  expect(ours.closed).toBe(true);
});

// The option tests set (the CLI's PARLEY_FIRST_HELLO_MS) shortens the wait; it never lengthens it.
test.each([
  [500, 500],
  [FIRST_HELLO_MS * 5, FIRST_HELLO_MS],
])("firstHelloMs %d: a silent connection is dropped at %d ms, not before", (option, dropAt) => {
  const clock = new ManualClock();
  const dropped: string[] = [];
  const [ours] = memoryPair();
  rendezvous(clock, dropped, option).accepted(ours);
  clock.advance(dropAt - 1);
  expect(dropped).toEqual([]);
  clock.advance(1);
  expect(dropped).toEqual(["not a Parley peer (no greeting)"]);
});

test("a HELLO and then nothing: dropped when the manual clock passes HELLO_TIMEOUT_MS", async () => {
  const clock = new ManualClock();
  const dropped: string[] = [];
  const [ours, theirs] = memoryPair();
  const r = rendezvous(clock, dropped);
  await import("../../src/crypto/index.ts").then((c) => c.loadPake());
  r.accepted(ours);
  theirs.write(new RecordSealer().seal(encodeMessage(makeHello("0123456789abcdef", "x", [], "code"))));
  theirs.deliver();
  clock.advance(HELLO_TIMEOUT_MS - 1);
  expect(dropped).toEqual([]);
  clock.advance(1);
  expect(dropped).toEqual([
    "its greeting did not finish within 5 s (not a Parley peer, or one too slow to answer: a busy machine)",
  ]);
});
