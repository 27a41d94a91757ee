/**
 * A process that stood still (Ctrl-Z, a laptop asleep: SIGSTOP here) longer than the server's
 * time to answer, while an answer was owed, and the answer came meanwhile: once it runs again the
 * answer is taken, not called late. Bun runs a timer that expired before it reads a socket, so the
 * deadline's timer ran first and said "the mailbox server stopped answering" (E_MAILBOX_SILENT)
 * of an answer waiting unread in the socket. Now a deadline timer that runs far past its time
 * (STALL_MS) gives the server its whole time again, counted from then (one 50 ms turn was not
 * enough on a loaded machine: that timer too could expire before the socket was read). Which of
 * the two a resumed Bun runs first varies: without the stall check this case failed 1 run in 4
 * here, so it catches a lost check often, not always. The Wormhole is in a child process
 * (mailbox-stall-child.ts); the fake server is this test's.
 */

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import type { Server } from "bun";
import { fakeMailboxServer } from "../fake-mailbox.ts";

const CHILD = join(import.meta.dir, "mailbox-stall-child.ts");
/** The server's time to answer, given to the child: long enough to stop it before it runs out. */
const ANSWER_MS = 3_000;
/** How long the child stands still: past ANSWER_MS by more than STALL_MS (1 s). */
const STOPPED_MS = 5_000;

let server: Server<undefined> | undefined;
const kills: Array<() => void> = [];
afterEach(() => {
  for (const kill of kills.splice(0)) kill();
  server?.stop(true);
  server = undefined;
});

test("stopped while the code is owed, the answer sent meanwhile: the code, not E_MAILBOX_SILENT", async () => {
  let child: ReturnType<typeof Bun.spawn> | undefined;
  const answered = Promise.withResolvers<void>();
  const fake = fakeMailboxServer({
    open(ws) {
      ws.send(JSON.stringify({ type: "welcome", welcome: {} }));
    },
    message(ws, raw) {
      const m = JSON.parse(String(raw)) as { type: string };
      if (m.type !== "allocate" || !child) return;
      // The code is owed now: the child stands still, the answer goes while it does.
      child.kill("SIGSTOP");
      ws.send(JSON.stringify({ type: "allocated", nameplate: "4" }));
      setTimeout(() => {
        child?.kill("SIGCONT");
        answered.resolve();
      }, STOPPED_MS);
    },
  });
  server = fake.server;
  child = Bun.spawn([process.execPath, CHILD, fake.url, String(ANSWER_MS)], { stdout: "pipe", stderr: "inherit" });
  const spawned = child;
  kills.push(() => spawned.kill("SIGKILL"));
  await answered.promise;
  const out = await Promise.race([
    new Response(spawned.stdout as ReadableStream).text(),
    Bun.sleep(20_000).then(() => "still running after 20 s"),
  ]);
  expect(out.trim()).toMatch(/^code 4-[a-z]+-[a-z]+$/);
}, 40_000);
