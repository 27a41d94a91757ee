/**
 * The chat with its standard output read by a reader that goes away (`parley | head -1`): it
 * stops printing and goes on, as send and receive do; its lines still reach the peer and the
 * end of its input still says goodbye. Before, the first write after the reader left ended
 * it with "parley: internal error: EPIPE: broken pipe, write" (exit 70), and the peer saw
 * "Connection lost: the peer closed the connection without saying goodbye".
 */

import { afterEach, expect, test } from "bun:test";
import { Cli, cleanup, makeTempDir, PARLEY_SHELL, startPeer } from "./helpers.ts";

afterEach(cleanup);

const TEST_MS = 30_000;

test(
  "chat | head -c 1: the chat goes on without its output, sends its lines, and leaves with a goodbye (exit 0)",
  async () => {
    const alice = await startPeer("alice");
    // pipefail: the exit code is the chat's when it fails (head's is 0).
    const bob = new Cli(
      "bob",
      [],
      [
        "bash",
        "-c",
        `set -o pipefail; ${PARLEY_SHELL} --connect "$0" --name bob --dir "$1" | head -c 1 > /dev/null`,

        alice.code,
        makeTempDir(),
      ],
    );
    await alice.cli.waitForLine(/^Connected to bob at /);
    bob.send("hello after the reader left");
    await alice.cli.waitForLine(/^<bob> hello after the reader left$/);
    bob.endInput();
    await alice.cli.waitForLine(/^bob left \(exit\)\. Connection closed\.$/);
    expect(await bob.exitCode()).toBe(0);
    expect(bob.stderr).not.toContain("internal error");
  },
  TEST_MS,
);
