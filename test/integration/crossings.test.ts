/**
 * Message orderings, scheduled by hand: two sessions over an in-memory connection whose frames
 * move only when the test delivers them (test/memory-sessions.ts), on a manual clock. Each
 * test names the crossing, or the issue 11 item it covers.
 */

import { afterEach, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { resumeHint } from "../../src/cli/reason-words.ts";
import { encodeMessage, FrameType } from "../../src/protocol/index.ts";
import { ACK_EVERY_BYTES, type TransferInfo, WINDOW_BYTES } from "../../src/session/index.ts";
import { YOUNG_WINDOW_BYTES } from "../../src/session/send-window.ts";
import { Asker } from "../../src/ui/index.ts";
import { type MemorySide, memorySessions } from "../memory-sessions.ts";
import { markAsParleyPart } from "./peers.ts";

const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

function pair(options: Parameters<typeof memorySessions>[0] = {}) {
  const p = memorySessions(options);
  opened.push(p);
  return p;
}

function file(side: MemorySide, name: string, size: number): string {
  const path = join(side.dir, name);
  writeFileSync(path, Buffer.alloc(size, 0x5a));
  return path;
}

/** Both still open and talking: a chat line each way arrives. */
function stillTalking(a: MemorySide, b: MemorySide): void {
  a.session.sendChat("from a");
  b.session.sendChat("from b");
  a.conn.deliver();
  b.conn.deliver();
  expect(b.seen).toContainEqual({ type: "chat", text: "from a" });
  expect(a.seen).toContainEqual({ type: "chat", text: "from b" });
  expect([...a.seen, ...b.seen].filter((e) => e.type === "lost")).toEqual([]);
}

/** Waits (event-loop turns, bounded) until `condition` holds; fails the test if it never does. */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 2000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error("the condition never held");
}

const failed = (side: MemorySide) => side.seen.filter((e) => e.type === "failed");
type FailedSeen = Extract<MemorySide["seen"][number], { type: "failed" }>;

test("ACCEPT crossing CANCEL (11.14): the sender ignores the late ACCEPT, the receiver drops the transfer", () => {
  const { a, b } = pair();
  a.session.sendFile(file(a, "x.bin", 10_000));
  a.conn.deliver(); // OFFER
  expect(b.pendingTypes()).toEqual([FrameType.Accept]);
  expect(a.session.cancel(1)).toBe(true); // CANCEL leaves a while ACCEPT is on its way
  b.conn.deliver(); // the late ACCEPT reaches a
  a.conn.deliver(); // CANCEL reaches b
  expect(failed(a)).toMatchObject([{ code: "E_CANCELLED", words: "cancelled by the sender" }]);
  expect(failed(b)).toMatchObject([
    { code: "E_CANCELLED", peerCode: "E_CANCELLED", words: "the peer cancelled it: cancelled by the sender" },
  ]);
  expect(a.pendingTypes()).not.toContain(FrameType.Data);
  stillTalking(a, b);
  expect(readdirSync(b.dir)).toEqual([]);
});

test("RECEIVED crossing CANCEL (11.14): the file is stored, the late RECEIVED and CANCEL are both ignored", () => {
  const { a, b } = pair();
  // Small enough for the first DATA frame of a young send window (send-window.ts): DATA and END go at once.
  a.session.sendFile(file(a, "x.bin", 4_000));
  a.conn.deliver(); // OFFER
  b.conn.deliver(); // ACCEPT: a writes DATA and END
  expect(a.pendingTypes()).toEqual([FrameType.Data, FrameType.End]);
  a.conn.deliver(); // b stores the file and answers ACK + RECEIVED
  expect(b.seen.some((e) => e.type === "finished")).toBe(true);
  expect(a.session.cancel(1)).toBe(true); // cancelled after END: CANCEL crosses RECEIVED
  b.conn.deliver();
  a.conn.deliver();
  expect(failed(a)).toMatchObject([{ code: "E_CANCELLED" }]);
  expect(failed(b)).toEqual([]);
  expect(readFileSync(join(b.dir, "x.bin")).length).toBe(4_000);
  stillTalking(a, b);
});

test("END before START: a peer that ends a resumed transfer before START breaks the protocol; the .part stays", () => {
  const { a, b } = pair();
  const part = join(b.dir, "r.bin.part");
  writeFileSync(part, Buffer.alloc(4096, 1));
  markAsParleyPart(part);
  // a plays a hand-made peer: OFFER, then END at once (no START, which needs b's ACCEPT first).
  a.conn.write(encodeMessage({ kind: "offer", id: 1, name: "r.bin", size: 8192, algo: "xxh3" }));
  a.conn.write(encodeMessage({ kind: "end", id: 1, bytes: 8192, algo: "xxh3", digest: "00" }));
  a.conn.deliver();
  expect(b.seen.filter((e) => e.type === "lost")).toMatchObject([
    { reason: expect.stringContaining("END for transfer 1 before START") },
  ]);
  expect(existsSync(part)).toBe(true);
});

test("11.14: a CANCEL that arrives while the receiver is deciding is honoured: no ACCEPT follows", async () => {
  let answer: (yes: true) => void = () => {};
  const { a, b } = pair({ b: { decideOffer: () => new Promise((resolve) => (answer = resolve)) } });
  a.session.sendFile(file(a, "x.bin", 10_000));
  a.conn.deliver(); // OFFER: b asks its user
  expect(a.session.cancel(1)).toBe(true);
  a.conn.deliver(); // CANCEL reaches b while it is deciding
  expect(failed(b)).toMatchObject([{ code: "E_CANCELLED", peerCode: "E_CANCELLED" }]);
  answer(true); // the user says yes, too late
  await Promise.resolve();
  await Promise.resolve();
  expect(b.pendingTypes()).not.toContain(FrameType.Accept);
  expect(readdirSync(b.dir)).toEqual([]);
  stillTalking(a, b);
});

test("11.14: `cancel` reaches an offer still being decided, and the sender is told", () => {
  const { a, b } = pair({ b: { decideOffer: () => new Promise(() => {}) } });
  a.session.sendFile(file(a, "x.bin", 10_000));
  a.conn.deliver();
  expect(b.session.cancel(1)).toBe(true);
  expect(b.pendingTypes()).toEqual([FrameType.Cancel]);
  b.conn.deliver();
  expect(failed(a)).toMatchObject([{ code: "E_CANCELLED", peerCode: "E_CANCELLED" }]);
  stillTalking(a, b);
});

test("11.17: an offer cancelled while an earlier question waits for its answer is never asked", async () => {
  const answers = new PassThrough();
  let shown = "";
  const asker = new Asker(answers, { write: (text: string) => (shown += text) });
  const { a, b } = pair({
    b: {
      decideOffer: (offer, stillWanted) =>
        asker.ask(`Accept ${offer.name}? `, stillWanted).then((yes) => yes || "the receiver said no"),
    },
  });
  a.session.sendFile(file(a, "first.bin", 1000));
  a.session.sendFile(file(a, "second.bin", 1000));
  a.conn.deliver(); // both OFFERs: b asks about the first, the second waits its turn
  await until(() => shown === "Accept first.bin? ");
  expect(a.session.cancel(3)).toBe(true); // the sender gives up on the second meanwhile
  a.conn.deliver();
  answers.write("y\n"); // the answer to the first question
  await until(() => b.pendingTypes().includes(FrameType.Accept));
  await Promise.resolve();
  expect(shown).toBe("Accept first.bin? y\n"); // the piped answer echoed; the second question never appeared
  expect(failed(b)).toMatchObject([{ code: "E_CANCELLED", peerCode: "E_CANCELLED" }]);
  asker.close();
});

test("11.16: a side that only sends declines every offer unasked, with its own code", () => {
  let asked = 0;
  const { a, b } = pair({
    b: {
      refuseOffers: { code: "E_SEND_ONLY", reason: "this side only sends" },
      decideOffer: () => {
        asked++;
        return true;
      },
    },
  });
  a.session.sendFile(file(a, "evil.sh", 100));
  a.conn.deliver();
  b.conn.deliver();
  expect(asked).toBe(0);
  expect(failed(a)).toMatchObject([{ code: "E_REJECTED", peerCode: "E_SEND_ONLY" }]);
  expect(readdirSync(b.dir)).toEqual([]);
});

/**
 * Runs `a` -> `b` transfers with a round trip of `rttMs` on the manual clock until `done`; the
 * clock moves a millisecond at a time, each a turn of the event loop (a sender writes a turn's
 * share of DATA in each).
 */
function run(a: MemorySide, b: MemorySide, clock: { advance(ms: number): void }, rttMs: number, done: () => boolean) {
  const wait = (ms: number) => {
    for (let t = 0; t < ms; t++) clock.advance(1);
  };
  for (let i = 0; i < 10_000 && !done(); i++) {
    a.conn.deliver();
    wait(rttMs / 2);
    b.conn.deliver();
    wait(rttMs / 2);
  }
  expect(done()).toBe(true);
}

test("11.20: the receiver ACKs at END, so nothing stays un-ACKed and a long path's window starts over after idling", () => {
  const { a, b, clock } = pair();
  const finished = () => b.seen.filter((e) => e.type === "finished").length;
  // A file that is not a multiple of the ACK step, over a 40 ms round trip (a long path).
  a.session.sendFile(file(a, "first.bin", 24 * ACK_EVERY_BYTES + 12_345));
  run(a, b, clock, 40, () => a.seen.some((e) => e.type === "finished"));
  expect(finished()).toBe(1);
  expect(a.session.unackedBytes).toBe(0);
  expect(a.session.sendWindowBytes).toBeGreaterThan(WINDOW_BYTES); // it grew on the long path
  clock.advance(2_000); // idle
  a.session.sendFile(file(a, "second.bin", 1000));
  a.conn.deliver(); // OFFER
  b.conn.deliver(); // ACCEPT: the first DATA goes out with the window back at its start
  // Young again (these peers ACK early), as at the session's start: TCP restarted its window too.
  expect(a.session.sendWindowBytes).toBe(YOUNG_WINDOW_BYTES);
});

test("a late DATA frame for a cancelled transfer is dropped and ACKed at once", () => {
  const { a, b } = pair();
  a.session.sendFile(file(a, "x.bin", 100_000));
  a.conn.deliver();
  b.conn.deliver(); // ACCEPT: DATA + END wait in a's outbox
  expect(b.session.cancel(1)).toBe(true);
  a.conn.deliver(); // DATA and END for the cancelled transfer: ignored
  b.conn.deliver(); // CANCEL and ACK reach a
  expect(a.session.unackedBytes).toBe(0);
  stillTalking(a, b);
});

export type { TransferInfo };

test("keepalive on the manual clock: PING after 5 s without a word from us, PONG back; a peer silent for 30 s is lost", () => {
  const { a, b, clock } = pair();
  clock.advance(4_999);
  expect(a.pendingTypes()).toEqual([]);
  clock.advance(1);
  expect(a.pendingTypes()).toEqual([FrameType.Ping]);
  a.conn.deliver();
  expect(b.pendingTypes()).toContain(FrameType.Pong);
  // Nothing of b's reaches a any more.
  clock.advance(30_001);
  expect(a.seen).toContainEqual({ type: "lost", reason: "connection lost: no word from the peer for 30 s" });
});

/**
 * a's x.bin (8 KiB) offered to b, which holds an earlier try's `.part` of it (4 KiB, marked for
 * a) whose bytes a's file no longer has: b hashes it and offers the resume, a compares. Returns
 * once `until` holds (turns of the manual clock and of the real loop: both sides hash real files).
 */
async function changedSinceTheEarlierTry(until: (a: MemorySide, b: MemorySide) => boolean) {
  const p = pair();
  const src = file(p.a, "x.bin", 8192);
  const part = join(p.b.dir, "x.bin.part");
  writeFileSync(part, Buffer.alloc(4096, 1));
  markAsParleyPart(part, src);
  p.a.session.sendFile(src);
  for (let i = 0; i < 500 && !until(p.a, p.b); i++) {
    // What `until` waits for is left undelivered: checked before each delivery.
    p.a.conn.deliver();
    p.b.conn.deliver();
    p.clock.advance(1);
    await Bun.sleep(0);
  }
  expect(until(p.a, p.b)).toBe(true);
  return p;
}

test("review22: cut while the receiver waits for the sender's answer to its resume (START): it says the resume comes only if the file has not changed", async () => {
  // b's ACCEPT (offset 4096, its digest) is written, not read: a's check, which finds the file
  // changed (a resend starts over), has not begun; b cannot know its outcome.
  const { a, b } = await changedSinceTheEarlierTry((_, b) => b.pendingTypes().includes(FrameType.Accept));
  a.conn.destroy();
  const [sent, received] = [failed(a)[0], failed(b)[0]] as [FailedSeen, FailedSeen];
  // The old receiver promised the resume outright.
  expect(resumeHint(received.info, received.code)).toBe(
    "; the sender sending it again resumes it if its file has not changed",
  );
  expect(resumeHint(sent.info, sent.code)).toBe("; sending it again resumes it if the receiver kept part of it");
});

test("review22: cut while the sender compares the receiver's bytes with its file: both say the resume comes only if the file has not changed", async () => {
  const { a, b } = await changedSinceTheEarlierTry((_, b) => b.pendingTypes().includes(FrameType.Accept));
  b.conn.deliver(); // b's ACCEPT (offset 4096 and its digest) reaches a, whose check begins
  a.conn.destroy();
  const [sent, received] = [failed(a)[0], failed(b)[0]] as [FailedSeen, FailedSeen];
  expect(resumeHint(sent.info, sent.code)).toBe("; sending it again resumes it if the file has not changed");
  expect(resumeHint(received.info, received.code)).toBe(
    "; the sender sending it again resumes it if its file has not changed",
  );
});
