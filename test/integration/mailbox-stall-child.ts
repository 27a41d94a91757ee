/**
 * The Wormhole of mailbox-stall.test.ts, in a process of its own so the test can stop it
 * (SIGSTOP, as Ctrl-Z or a laptop's sleep) while an answer is owed.
 * `bun mailbox-stall-child.ts URL ANSWER_MS`: opens a Wormhole at URL (the test's fake server),
 * the server given ANSWER_MS to answer and no retries; prints "code N" once the code is known, or
 * "failed E_CODE: message", and exits.
 */

import { Wormhole } from "../../src/session/wormhole.ts";

const [url, answerMs] = process.argv.slice(2) as [string, string];
const wormhole = await Wormhole.open(url, {}, undefined, undefined, { withinMs: 0, serverAnswerMs: Number(answerMs) });
const told = await Promise.race([
  wormhole.code.promise.then((code) => `code ${code}`),
  wormhole.failed.then((error) => `failed ${error.code}: ${error.message}`),
]).catch((error: { code?: string; message?: string }) => `failed ${error.code}: ${error.message}`);
console.log(told);
await wormhole.close();
