/**
 * The mailbox flow's warm-up (src/cli/warm-up.ts) starts WARM_UP_DELAY_MS after its code line,
 * as the direct flow's does. The mailbox's code comes a round trip or more after the session
 * layer's load (PeerLink.ready), which the delay counted from: the warm-up could start before
 * the code was out, or within the second after it in which a script's peer joins. Now the code
 * line restarts the count (PeerLink.codeShown).
 *
 * A relay in front of the mailbox server holds each chunk DELAY_MS each way, so the code comes
 * well over a second after the load; on the old code the warm-up's folder appeared before it.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { type FSWatcher, watch } from "node:fs";
import { WARM_UP_DELAY_MS } from "../../src/cli/warm-up.ts";
import { startRelay } from "../relay.ts";
import { cleanup, launchedEnv, makeTempDir, PARLEY } from "./helpers.ts";
import { useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("the mailbox flow's warm-up delay (test/e2e/warm-up-mailbox.test.ts)");
afterEach(cleanup);

/** Each way, per chunk: the code (after the upgrade, bind and allocate) comes 4 x this after the dial or later. */
const DELAY_MS = 400;
/** What the test's own reading of the two moments may lose (its event loop on a loaded host). */
const SLACK_MS = 200;

describe.skipIf(!kit.available)("the mailbox flow", () => {
  test("parley receive --json: the warm-up starts a whole delay after the code line, not after the load", async () => {
    const mailboxPort = Number(new URL(kit.servers().mailboxUrl).port);
    const relay = await startRelay(mailboxPort, undefined, undefined, { delayMs: DELAY_MS });
    const tmp = makeTempDir();
    let warmAt: number | undefined;
    const watcher: FSWatcher = watch(tmp, (_event, name) => {
      if (warmAt === undefined && name && String(name).startsWith("parley-warm-")) warmAt = performance.now();
    });
    const proc = Bun.spawn(
      [...PARLEY, "receive", "--json", "--relay-url", `ws://127.0.0.1:${relay.port}/v1`, "--dir", makeTempDir()],
      { stdout: "pipe", stderr: "pipe", env: { ...launchedEnv(), TMPDIR: tmp, PARLEY_WARM_UP: "1" } },
    );
    const spawnedAt = performance.now();
    let codeAt: number | undefined;
    let out = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) {
        out += decoder.decode(chunk, { stream: true });
        if (codeAt === undefined && out.includes('"type":"code"')) codeAt = performance.now();
      }
    })();
    try {
      const deadline = performance.now() + 15_000;
      while ((warmAt === undefined || codeAt === undefined) && performance.now() < deadline) await Bun.sleep(10);
      expect(codeAt, `the code came through the slow relay: ${out}`).toBeDefined();
      expect(warmAt, "the warm-up ran (its folder appeared)").toBeDefined();
      const code = codeAt as number;
      // The case: the code came more than the delay after the start, so a count from the load
      // (done before the mailbox is dialed) would have been over by then.
      expect(code - spawnedAt).toBeGreaterThan(WARM_UP_DELAY_MS + SLACK_MS);
      expect((warmAt as number) - code, "the warm-up's start after the code line, ms").toBeGreaterThanOrEqual(
        WARM_UP_DELAY_MS - SLACK_MS,
      );
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      await reading;
      watcher.close();
      relay.stop();
    }
  }, 30_000);
});
