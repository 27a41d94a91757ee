/**
 * The real CLI against a hostile mailbox server (a `--relay-url` someone else runs) that
 * allocates a nameplate that is not a number: one line and exit 2, no code shown that the peer
 * could not type. Its own words, escape sequences in its errors, are shown made visible
 * (reporter.ts for send and receive, mailbox-chat.ts for the chat).
 */

import { afterAll, expect, test } from "bun:test";
import type { Server } from "bun";
import { fakeMailboxServer } from "../fake-mailbox.ts";
import { Cli, cleanup } from "./helpers.ts";

/**
 * The cases run at once (each waits on a server's silence, seconds of a mostly idle process), so
 * each fake server is kept until the file's end, and the processes are stopped then, not after
 * each case (that would kill the others' processes).
 */
const servers = new Set<Server<undefined>>();
afterAll(async () => {
  for (const server of servers) server.stop(true);
  await cleanup();
});

/** A window title, a clear screen, red. */
const ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x1b[31m";

/**
 * A mailbox server on 127.0.0.1 that welcomes, then answers allocate with `allocated` and claim
 * with `claimed` (null: the claim is not answered). It never hands back what is added.
 */
function mailbox(allocated: Record<string, unknown>, claimed: unknown = { type: "claimed", mailbox: "m1" }): string {
  const fake = fakeMailboxServer({
    open(ws) {
      ws.send(JSON.stringify({ type: "welcome", welcome: {} }));
    },
    message(ws, raw) {
      const { type } = JSON.parse(String(raw)) as { type: string };
      if (type === "allocate") ws.send(JSON.stringify(allocated));
      if (type === "claim" && claimed !== null) ws.send(JSON.stringify(claimed));
    },
  });
  servers.add(fake.server);
  return fake.url;
}

/** `parley send --text hi` through `url`: its exit code and everything it printed. */
async function sendThrough(
  url: string,
  waitMs = 15_000,
  env: Record<string, string> = {},
): Promise<{ exit: number; out: string; cli: Cli }> {
  const cli = new Cli("send", ["send", "--text", "hi", "--relay-url", url, "--no-listen"], undefined, undefined, {
    env,
  });
  const exit = await cli.exitCode(waitMs);
  return { exit, out: `${cli.stdout}\n${cli.stderr}`, cli };
}

/** The server's time to answer (SERVER_ANSWER_MS) and more, for a loaded machine. */
const SILENT_WAIT_MS = 40_000;

test.concurrent("a nameplate that is not a number is refused at once: no code shown that the peer could not type", async () => {
  for (const nameplate of [`4${ESCAPES}`, "9".repeat(100_000), "", "4-5 6"]) {
    const { exit, out } = await sendThrough(mailbox({ type: "allocated", nameplate }));
    expect(exit, out).toBe(2);
    // Before: the code line held the nameplate as sent, and the run waited for a peer for ever
    // (exitCode's 15 s then kill it and fail).
    expect(out).not.toContain("code ");
    expect(out).not.toContain("\x1b");
    expect(out.trim()).toBe(
      "Error: the mailbox server broke the protocol: it allocated a nameplate that is not a number.",
    );
  }
});

test.concurrent("the chat shows a refusing server's words with their escapes made visible, as send does", async () => {
  const fake = fakeMailboxServer({
    open(ws) {
      ws.send(JSON.stringify({ type: "welcome", welcome: { error: `closed${ESCAPES}\r\nparley: a line of ours` } }));
    },
    message() {},
  });
  servers.add(fake.server);
  const chat = new Cli("chat", ["--relay-url", fake.url]);
  const exit = await chat.exitCode(15_000);
  const out = `${chat.stdout}\n${chat.stderr}`;
  expect(exit, out).toBe(2);
  // Before: the chat printed the line as it came, a window title set, the screen cleared and
  // red, and a line that read as the CLI's own.
  expect(out).not.toContain("\x1b");
  expect(out).not.toContain("\nparley: a line of ours");
  expect(chat.lines).toContain(
    "Error: the mailbox server refused: closed^[]0;PWNED^G^[[2J^[[31m^M^Jparley: a line of ours",
  );
});

test.concurrent("a nameplate that is not text (a number, null, none) is refused at once too, not waited past", async () => {
  for (const allocated of [{ nameplate: 5 }, { nameplate: null }, {}]) {
    const { exit, out } = await sendThrough(mailbox({ type: "allocated", ...allocated }));
    // Before: the answer was passed over as if none had come, and 10 s later the run ended with
    // "welcomed us but did not answer with a code within 10 s", which blamed a silent server.
    expect(exit, out).toBe(2);
    expect(out.trim()).toBe(
      "Error: the mailbox server broke the protocol: it allocated a nameplate that is not a number.",
    );
  }
}, 60_000);

test.concurrent("a claim answered without a mailbox (5, null, none) ends the meeting: the code shown could never meet", async () => {
  for (const claimed of [{ mailbox: 5 }, { mailbox: null }, {}]) {
    const { exit, out } = await sendThrough(
      mailbox({ type: "allocated", nameplate: "4" }, { type: "claimed", ...claimed }),
    );
    // Before: the answer was passed over; the code was shown and the run waited for a peer for
    // ever, its own key exchange never begun (exitCode's 15 s then kill it and fail).
    expect(exit, out).toBe(2);
    expect(out).toContain("Error: the mailbox server broke the protocol: it answered the claim without a mailbox.");
  }
}, 60_000);

test.concurrent("a --relay-url that accepts the connection and never answers: one line, exit 2, in its time (10 s; 2 s here)", async () => {
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const url = `ws://127.0.0.1:${silent.port}/v1`;
    // PARLEY_MAILBOX_ANSWER_MS shortens the wait for the welcome too (answerTimes): 2 s, not 10.
    const { exit, out } = await sendThrough(url, SILENT_WAIT_MS, { PARLEY_MAILBOX_ANSWER_MS: "2000" });
    expect(exit, out).toBe(2);
    expect(out.trim()).toBe(`Error: cannot reach the mailbox server: ${url} did not answer within 2 s.`);
  } finally {
    silent.stop(true);
  }
}, 60_000);

/**
 * A silence is a lost connection, tried again (session 25): for a minute here, not 5; the server
 * has 2 s to answer, not 10. A second connection back that it welcomes and leaves silent ends
 * the run (session 26: it was tried again, silent, until the minute was up; session 27: one more
 * try after the first, for a network that failed again just after a welcome).
 */
const RETRY = { PARLEY_MAILBOX_RETRY_MS: "60000", PARLEY_MAILBOX_ANSWER_MS: "2000", PARLEY_MAILBOX_PAUSE_MS: "1000" };

test.concurrent("a mailbox server that gives a code and never answers the claim: the code line, the lost line, then one line, exit 2 (it waited for ever)", async () => {
  const url = mailbox({ type: "allocated", nameplate: "4" }, null);
  const { exit, out, cli } = await sendThrough(url, SILENT_WAIT_MS, RETRY);
  expect(exit, out).toBe(2);
  expect(cli.lines[0]).toMatch(/^Waiting in the mailbox · code 4-[a-z]+-[a-z]+$/);
  expect(
    cli.lines.filter((l) => !l.startsWith("Waiting")),
    out,
  ).toEqual([
    "Lost the mailbox server; reconnecting (for up to 1 minute) ...",
    `Error: the mailbox server stopped answering: ${url} did not answer our claim of the code's number within 2 s, nor on 2 new connections it welcomed.`,
  ]);
}, 60_000);

test.concurrent("a mailbox server that answers the claim and never hands back the key exchange message: one line, exit 2 (it waited for ever)", async () => {
  const url = mailbox({ type: "allocated", nameplate: "4" });
  const { exit, out, cli } = await sendThrough(url, SILENT_WAIT_MS, RETRY);
  expect(exit, out).toBe(2);
  // The connection back answers the claim and drops the add again: not back, and silent.
  expect(
    cli.lines.filter((l) => !l.startsWith("Waiting")),
    out,
  ).toEqual([
    "Lost the mailbox server; reconnecting (for up to 1 minute) ...",
    `Error: the mailbox server stopped answering: ${url} did not answer the message we added (a mailbox server hands each back at once) within 2 s, nor on 2 new connections it welcomed.`,
  ]);
}, 60_000);
