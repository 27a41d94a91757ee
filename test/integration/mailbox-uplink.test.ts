/**
 * A large message added on a slow uplink: the server's time to answer (SERVER_ANSWER_MS, lowered
 * here) counts from when our bytes have left, not from the send. A 64 KiB text is ~130 KB of
 * hex, ~8 s at 128 kbit/s just to leave: counted from the send it read as a silent server, a
 * lost connection, and the same again on every connection back for the 5 minutes.
 * Here a TCP proxy (test/slow-proxy.py: python3, its kernel buffers small) reads from one side
 * slowly, so a message larger than that side's kernel takes (tcp_wmem's 4 MiB at most) takes
 * longer than the answer's time to reach the mailbox server (relayingMailbox: a fake one that
 * takes large messages at once, unlike magic-wormhole's in Python). An uplink that stops for
 * good is still found (a dead uplink): each answer's time without a byte leaving is a silence.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Wormhole } from "../../src/session/wormhole.ts";
import { relayingMailbox, within } from "../fake-mailbox.ts";

const PYTHON = "/usr/bin/python3";
const PROXY = join(import.meta.dir, "..", "slow-proxy.py");

/** The message: 4 MiB, ~8.4 MB once sealed, hex and JSON: some of it waits in this process. */
const MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * The server's time to answer in the case of a slow uplink. Once the last bytes have left, this
 * is all the time there is for this process's own work on them: the fake server parses and hands
 * on the 8.4 MB, and the side that sent them takes its own back (parsed, as the peer's is, and
 * decoded there). At 3 s (and 2 s, 1 s before) that work ran past it under load (6.5), a loss
 * after the message had arrived.
 */
const ANSWER_MS = 6_000;
/**
 * The slow uplink, bytes a second: the message takes 7 s or more to pass (the proxy never goes
 * faster), past the answer's time.
 */
const UPLINK_BYTES_PER_S = 1_200_000;
/** The server's time to answer in the case of an uplink that stops: the loss comes this long after. */
const STOPPED_ANSWER_MS = 3_000;

/**
 * The two cases run at once (each its own fake server and proxy; the second mostly waits out its
 * silence: about 5 s of CPU in the file's 15 s): what they opened goes at the file's end, not after
 * each case (that would close the other's).
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The proxy to `port`; slow(rate) slows the connections open now (0: stops them). */
async function slowProxy(port: number) {
  const proc = Bun.spawn([PYTHON, PROXY, String(port)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  cleanups.push(() => proc.kill());
  const reader = proc.stdout.getReader();
  let partial = "";
  /** The proxy's next line ("" once it ended). */
  const line = async (): Promise<string> => {
    while (!partial.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) return "";
      partial += new TextDecoder().decode(value);
    }
    const at = partial.indexOf("\n");
    const text = partial.slice(0, at);
    partial = partial.slice(at + 1);
    return text;
  };
  const proxyPort = Number(await line());
  return {
    url: `ws://127.0.0.1:${proxyPort}/v1`,
    slow: async (rate: number): Promise<void> => {
      proc.stdin.write(`slow ${rate}\n`);
      proc.stdin.flush();
      expect(await line()).toBe("slowed");
    },
  };
}

/**
 * A verified pair: `a` through the proxy (its losses and returns counted), `b` straight to the
 * server; `answerMs`, the server's time to answer `a`.
 */
async function pairThroughProxy(answerMs: number) {
  const mailbox = relayingMailbox();
  cleanups.push(() => void mailbox.server.stop(true));
  const proxy = await slowProxy(Number(mailbox.server.port));
  const seen = { lost: 0, back: 0 };
  const lost = Promise.withResolvers<number>();
  const back = Promise.withResolvers<void>();
  const a = await Wormhole.open(proxy.url, { app_versions: {} }, undefined, undefined, {
    serverAnswerMs: answerMs,
    listener: (change) => {
      if (!change.connected) {
        lost.resolve(performance.now());
        return void seen.lost++;
      }
      seen.back++;
      back.resolve();
    },
  });
  cleanups.push(() => a.close());
  const b = await Wormhole.open(mailbox.url, { app_versions: {} }, await a.code.promise);
  cleanups.push(() => b.close());
  await Promise.all([a.verified.promise, b.verified.promise]);
  return { a, b, proxy, seen, lost: lost.promise, back: back.promise };
}

describe.skipIf(!existsSync(PYTHON))("a large message on a slow uplink", () => {
  test.concurrent("longer than the answer's time to reach the server: no loss, the peer gets it", async () => {
    const { a, b, proxy, seen } = await pairThroughProxy(ANSWER_MS);
    const message = randomBytes(MESSAGE_BYTES);
    await proxy.slow(UPLINK_BYTES_PER_S);
    const sentAt = performance.now();
    a.send(message);
    const got = await within(b.nextMessage(), 30_000, "the message at the peer");
    expect(Buffer.from(got).equals(message)).toBe(true);
    // The case: the server could not have had it all, nor answered, within the answer's time
    // of the send (its ~8.4 MB pass the proxy at 1.2 MB/s at most). Counted from the send, it
    // was a loss (said, and reconnected).
    expect(performance.now() - sentAt).toBeGreaterThan(ANSWER_MS);
    // Handed back to us (the answer owed) in its time from when it left: no loss now or later.
    // The server hands the message back to `a` before anything the peer adds after it, on the one
    // connection, and `a` takes them in order: once the peer's next one is here, `a` has its own
    // back, and owes nothing more (a loss later would have had to come before it: said, and the
    // peer's message on a connection back).
    b.send(new TextEncoder().encode("got it"));
    expect(new TextDecoder().decode(await within(a.nextMessage(), 30_000, "the peer's answer"))).toBe("got it");
    expect(seen).toEqual({ lost: 0, back: 0 });
    expect(a.connected).toBe(true);
  }, 60_000);

  test.concurrent("an uplink that stops for good: a silence within the answer's time of the last byte leaving, back on a new connection", async () => {
    const { a, b, proxy, seen, lost, back } = await pairThroughProxy(STOPPED_ANSWER_MS);
    const message = randomBytes(MESSAGE_BYTES);
    await proxy.slow(0);
    a.send(message);
    // From when send() returned (it seals and hexes the 4 MiB: seconds on a loaded machine).
    const sentAt = performance.now();
    // Found, not waited on for ever: no byte left after the first moment, so the loss comes an
    // answer's time after it (10 s more for a loaded machine's late timers). The loss, not the
    // return: that is another 8.4 MB sealed, sent and echoed on the new connection.
    expect((await within(lost, 30_000, "the loss")) - sentAt).toBeLessThan(STOPPED_ANSWER_MS + 10_000);
    await within(back, 30_000, "the connection back"); // a new connection is not slowed
    expect(seen).toEqual({ lost: 1, back: 1 });
    const got = await within(b.nextMessage(), 30_000, "the message at the peer, sent again");
    expect(Buffer.from(got).equals(message)).toBe(true);
  }, 60_000);
});
