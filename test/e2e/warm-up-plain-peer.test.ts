/**
 * The warm-up (src/cli/warm-up.ts) and a plain wormhole client met through the mailbox: its one
 * transfer is the peer's work, as a Parley session is, so no warm-up starts once it is met. No
 * Session exists there, so the rendezvous' `connected` (which stops it for a Parley peer) never
 * comes: before PeerLink.peerMet, the warm-up started WARM_UP_DELAY_MS after the code and wrote its
 * 64 MiB while the plain peer's transfer ran.
 *
 * The plain client is the test's own (test/wormhole-peer-kit.ts), so it can hold its offer back
 * until a run started after the one under test has warmed up: by then that one would have too.
 */

import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, watch } from "node:fs";
import { encodeOffer } from "../../src/protocol/index.ts";
import { Wormhole } from "../../src/session/wormhole.ts";
import { closePeerKit, joinCode, untilMessage } from "../wormhole-peer-kit.ts";
import { Cli, cleanup, makeTempDir, PARLEY, WAIT_MS } from "./helpers.ts";
import { useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("the warm-up with a plain wormhole client (test/e2e/warm-up-plain-peer.test.ts)");
afterEach(async () => {
  await closePeerKit();
  await cleanup();
});

const TEST_MS = 60_000;
const warm = (name: string) => name.startsWith("parley-warm-");
/** The warm-up folders among `made` (each name once: a folder's removal names it again). */
const warmFolders = (made: readonly string[]) => [...new Set(made.filter(warm))];

beforeAll(async () => {
  if (!kit.available) return;
  // The kit's first meeting loads and compiles its mailbox and PAKE code in this process (0.5 s
  // here, against 0.15 s after): done before the tests, so their plain peer joins as a real one does.
  const first = await Wormhole.open(kit.servers().mailboxUrl, { app_versions: {} });
  await joinCode(kit.servers(), await first.code.promise);
  await first.verified.promise;
  await Promise.all([first.close("happy"), closePeerKit()]);
});

/** The CLI with `tmp` as its temporary folder, and the names made there from its start on. */
function cliWithTmp(label: string, args: readonly string[]): { cli: Cli; tmp: string; made: string[]; stop(): void } {
  const tmp = makeTempDir();
  const made: string[] = [];
  const watcher = watch(tmp, (_event, name) => {
    if (name) made.push(String(name));
  });
  const cli = new Cli(label, [], ["env", `TMPDIR=${tmp}`, "PARLEY_WARM_UP=1", ...PARLEY, ...args]);
  return { cli, tmp, made, stop: () => watcher.close() };
}

/**
 * A chat started now with no peer: resolves once its warm-ups (the first pass and the whole one)
 * have made their folders and removed them, and the chat is over. A run that showed its code
 * earlier had started its own by then, had it been going to.
 */
async function aLaterRunWarmedUp(): Promise<void> {
  const control = cliWithTmp("control", ["--host", "127.0.0.1", "--no-progress", "--dir", makeTempDir()]);
  try {
    await control.cli.waitForLine(/^Listening on /);
    const deadline = Date.now() + WAIT_MS;
    const ran = () => warmFolders(control.made).length >= 2 && readdirSync(control.tmp).length === 0;
    while (!ran() && Date.now() < deadline) await Bun.sleep(10);
    expect(ran(), "the control run's warm-ups made their folders and removed them").toBe(true);
    control.cli.send("exit");
    expect(await control.cli.exitCode()).toBe(0);
  } finally {
    control.stop();
  }
}

describe.skipIf(!kit.available)("a plain wormhole client met through the mailbox", () => {
  test.each([
    ["parley receive", ["receive", "--json"], /"type":"code","code":"([^"]+)"/, 0],
    ["the chat", ["--no-progress"], /^Waiting in the mailbox · code (\S+)$/, 1],
  ])(
    "%s: no warm-up starts while its transfer is under way",
    async (_what, args, codeLine, firstPasses) => {
      const run = cliWithTmp("parley", [...args, ...kit.mailbox(), "--dir", makeTempDir()]);
      try {
        const { match } = await run.cli.waitForLine(codeLine, 30_000);
        const { w } = await joinCode(kit.servers(), match[1] as string);
        // The case: the peer is met before the whole warm-up is due (about a second after the
        // code; the join takes 0.1-0.2 s here). Only the first pass, at once, may have started by
        // then (a short one, stopped now if it still runs).
        const beforeJoin = warmFolders(run.made);
        // (The chat's: send and receive make none.)
        expect(beforeJoin.length, "only the first pass had started when the plain peer joined").toBeLessThanOrEqual(
          firstPasses,
        );
        await aLaterRunWarmedUp();
        // Its one transfer (a text message), held back until now.
        w.send(encodeOffer({ kind: "message", text: "hello from a plain client" }));
        const { message } = await untilMessage(w, "answer");
        expect(message.answer).toEqual({ kind: "message_ack", ok: true });
        expect(await run.cli.exitCode(30_000)).toBe(0);
        expect(run.cli.stdout).toContain("hello from a plain client");
        expect(warmFolders(run.made), "a warm-up ran during the plain peer's transfer").toEqual(beforeJoin);
        expect(readdirSync(run.tmp)).toEqual([]);
      } finally {
        run.stop();
      }
    },
    TEST_MS,
  );
});
