/**
 * The mailbox chat driven by a script: its input (the peer's code and chat lines, or chat
 * lines after --connect CODE) is written at once and ends at once, as a pipe does. The lines
 * wait until the code is joined and the session is up, as they do in the direct flow while it
 * dials. Before, a line that came before the mailbox was set up was read as a direct code
 * ("is not a code, a port or host:port"), and the end of input ended the chat while it joined:
 * "End of input before a peer connected: nothing was sent", exit 0, the lines lost.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { cleanup, makeTempDir, ROOT, startCli } from "./helpers.ts";
import { useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("mailbox chat with piped input (test/e2e/mailbox-chat-piped.test.ts)");
afterEach(cleanup);

const TEST_MS = 60_000;

/** `bun run chat` with the test's mailbox, plain output, its own download folder. */
function mailboxChat(name: string, extra: readonly string[] = []) {
  return startCli(name, [...kit.mailbox(), "--name", name, "--no-progress", "--dir", makeTempDir(), ...extra]);
}

/**
 * Resolves once process `pid` has read (its rchar: pipes, sockets and files alike) less than a
 * pipe's worth (64 KiB) in `quietMs`: it is not reading its input. Never, once `done()` is true.
 */
async function readingStops(pid: number, quietMs: number, done: () => boolean): Promise<void> {
  const readBytes = () => Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1]);
  let from = readBytes();
  let since = performance.now();
  while (!done()) {
    await Bun.sleep(50);
    const now = readBytes();
    if (now - from >= 64 * 1024) {
      from = now;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return;
  }
  await new Promise(() => {}); // the flush won the race: this one never resolves
}

/** Alice in the mailbox, and the code she shows. */
async function aliceWaiting() {
  const alice = mailboxChat("alice");
  const { match } = await alice.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/, 30_000);
  return { alice, code: match[1] as string };
}

describe.skipIf(!kit.available)("bun run chat with a mailbox, input piped and ended at once", () => {
  test.each([
    ["--connect CODE, then a chat line", true],
    ["the code as the first line, then a chat line", false],
  ])(
    "%s: the line reaches the peer, then a goodbye; exit 0",
    async (_what, onCommandLine) => {
      const { alice, code } = await aliceWaiting();
      const bob = mailboxChat("bob", onCommandLine ? ["--connect", code] : []);
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

describe.skipIf(!kit.available)("bun run chat with a mailbox, its first lines", () => {
  test(
    "after its code, what relative paths are resolved from, as the direct flow says",
    async () => {
      const { alice } = await aliceWaiting();
      // Before: only the direct flow said it ("transfer ../x" then read "no such file: /elsewhere/x").
      await alice.waitForLine(/^Relative paths/);
      expect(alice.lines.slice(0, 3)).toEqual([
        expect.stringMatching(/^Waiting in the mailbox · code /),
        "Give the peer this code, or type the code its Parley shows.",
        `Relative paths (transfer, --dir) are resolved from ${ROOT}.`,
      ]);
      const bob = mailboxChat("bob", ["--connect", "7-crossover-clockwork"]);
      await bob.waitForLine(/^Relative paths \(transfer, --dir\) are resolved from /);
      bob.kill("SIGTERM");
    },
    TEST_MS,
  );

  test(
    "a code typed before its own code came: 'Joining', not its own code's lines after it",
    async () => {
      const { alice, code } = await aliceWaiting();
      // Written at once, before bob's mailbox has given him a code of his own (a paste).
      const bob = mailboxChat("bob");
      bob.send(code);
      await Promise.all([
        bob.waitForLine(/^Connected to alice /, 30_000),
        alice.waitForLine(/^Connected to bob /, 30_000),
      ]);
      const joining = bob.lines.indexOf(`Joining ${code}...`);
      expect(joining, bob.describe()).toBeGreaterThanOrEqual(0);
      // Before: "Waiting in the mailbox · code N-...", "Give the peer this code, ..." after
      // "Joining": the code typed read as waiting, and bob's own as one to give.
      const after = bob.lines.slice(joining);
      expect(
        after.filter((l) => /^Waiting in the mailbox|^Give the peer this code/.test(l)),
        bob.describe(),
      ).toEqual([]);
      expect(bob.linesMatching(/^Relative paths \(transfer, --dir\) are resolved from /)).toHaveLength(1);
      bob.endInput();
      expect(await bob.exitCode()).toBe(0);
      expect(await alice.exitCode()).toBe(0);
    },
    TEST_MS,
  );
});

describe.skipIf(!kit.available)("bun run chat with a mailbox, commands before a peer", () => {
  test(
    "help gives a mailbox code's example, and transfer, transfers, cancel N say they need a peer (not 'not a mailbox code')",
    async () => {
      const { alice, code } = await aliceWaiting();
      for (const line of ["help", "transfer notes.txt", "transfers", "cancel 3"]) alice.send(line);
      // Before: "(port-word-word)", a direct code's shape, and "Error: not a mailbox code. ..." three times.
      await alice.waitForLine(/^Error: not connected yet: "cancel"/);
      expect(alice.lines.filter((l) => l.startsWith("Enter the code") || l.startsWith("Error"))).toEqual([
        "Enter the code the peer's Parley shows (like 7-crossover-clockwork). exit quits.",
        'Error: not connected yet: "transfer" works once the peer is connected. Enter the peer\'s code, e.g. 7-crossover-clockwork.',
        'Error: not connected yet: "transfers" works once the peer is connected. Enter the peer\'s code, e.g. 7-crossover-clockwork.',
        'Error: not connected yet: "cancel" works once the peer is connected. Enter the peer\'s code, e.g. 7-crossover-clockwork.',
      ]);
      // The code still works after them.
      const bob = mailboxChat("bob", ["--connect", code]);
      await alice.waitForLine(/^Connected to bob /, 30_000);
      bob.endInput();
      await alice.waitForLine(/^bob left \(exit\)\. Connection closed\.$/);
      expect(await bob.exitCode()).toBe(0);
      expect(await alice.exitCode()).toBe(0);
    },
    TEST_MS,
  );
});

describe.skipIf(!kit.available)("bun run chat with a mailbox, waiting for a peer that does not answer", () => {
  test(
    "endless piped lines while it joins: reading pauses at the held-line bound, memory stays bounded",
    async () => {
      const { alice, code } = await aliceWaiting();
      // Alice holds the nameplate but never answers: Bob's join waits as long as that lasts.
      alice.kill("SIGSTOP");
      const bob = mailboxChat("bob", ["--connect", code]);
      await bob.waitForLine(/^Joining /, 30_000);
      const piece = `${"z".repeat(1023)}\n`.repeat(1024); // 1 MiB of 1 KiB lines
      // Up to 128 MiB offered; with reading paused the pipe fills and a flush stops completing:
      // stalled once Bob has read less than a pipe's worth in 500 ms while a flush waits (not
      // after a fixed 3 s, as before; a Bob that reads on, holding every line, flushes on).
      let stalled = false;
      for (let i = 0; i < 128 && !stalled; i++) {
        bob.proc.stdin.write(piece);
        let flushed = false;
        await Promise.race([
          Promise.resolve(bob.proc.stdin.flush()).then(() => {
            flushed = true;
          }),
          readingStops(bob.proc.pid, 500, () => flushed),
        ]);
        stalled = !flushed;
      }
      const status = await Bun.file(`/proc/${bob.proc.pid}/status`).text();
      const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
      alice.kill("SIGKILL");
      bob.kill("SIGKILL");
      // Held whole, 128 MiB of lines cost more than that; paused, about a thousand lines and a pipe.
      expect(peakKiB).toBeGreaterThan(0);
      expect(peakKiB).toBeLessThan(150 * 1024);
      expect(stalled).toBe(true);
      expect(bob.stderr).toBe("");
    },
    TEST_MS,
  );
});
