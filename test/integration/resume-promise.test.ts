/**
 * "Sending it again resumes it" is said only where the receiver holds some of the file: a
 * sender's Ctrl-C before it read the receiver's ACCEPT (nothing sent, nothing stored) gets no
 * such promise on either side (review21 item 4: the receiver promised it, the sender did not).
 * Cut before the receiver answered, the sender cannot know whether the receiver holds part of
 * it from an earlier try (review22): it says so instead of promising nothing.
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resumeHint } from "../../src/cli/reason-words.ts";
import type { OfferDecision, TransferInfo } from "../../src/session/index.ts";
import { type OutgoingHost, OutgoingTransfers } from "../../src/session/outgoing.ts";
import type { FrameSource } from "../../src/transfer/index.ts";
import { connectedPair, markAsParleyPart, TestPeer as Peer, type TestPeer, writeRandomFile } from "./peers.ts";

const peers: TestPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

/**
 * Alice and bob connected, and alice's early.bin (300,000 random bytes) not yet offered: bob
 * answers what comes with `answer` (accepts it by default), and alice's Ctrl-C comes in the same
 * turn as bob's decision, before bob's ACCEPT can reach her.
 */
async function interruptedAtTheAccept(
  answer: () => OfferDecision | Promise<OfferDecision> = () => true,
): Promise<{ alice: TestPeer; bob: TestPeer; src: string }> {
  let alice: TestPeer | undefined;
  const bob = new Peer("bob", "sha256", {
    session: {
      decideOffer: () => {
        alice?.session?.abort("interrupted");
        return answer();
      },
    },
  });
  alice = new Peer("alice");
  peers.push(alice, bob);
  await alice.dialTo(bob);
  await Promise.all([alice.waitForSession(), bob.waitForSession()]);
  const src = join(alice.dir, "early.bin");
  writeRandomFile(src, 300_000);
  return { alice, bob, src };
}

test("a sender's Ctrl-C before it read the ACCEPT: the receiver, holding none, promises no resume; the sender cannot know and says so", async () => {
  const { alice, bob, src } = await interruptedAtTheAccept();
  alice.session?.sendFile(src);
  const sent = await alice.waitFor("failed");
  const received = await bob.waitFor("failed");
  expect(received.reason).toBe("the peer left (interrupted)");
  expect(resumeHint(sent.info, sent.code, sent.why)).toBe(UNANSWERED_HINT);
  expect(resumeHint(received.info, received.code, received.why)).toBe("");
  expect(received.info.nothingKept).toBe(true);
});

/** The sender's clause when the receiver had not answered: it may hold an earlier `.part`. */
const UNANSWERED_HINT = "; sending it again resumes it if the receiver kept part of it";

test("a receiver holding an earlier .part, its sender interrupted before the ACCEPT: the resume both sides speak of comes", async () => {
  const { alice, bob, src } = await interruptedAtTheAccept();
  const part = join(bob.dir, "early.bin.part");
  writeFileSync(part, readFileSync(src).subarray(0, 100_000));
  markAsParleyPart(part, src);
  alice.session?.sendFile(src);
  const sent = await alice.waitFor("failed");
  const received = await bob.waitFor("failed");
  // Bob waited for alice's START (her check of his bytes): whether her file changed since is hers to know.
  expect(resumeHint(received.info, received.code, received.why)).toBe(
    "; the sender sending it again resumes it if its file has not changed",
  );
  // The old sender said nothing here, as if the receiver held none of it (info.nothingKept).
  expect(sent.info.nothingKept).toBeUndefined();
  expect(resumeHint(sent.info, sent.code, sent.why)).toBe(UNANSWERED_HINT);
  // And it does resume: the .part (moved whole, its mark with it) is taken up by a new try.
  expect(statSync(part).size).toBe(100_000);
  const [again, to] = await connectedPair();
  peers.push(again, to);
  renameSync(part, join(to.dir, "early.bin.part"));
  again.session?.sendFile(src);
  expect((await to.waitFor("finished")).done.resumedFrom).toBe(100_000);
});

test("a sender interrupted after the ACCEPT, before any byte went out: no resume promised", () => {
  const { outgoing, failed } = offeredFile();
  outgoing.onMessage({ kind: "accept", id: 1, offset: 0 } as never);
  outgoing.failAll({ reason: "interrupted", code: "E_INTERRUPTED" });
  expect(failed.map((info) => info.nothingKept)).toEqual([true]);
});

/**
 * An outgoing a.bin (10 bytes) offered on a stub session whose connection is backed up: nothing
 * is written (START included). `check`: the outcome of its prefix check when a resume is asked.
 */
function offeredFile(check?: Promise<boolean>): { outgoing: OutgoingTransfers; failed: TransferInfo[] } {
  const failed: TransferInfo[] = [];
  const host = {
    events: { transferStarted() {}, transferFailed: (info: TransferInfo) => failed.push(info) },
    scheduler: { send() {}, queue() {}, pump() {}, unackedOf: () => 0 },
    isActive: () => true,
    settled() {},
  } as unknown as OutgoingHost;
  const source = {
    id: 1,
    name: "a.bin",
    size: 10,
    algo: "xxh3",
    sent: 0,
    meta: {},
    stop() {},
    resumeFrom: () => check,
  };
  const outgoing = new OutgoingTransfers(host);
  outgoing.enqueue(
    "a.bin",
    10,
    {},
    () => 1,
    () => source as unknown as FrameSource,
  );
  return { outgoing, failed };
}

/** offeredFile, its receiver asking to resume from byte 5. */
function senderAskedToResume(check: Promise<boolean>): { outgoing: OutgoingTransfers; failed: TransferInfo[] } {
  const sender = offeredFile(check);
  sender.outgoing.onMessage({ kind: "accept", id: 1, offset: 5, prefix: "00" } as never);
  return sender;
}

test("review22: a sender whose check found its file changed, cut before its START 0 went out: no resume promised (a resend starts over)", async () => {
  const { outgoing, failed } = senderAskedToResume(Promise.resolve(false));
  await Promise.resolve(); // the check's outcome: changed, START 0 queued
  outgoing.failAll({ reason: "connection lost", code: "E_CONNECTION" });
  expect(resumeHint(failed[0] as TransferInfo, "E_CONNECTION")).toBe("");
});

test("review22: a sender cut while it compares the receiver's prefix with its file: the resume only if the file has not changed", () => {
  const { outgoing, failed } = senderAskedToResume(new Promise(() => {}));
  outgoing.failAll({ reason: "connection lost", code: "E_CONNECTION" });
  // The old sender promised it outright, though the check might have found the file changed.
  expect(resumeHint(failed[0] as TransferInfo, "E_CONNECTION")).toBe(
    "; sending it again resumes it if the file has not changed",
  );
});

/**
 * Bob's question about alice's early.bin still waits (receive --ask) when her Ctrl-C comes; with
 * `earlier` bytes of an earlier try's `.part` of it in bob's folder first (0: none).
 */
async function interruptedWhileAsked(earlier: number): Promise<TestPeer> {
  const { alice, bob, src } = await interruptedAtTheAccept(() => new Promise(() => {})); // never answered
  if (earlier > 0) {
    writeFileSync(join(bob.dir, "early.bin.part"), readFileSync(src).subarray(0, earlier));
    markAsParleyPart(join(bob.dir, "early.bin.part"), src);
  }
  alice.session?.sendFile(src);
  return bob;
}

test.each([
  [100_000, "; the sender sending it again resumes it"],
  [0, ""],
])(
  "a receiver whose question still waits when the sender goes: the resume clause only with an earlier .part (%d bytes) there",
  async (earlier, clause) => {
    const bob = await interruptedWhileAsked(earlier);
    const received = await bob.waitFor("failed");
    expect(received.reason).toBe("the peer left (interrupted)");
    // The old receiver said nothing with the .part there: no sink, so it held none (nothingKept).
    expect(resumeHint(received.info, received.code, received.why)).toBe(clause);
    expect(received.info.partKept).toBe(earlier > 0 ? true : undefined);
  },
);

test.each(["reject", "cancel"] as const)(
  "review22: an offered file the receiver answers with %s is answered: not 'unanswered', and nothing kept (even a code E_INTERRUPTED)",
  (kind) => {
    const { outgoing, failed } = offeredFile();
    outgoing.onMessage({ kind, id: 1, code: "E_INTERRUPTED" } as never);
    const [info] = failed as [TransferInfo];
    // The old sender set unanswered here, and a hostile REJECT E_INTERRUPTED got the hedged clause.
    expect(info.unanswered).toBeUndefined();
    expect(info.nothingKept).toBe(true);
  },
);
