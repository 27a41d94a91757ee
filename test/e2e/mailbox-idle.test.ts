/**
 * A mailbox connection that dies silently (half-open: Wi-Fi changed, a NAT forgot the flow) while
 * parley send waits with its code, through the real CLI: a proxy in front of magic-wormhole's own
 * mailbox server (test/fake-mailbox.ts mailboxProxy) stops passing anything on its first
 * connection once the sender's key exchange message is handed back, and keeps the socket open.
 * Nothing is owed then, so the idle check finds it: a ping (every PARLEY_MAILBOX_CHECK_MS,
 * lowered here from 30 s) unanswered within the server's time (10 s; 2 s here, PARLEY_MAILBOX_ANSWER_MS) is a lost connection: the lost
 * line, a reconnect, and the receiver that came meanwhile (straight to the server) gets the file
 * byte for byte. A server that welcomes the connection back and answers nothing on it ends the
 * run at once with one line saying both silences, exit 2 (before session 26: once the retries'
 * time was up, PARLEY_MAILBOX_RETRY_MS).
 * Before: nothing was noticed, the receiver's messages never came and the sender waited for ever.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type LaterConnections, mailboxProxy } from "../fake-mailbox.ts";
import { Cli, cleanup, makeTempDir, startCli } from "./helpers.ts";
import { parleyCode, useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("mailbox idle-check tests (test/e2e/mailbox-idle.test.ts)");
/** The two cases run at once (each waits on the server's time to answer): proxies and processes stop at the file's end. */
const proxies = new Set<ReturnType<typeof mailboxProxy>>();
afterAll(() => {
  for (const proxy of proxies) proxy.stop();
  cleanup();
});

const LOST = /^Lost the mailbox server; reconnecting \(for up to [^)]+\) \.\.\.$/m;
const BACK = /^Reconnected to the mailbox server\.$/m;
/** The server's time for the ping, and more for a loaded machine. */
const LONG_MS = 60_000;

/** parley send FILE through a proxy whose first connection dies once the sender's key exchange message is back. */
function senderThroughProxy(later: LaterConnections, env: Record<string, string>) {
  const dir = makeTempDir();
  const path = join(dir, "idle.bin");
  const bytes = randomBytes(200_000);
  writeFileSync(path, bytes);
  const proxy = mailboxProxy(
    kit.servers().mailboxUrl,
    (m, side) => m.type === "message" && m.phase === "pake" && m.side === side,
    later,
  );
  proxies.add(proxy);
  const flags = ["--transit-helper", kit.servers().transitHelper];
  const sender = new Cli(
    "parley-send",
    ["send", path, "--relay-url", proxy.url, ...flags, "--json"],
    undefined,
    undefined,
    {
      env: {
        PARLEY_MAILBOX_CHECK_MS: "300",
        PARLEY_MAILBOX_ANSWER_MS: "2000",
        PARLEY_MAILBOX_PAUSE_MS: "1000",
        ...env,
      },
    },
  );
  return { sender, bytes, flags, proxy, muted: proxy.muted() };
}

describe.skipIf(!kit.available)("a mailbox connection that dies silently while parley send waits (real server)", () => {
  test.concurrent("the idle check finds it: one lost line, back, and the receiver that came meanwhile gets the file", async () => {
    const { sender, bytes, flags, proxy, muted } = senderThroughProxy("forward", {});
    const code = await parleyCode(sender);
    await muted;
    const dir = makeTempDir();
    const receiver = startCli("parley-receive", [
      "receive",
      code,
      "--relay-url",
      kit.servers().mailboxUrl,
      ...flags,
      "--dir",
      dir,
    ]);
    await sender.waitForStderr(LOST, LONG_MS);
    await sender.waitForStderr(BACK, LONG_MS);
    expect(await receiver.exitCode(LONG_MS)).toBe(0);
    expect(await sender.exitCode(LONG_MS)).toBe(0);
    expect(readdirSync(dir)).toEqual(["idle.bin"]);
    expect(readFileSync(join(dir, "idle.bin")).equals(bytes)).toBe(true);
    expect(sender.stderr.match(new RegExp(LOST.source, "gm")), sender.stderr).toHaveLength(1);
    const told = sender.lines.filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { type: string }).type);
    expect(told.filter((t) => t.startsWith("mailbox-"))).toEqual(["mailbox-lost", "mailbox-back"]);
    expect(proxy.connections()).toBe(2);
  }, 120_000);

  test.concurrent("a server that answers nothing once reconnected: one line saying both silences on the second connection back, exit 2", async () => {
    const { sender, proxy, muted } = senderThroughProxy("welcome only", { PARLEY_MAILBOX_RETRY_MS: "60000" });
    await parleyCode(sender);
    await muted;
    await sender.waitForStderr(LOST, LONG_MS);
    const lostAt = performance.now();
    expect(await sender.exitCode(LONG_MS)).toBe(2);
    // The two connections back's 2 s each, and a loaded machine's: not the retries' minute.
    expect(performance.now() - lostAt).toBeLessThan(2 * 2_000 + 5_000);
    const errors = sender.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    const error = errors.find((e) => e.type === "error");
    expect(error?.code).toBe("E_MAILBOX_SILENT");
    expect(String(error?.message)).toMatch(
      new RegExp(
        `^the mailbox server stopped answering: ${proxy.url} did not answer a ping \\(asked whether the connection still stands\\) within 2 s, nor .*on 2 new connections it welcomed$`,
      ),
    );
    expect(sender.stderr.match(new RegExp(LOST.source, "gm")), sender.stderr).toHaveLength(1);
    expect(sender.stderr).not.toMatch(BACK);
    expect(`${sender.stdout}${sender.stderr}`).not.toMatch(/^\s+at /m);
    expect(proxy.connections()).toBe(3);
  }, 120_000);
});
