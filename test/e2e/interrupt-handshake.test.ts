/**
 * Ctrl-C while `parley send --to CODE` is still meeting its peer (the handshake under way over a
 * slow link): the run ends at once, without a word of being connected and without an offer;
 * the receiver hears nothing it could take for a transfer. Before, the sender said
 * "Interrupted (Ctrl-C).", went on with the handshake, then said "Connected to peer" and
 * "Sending #1 ..." and vanished, and the receiver said its file was cut by a lost connection.
 */

import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Relay, startRelay } from "../relay.ts";
import { cleanup, jsonReceiver, makeTempDir, startCli } from "./helpers.ts";

let relay: Relay | undefined;
afterEach(async () => {
  relay?.stop();
  relay = undefined;
  await cleanup();
});

test("SIGINT to a sender whose handshake is under way: exit 130 at once, never connected, nothing offered", async () => {
  const receiver = await jsonReceiver(makeTempDir());
  const file = join(makeTempDir(), "a.txt");
  writeFileSync(file, "not to be sent");
  let spoke: () => void = () => {};
  const heard = new Promise<void>((resolve) => {
    spoke = resolve;
  });
  // 250 ms each way: the handshake's round trips take over a second, the signal comes in the first.
  relay = await startRelay(
    receiver.port,
    (chunk) => {
      spoke();
      return chunk;
    },
    (chunk) => chunk,
    // The sender's end (a reset, when it dies with bytes unread) reaches the receiver after all
    // it sent: the receiver's word on that connection is its last.
    { delayMs: 250, endOnClose: true },
  );
  const words = receiver.code.replace(/^\d+-/, "");
  const sender = startCli("sender", ["send", file, "--to", `${relay.port}-${words}`, "--no-progress"]);
  await heard;
  const signalled = Date.now();
  sender.kill("SIGINT");
  expect(await sender.exitCode(), sender.describe()).toBe(130);
  expect(Date.now() - signalled, "the handshake was not waited for").toBeLessThan(1000);
  expect(sender.stdout, sender.describe()).toContain("Interrupted (Ctrl-C).");
  expect(sender.stdout, sender.describe()).not.toMatch(/Connected to|Sending #1/);
  // All the sender sent reached the receiver before its end: the receiver's word on the
  // connection is that it was dropped (on stderr), not a session (it would say "connected" on
  // stdout, then the offer). Ended, its stdout is read to the end.
  await receiver.cli.waitForStderr(/Dropped a connection from 127\.0\.0\.1:\d+: /);
  receiver.cli.kill("SIGINT");
  await receiver.cli.exitCode();
  expect(receiver.cli.stdout, receiver.cli.describe()).not.toMatch(/"type":"(offer|connected)"/);
}, 20_000);
