/**
 * ServerAnswers' deadline after the process stood still (STALL_MS): the server gets its whole
 * time once more, and only once, so a process stopped again and again (SIGSTOP/SIGCONT, a laptop
 * that sleeps) cannot put off a silent server's report for ever. Standing still is the event loop
 * blocked (Bun.sleepSync), which a timer sees as SIGSTOP's: it runs late, by the clock.
 *
 * A block stands the whole process still, the timers of every other case in it too: each case
 * runs in a process of its own (`bun test` of this file, that case only), and the cases at once.
 */

import { expect, test } from "bun:test";
import { ServerAnswers, STALL_MS } from "../../src/session/mailbox-answers.ts";

/** Set in a case's own process: the name of the case it runs. */
const CASE_ENV = "PARLEY_ANSWERS_CASE";

/** A case run in a process of its own (its blocks stand no other case still), beside the others. */
function aloneInProcess(name: string, body: () => Promise<void>): void {
  const only = process.env[CASE_ENV];
  if (only !== undefined) {
    if (only === name) test(name, body);
    return;
  }
  test.concurrent(name, async () => {
    const proc = Bun.spawn([process.execPath, "test", "--timeout", "30000", import.meta.path], {
      env: { ...process.env, [CASE_ENV]: name },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    // The case ran there, alone, and passed: its own output says so (and why not, if not).
    const ran = /^\s*1 pass$/m.test(err + out) && /^\s*0 fail$/m.test(err + out);
    expect({ code, ran, output: err + out }).toMatchObject({ code: 0, ran: true });
  }, 30_000);
}

/** The server's time to answer: the blocks below are longer by more than STALL_MS. */
const ANSWER_MS = 500;
const BLOCK_MS = ANSWER_MS + STALL_MS + 300;
/** A longer answer time: a silence told one of these late is far from one told at the outage's deadline. */
const LONG_MS = 4 * ANSWER_MS;

/** A turn of the event loop's timers: a timer that expired before it runs first. */
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

aloneInProcess(
  "a deadline past while the process stood still waits one answer time more, once: stood still again, the silence is told",
  async () => {
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
  },
);

aloneInProcess("a silence within the outage's deadline is the server's own, not its end", async () => {
  const told: Array<[string, boolean]> = [];
  const answers = new ServerAnswers("side", ANSWER_MS / 5, (words, atBound) => told.push([words, atBound]));
  answers.bound(performance.now() + LONG_MS);
  answers.sent({ type: "claim" });
  await new Promise((resolve) => setTimeout(resolve, ANSWER_MS));
  expect(told).toEqual([["our claim of the code's number", false]]);
  answers.stop();
});

aloneInProcess("an answer taken within the time given again is no silence", async () => {
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

aloneInProcess(
  "stood still before any timer ran (the server woke on our bytes and stopped us at once): the whole time again too",
  async () => {
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
  },
);

aloneInProcess(
  "the time given again after standing still ends at the outage's deadline (bound), not one answer time past it",
  async () => {
    const told: Array<[string, boolean]> = [];
    const answers = new ServerAnswers("side", LONG_MS, (words, atBound) => told.push([words, atBound]));
    const start = performance.now();
    answers.bound(start + ANSWER_MS); // the outage ends in 0.5 s
    answers.sent({ type: "claim" });
    Bun.sleepSync(BLOCK_MS); // stood still past the outage's deadline
    await new Promise((resolve) => setTimeout(resolve, ANSWER_MS / 5)); // a few turns, far below LONG_MS
    // The grace is the server's time to answer within the outage: none is left, so the silence is
    // told now (it came one answer time later: the deadline kept by every timer but this one).
    expect(told).toEqual([["our claim of the code's number", true]]); // the outage's end, said as such
    answers.stop();
  },
);

aloneInProcess(
  "stood still before any timer ran, near the outage's deadline: the time given again ends there too",
  async () => {
    const told: Array<[string, boolean]> = [];
    const answers = new ServerAnswers("side", LONG_MS, (words, atBound) => told.push([words, atBound]));
    answers.sent({ type: "allocate" });
    Bun.sleepSync(LONG_MS + STALL_MS + 300); // past the code's deadline by more than STALL_MS
    answers.bound(performance.now() + ANSWER_MS); // re-arms: the deadline found long past as it is armed
    await new Promise((resolve) => setTimeout(resolve, 2 * ANSWER_MS));
    // Told at the outage's deadline (0.5 s from the arm), not the whole answer time (2 s) on.
    expect(told).toEqual([["with a code", true]]);
    answers.stop();
  },
);
