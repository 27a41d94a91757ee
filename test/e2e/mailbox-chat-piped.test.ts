/**
 * The mailbox chat driven by a script: its input (the peer's code and chat lines, or chat
 * lines after --connect CODE) is written at once and ends at once, as a pipe does. The lines
 * wait until the code is joined and the session is up, as they do in the direct flow while it
 * dials. Before, a line that came before the mailbox was set up was read as a direct code
 * ("is not a code, a port or host:port"), and the end of input ended the chat while it joined:
 * "End of input before a peer connected: nothing was sent", exit 0, the lines lost.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";
import { useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("mailbox chat with piped input (test/e2e/mailbox-chat-piped.test.ts)");
afterEach(cleanup);

const TEST_MS = 60_000;

describe.skipIf(!kit.available)("bun run chat with a mailbox, input piped and ended at once", () => {
  test.each([
    ["--connect CODE, then a chat line", true],
    ["the code as the first line, then a chat line", false],
  ])(
    "%s: the line reaches the peer, then a goodbye; exit 0",
    async (_what, onCommandLine) => {
      const alice = startCli("alice", [...kit.mailbox(), "--name", "alice", "--no-progress", "--dir", makeTempDir()]);
      const { match } = await alice.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/, 30_000);
      const code = match[1] as string;
      const connect = onCommandLine ? ["--connect", code] : [];
      const bob = startCli("bob", [
        ...kit.mailbox(),
        "--name",
        "bob",
        "--no-progress",
        "--dir",
        makeTempDir(),
        ...connect,
      ]);
      if (!onCommandLine) bob.send(code);
      bob.send("hello alice, from a script");
      bob.endInput();
      await alice.waitForLine(/^<bob> hello alice, from a script$/, 30_000);
      await alice.waitForLine(/^bob left \(exit\)\. Connection closed\.$/);
      expect(await bob.exitCode()).toBe(0);
      expect(bob.stdout).not.toContain("nothing was sent");
      expect(await alice.exitCode()).toBe(0);
    },
    TEST_MS,
  );
});
