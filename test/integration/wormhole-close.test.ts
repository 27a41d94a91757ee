/**
 * A Wormhole closed (or a meeting aborted) while a mailbox connection is being opened leaves
 * nothing running: no open timer (10 s, OPEN_TIMEOUT_MS) and no half-open socket, so the process
 * that closed it, having nothing else to do, exits at once. Before, close() stopped a retry's
 * pause but not an opening under way, and an abort did not stop the first opening: the process
 * stayed until that opening's 10 s were up; and the retry, its opening given up, paused once more
 * (up to 5 s) before it saw the close.
 */

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess, TCPSocketListener } from "bun";
import { fakeMailboxServer } from "../fake-mailbox.ts";

const CHILD = join(import.meta.dir, "wormhole-close-child.ts");
/** Well under the 10 s an opening had left: the old code's process was still there then. */
const EXIT_WITHIN_MS = 5_000;
/**
 * The retry's longest pause in the case of a later try (PARLEY_MAILBOX_PAUSE_MS; RETRY_MAX_MS, 5 s,
 * is the same schedule twice as long): the pauses before try 7 take 3.9 s, not 7.75.
 */
const LONGEST_PAUSE_MS = 2_500;
/** Well under that pause, which the old code waited out after a close. */
const PAUSE_AFTER_MS = 1_600;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** The child's stdout lines as they come; `line(text)` resolves once it printed that line. */
function spawnChild(mode: string, url: string, env: Record<string, string> = {}) {
  const child: Subprocess<"pipe", "pipe", "inherit"> = Bun.spawn([process.execPath, CHILD, mode, url], {
    env: { ...process.env, ...env },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  cleanups.push(() => child.kill("SIGKILL"));
  const lines: string[] = [];
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  void (async () => {
    let partial = "";
    for await (const chunk of child.stdout) {
      partial += new TextDecoder().decode(chunk);
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const l of parts) {
        lines.push(l);
        for (const w of waiters.filter((w) => w.text === l)) w.resolve();
      }
    }
  })();
  const line = (text: string): Promise<void> =>
    lines.includes(text)
      ? Promise.resolve()
      : new Promise((resolve) => {
          waiters.push({ text, resolve });
        });
  return { child, line, lines };
}

/**
 * Tells the child to close (its stdin ends) and expects it to have said "closed" and exited
 * within EXIT_WITHIN_MS: nothing of the opening was left to keep it.
 */
async function closeAndExit(run: ReturnType<typeof spawnChild>, withinMs = EXIT_WITHIN_MS): Promise<void> {
  run.child.stdin.end();
  const exited = await Promise.race([run.child.exited, Bun.sleep(withinMs).then(() => "still running")]);
  expect(
    exited,
    `the child was still running ${withinMs} ms after it was told to close: ${run.lines.join(" | ")}`,
  ).toBe(0);
  expect(run.lines.at(-1)).toBe("closed");
}

/**
 * A fake mailbox server whose first connection welcomes and answers the allocate and the claim
 * (the child gets its code); `later(ws, n)` handles the open of connection n >= 2 (it says no
 * welcome unless it sends one). `dropFirst()` closes the first connection: the loss.
 */
function firstAnswersThen(later: (ws: { close(): void }, n: number) => void) {
  let connections = 0;
  let first: { close(): void } | undefined;
  const { server, url } = fakeMailboxServer({
    open(ws) {
      connections++;
      if (connections > 1) return later(ws, connections);
      first = ws;
      ws.send(JSON.stringify({ type: "welcome", welcome: {} }));
    },
    message(ws, raw) {
      const m = JSON.parse(String(raw)) as { type: string };
      if (m.type === "allocate") ws.send(JSON.stringify({ type: "allocated", nameplate: "7" }));
      if (m.type === "claim") ws.send(JSON.stringify({ type: "claimed", mailbox: "m1" }));
    },
  });
  cleanups.push(() => server.stop(true));
  return { url, connections: () => connections, dropFirst: () => first?.close() };
}

test("close() while a lost connection is being opened again: the opening goes too, and the process exits", async () => {
  const opened = Promise.withResolvers<void>();
  // A WebSocket that never says welcome: the opening waits for it.
  const fake = firstAnswersThen(() => opened.resolve());
  const run = spawnChild("reconnect", fake.url);
  await run.line("code");
  fake.dropFirst();
  await run.line("lost");
  await opened.promise; // the retry's opening is under way (its 10 s timer runs)
  await closeAndExit(run);
  expect(fake.connections()).toBe(2);
}, 30_000);

test("close() while a later try opens (its pause after that try would be the longest): nothing waits out that pause", async () => {
  // Tries 2-6 are refused at once (a WebSocket that closes before its welcome), so the pauses grow
  // 125, 250, 500, 1000, 2000 ms (250 ... 4000 without the setting); try 7 is left opening. The old
  // code, the opening given up, took the next pause (2.5 s here, 5 s RETRY_MAX_MS) before it looked
  // whether it was closed.
  const seventh = Promise.withResolvers<void>();
  const fake = firstAnswersThen((ws, n) => (n < 7 ? ws.close() : seventh.resolve())); // 7: no welcome
  const run = spawnChild("reconnect", fake.url, { PARLEY_MAILBOX_PAUSE_MS: String(LONGEST_PAUSE_MS) });
  await run.line("code");
  fake.dropFirst();
  await run.line("lost");
  await seventh.promise;
  await closeAndExit(run, PAUSE_AFTER_MS);
  expect(fake.connections()).toBe(7);
}, 60_000);

test("a meeting aborted while the mailbox's first connection opens (a server that accepts and never answers): the process exits", async () => {
  const accepted = Promise.withResolvers<void>();
  const silent: TCPSocketListener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: () => accepted.resolve(), data() {} },
  });
  cleanups.push(() => silent.stop(true));
  const run = spawnChild("first", `ws://127.0.0.1:${silent.port}/v1`);
  await run.line("opening");
  await accepted.promise; // the WebSocket's connection is open, its upgrade unanswered
  await closeAndExit(run);
}, 30_000);
