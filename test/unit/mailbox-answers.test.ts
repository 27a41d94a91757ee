/**
 * ServerAnswers' deadline after the process stood still (STALL_MS): the server gets its whole
 * time once more, and only once, so a process stopped again and again (SIGSTOP/SIGCONT, a laptop
 * that sleeps) cannot put off a silent server's report for ever. Standing still is the event loop
 * blocked (Bun.sleepSync), which a timer sees as SIGSTOP's: it runs late, by the clock.
 */

import { expect, test } from "bun:test";
import { ServerAnswers, STALL_MS } from "../../src/session/mailbox-answers.ts";

/** The server's time to answer: the blocks below are longer by more than STALL_MS. */
const ANSWER_MS = 500;
const BLOCK_MS = ANSWER_MS + STALL_MS + 300;

/** A turn of the event loop's timers: a timer that expired before it runs first. */
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

test("a deadline past while the process stood still waits one answer time more, once: stood still again, the silence is told", async () => {
  const told: string[] = [];
  const answers = new ServerAnswers("side", ANSWER_MS, (words) => told.push(words));
  answers.sent({ type: "allocate" });
  Bun.sleepSync(BLOCK_MS); // stood still past the deadline
  await turn();
  expect(told).toEqual([]); // the answer may be in the socket, unread: the server's whole time again
  Bun.sleepSync(BLOCK_MS); // stood still again, past that time too (SIGSTOP every second or so)
  await turn();
  // Not a third wait (each stop would put it off again): the server did not answer in two answer times.
  expect(told).toEqual(["with a code"]);
  answers.stop();
});

test("an answer taken within the time given again is no silence", async () => {
  const told: string[] = [];
  const answers = new ServerAnswers("side", ANSWER_MS, (words) => told.push(words));
  answers.sent({ type: "allocate" });
  Bun.sleepSync(BLOCK_MS);
  await turn();
  answers.received({ type: "allocated" });
  Bun.sleepSync(ANSWER_MS + 100);
  await turn();
  expect(told).toEqual([]);
  answers.stop();
});

test("stood still before any timer ran (the server woke on our bytes and stopped us at once): the whole time again too", async () => {
  const told: string[] = [];
  const answers = new ServerAnswers("side", ANSWER_MS, (words) => told.push(words));
  answers.sent({ type: "allocate" });
  answers.sent({ type: "list" });
  Bun.sleepSync(BLOCK_MS); // stood still past the code's deadline
  // What runs first when we run again re-arms the deadline before its timer had its turn (here
  // the other answer, read first): the deadline long past is a stop, not a server too slow.
  answers.received({ type: "nameplates" });
  await turn();
  expect(told).toEqual([]);
  Bun.sleepSync(BLOCK_MS); // and once only
  await turn();
  expect(told).toEqual(["with a code"]);
  answers.stop();
});
