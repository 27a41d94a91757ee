/**
 * The mailbox server restarted (stopped, then started again on the same port with the same
 * database) while a side waits for its peer with its code, through the real CLI against
 * magic-wormhole's own mailbox server on 127.0.0.1 (one of its own per test: each kills it):
 * Parley says one line, reconnects, and the peer that comes with the code afterwards meets it,
 * a Parley `receive` or the real Python `wormhole receive`, the file byte for byte. A server gone
 * for longer than the limit (PARLEY_MAILBOX_RETRY_MS, shortened here) ends the run with today's
 * one E_MAILBOX_LOST line, exit 2, no stack trace, nothing in the download folder.
 * Before: the run ended at the loss (exit 2, "run Parley again"), and the peer could not meet it.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WormholeServer } from "../wormhole-servers.ts";
import { Cli, cleanup, makeTempDir, startCli, WAIT_MS } from "./helpers.ts";
import { parleyCode, useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("mailbox restart tests (test/e2e/mailbox-restart.test.ts)", { client: true });
afterEach(cleanup);

const LONG_MS = 60_000;
const LOST = /^Lost the mailbox server; reconnecting \(for up to [^)]+\) \.\.\.$/m;
const BACK = /^Reconnected to the mailbox server\.$/m;

/** The servers of one test: a mailbox of its own (it is restarted) and the shared transit relay. */
async function ownMailbox(): Promise<{ server: WormholeServer; flags: (s: WormholeServer) => string[] }> {
  const server = await WormholeServer.start("wormhole-mailbox");
  const flags = (s: WormholeServer) => [
    "--relay-url",
    `ws://127.0.0.1:${s.port}/v1`,
    "--transit-helper",
    kit.servers().transitHelper,
  ];
  return { server, flags };
}

function fileOf(size: number): { path: string; bytes: Buffer } {
  const path = join(makeTempDir(), "restart.bin");
  const bytes = randomBytes(size);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/**
 * `parley send FILE --json` waiting with its code while its mailbox server is restarted: resolves
 * once it said it lost the server and is back: the human lines on stderr, and with --json an
 * event each on stdout (`mailbox-lost` with how long it is tried again, then `mailbox-back`).
 */
async function sendThroughRestart(
  path: string,
  server: WormholeServer,
  flags: (s: WormholeServer) => string[],
): Promise<{ sender: Cli; code: string; server: WormholeServer }> {
  const sender = startCli("parley-send", ["send", path, ...flags(server), "--json"]);
  const code = await parleyCode(sender);
  const restarted = await server.restart();
  await sender.waitForStderr(LOST);
  await sender.waitForStderr(BACK, 30_000); // tries again within 5 s of its return
  // One line each way, not one a try.
  expect(sender.stderr.match(new RegExp(LOST.source, "gm")), sender.stderr).toHaveLength(1);
  // A script reading the events learns it too (before: the lines went to stderr only).
  await sender.waitForLine(/"type":"mailbox-back"/);
  const events = sender.lines.map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
  const told = events.filter((e) => e.type.startsWith("mailbox-"));
  expect(told, sender.stdout).toEqual([
    {
      type: "mailbox-lost",
      retryMs: expect.any(Number),
      message: "Lost the mailbox server; reconnecting (for up to 5 minutes) ...",
    },
    { type: "mailbox-back", message: "Reconnected to the mailbox server." },
  ]);
  const retryMs = told[0]?.retryMs as number;
  expect(retryMs).toBeGreaterThan(290_000); // the whole 5 minutes, less what passed before the line
  expect(retryMs).toBeLessThanOrEqual(300_000);
  expect(events.findIndex((e) => e.type === "mailbox-lost")).toBeGreaterThan(
    events.findIndex((e) => e.type === "code"),
  );
  return { sender, code, server: restarted };
}

describe.skipIf(!kit.available)("the mailbox server restarted while a side waits (real servers)", () => {
  /** The peer that comes with the code once the server is back, receiving into `dir`. */
  const receivers: Array<[string, (code: string, flags: string[], dir: string) => Cli]> = [
    [
      "parley receive",
      (code, flags, dir) => startCli("parley-receive", ["receive", code, ...flags, "--dir", dir, "--json"]),
    ],
    [
      "the real wormhole receive",
      (code, flags, dir) => {
        const w = new Cli("wormhole-receive", [], ["wormhole", ...flags, "receive", "--accept-file", code], dir);
        w.endInput();
        return w;
      },
    ],
  ];

  test.each(receivers)(
    "parley send waits with its code; the server restarts; %s with the code gets the file byte for byte",
    async (_name, receive) => {
      const own = await ownMailbox();
      let server = own.server;
      try {
        const src = fileOf(300_000);
        const run = await sendThroughRestart(src.path, server, own.flags);
        server = run.server;
        const dir = makeTempDir();
        const receiver = receive(run.code, own.flags(server), dir);
        expect(await receiver.exitCode(LONG_MS)).toBe(0);
        expect(await run.sender.exitCode(LONG_MS)).toBe(0);
        expect(readdirSync(dir)).toEqual(["restart.bin"]);
        expect(readFileSync(join(dir, "restart.bin")).equals(src.bytes)).toBe(true);
      } finally {
        await server.stop();
      }
    },
    120_000,
  );

  test("the server gone for longer than the limit: the lost line, then today's one E_MAILBOX_LOST line, exit 2, no stack trace, no file", async () => {
    const own = await ownMailbox();
    const server = own.server;
    try {
      const dir = makeTempDir();
      const receiver = new Cli(
        "parley-receive",
        ["receive", ...own.flags(server), "--dir", dir],
        undefined,
        undefined,
        {
          env: { PARLEY_MAILBOX_RETRY_MS: "1500" },
        },
      );
      await receiver.waitForLine(/^Waiting in the mailbox · code \d+-[a-z]+-[a-z]+$/, 30_000);
      await server.halt();
      await receiver.waitForLine(LOST);
      expect(await receiver.exitCode(WAIT_MS)).toBe(2);
      const error =
        "Error: the connection to the mailbox server was lost before the peer was met and was not back within 1.5 s; run Parley again once the server is back.";
      const all = `${receiver.stdout}\n${receiver.stderr}`;
      expect(
        receiver.lines.filter((l) => l.startsWith("Error:")),
        all,
      ).toEqual([error]);
      expect(receiver.lines.indexOf(error)).toBeGreaterThan(receiver.lines.findIndex((l) => LOST.test(l)));
      expect(receiver.lines.findIndex((l) => LOST.test(l))).toBe(receiver.lines.length - 2); // said once
      expect(receiver.lines.at(-2)).toBe("Lost the mailbox server; reconnecting (for up to 1.5 s) ...");
      expect(all).not.toMatch(/^\s+at /m); // no stack trace
      expect(receiver.stderr.trim()).toBe("");
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("after the peer is met the mailbox may go: a chat goes on both ways and ends 0, with no lost line", async () => {
    const own = await ownMailbox();
    const server = own.server;
    try {
      const chat = (name: string) =>
        startCli(name, [...own.flags(server), "--name", name, "--no-progress", "--dir", makeTempDir()]);
      const a = chat("alice");
      const { match } = await a.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/, 30_000);
      const b = chat("bob");
      await b.waitForLine(/^Waiting in the mailbox · code /, 30_000);
      b.send(match[1] as string);
      await Promise.all([
        a.waitForLine(/^Connected to bob (directly|through the relay) at /),
        b.waitForLine(/^Connected to alice (directly|through the relay) at /),
      ]);
      await server.halt();
      a.send("hello bob");
      await b.waitForLine(/^<alice> hello bob$/);
      b.send("hi alice");
      await a.waitForLine(/^<bob> hi alice$/);
      a.send("exit");
      expect(await a.exitCode()).toBe(0);
      expect(await b.exitCode()).toBe(0);
      for (const side of [a, b]) expect(side.stdout, side.stdout).not.toMatch(/mailbox server/);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
