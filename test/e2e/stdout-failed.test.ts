/**
 * Standard output that cannot be written (`> /dev/full`: ENOSPC; a file past `ulimit -f`:
 * EFBIG; fd 1 opened read-only: EBADF), as against a reader gone (EPIPE, chat-output-closed and
 * cli-pipes): one line on stderr, the peer told why, exit non-zero, and no wait. Before, the
 * first failed write ended the chat, send and receive as "parley: internal error: ENOSPC: no
 * space left on device, write" (exit 70) with the peer told nothing ("closed the connection
 * without saying goodbye"), and a chat whose last lines failed (input ended before any peer
 * came) exited 0 without a word.
 */

import { afterAll, afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, jsonReceiver, makeTempDir, PARLEY, PARLEY_SHELL, randomFile, startPeer } from "./helpers.ts";
import { type Mounted, mountTmpfs } from "./tmpfs.ts";

afterEach(cleanup);

/** A 64 KiB tmpfs filled up (root only; else why not, and the cases below skip). */
const fullDisk: Mounted | string = mountTmpfs("parley-full-out-", "size=64k");
afterAll(() => {
  if (typeof fullDisk !== "string") fullDisk.release();
});
if (typeof fullDisk === "string") {
  // As full-disk.test.ts: CI (PARLEY_REQUIRE_WORMHOLE=1, root) must run these cases.
  if (process.env.PARLEY_REQUIRE_WORMHOLE === "1")
    throw new Error(`cannot mount a tmpfs for the full-file-system cases: ${fullDisk}`);
  console.warn(`\n*** SKIPPED: stdout on a full file system (test/e2e/stdout-failed.test.ts): ${fullDisk} ***\n`);
} else {
  try {
    writeFileSync(join(fullDisk.path, "filler"), new Uint8Array(128 * 1024));
  } catch {
    // ENOSPC: full, as wanted
  }
}

const TEST_MS = 20_000;

/** The CLI with `args` under bash, its stdout as `redirect` leaves it (`before`: shell commands first). */
function withStdout(label: string, redirect: string, args: readonly string[], before = ""): Cli {
  return new Cli(label, [], ["bash", "-c", `trap '' XFSZ; ${before} exec "$0" "$@" ${redirect}`, ...PARLEY, ...args]);
}

test.each([
  // 1 KiB of room: the first lines fit, the peer's lines do not. (/dev/full and a read-only
  // fd 1 fail the first lines: the run ends before it meets a peer, as the last cases show.)
  ["a file past ulimit -f (EFBIG)", "> out.txt", "ulimit -f 1;", "file too large, EFBIG"],
])(
  "chat with stdout on %s: one line on stderr, the peer told, exit 1",
  async (_label, redirect, before, words) => {
    const alice = await startPeer("alice");
    const dir = makeTempDir();
    const bob = new Cli(
      "bob",
      [],
      [
        "bash",
        "-c",
        `cd "$2" && trap '' XFSZ; ${before} exec ${PARLEY_SHELL} --connect "$0" --name bob --dir "$1" ${redirect}`,

        alice.code,
        dir,
        dir,
      ],
    );
    await alice.cli.waitForLine(/^Connected to bob at /);
    for (let i = 0; i < 40; i++) alice.cli.send(`line ${i} ${"x".repeat(60)}`);
    expect(await bob.exitCode(), bob.stderr).toBe(1);
    expect(bob.stderr).toBe(`parley: cannot write to standard output (${words}): leaving; the peer is told.\n`);
    await alice.cli.waitForLine(/^bob left \(its output failed\)\. Connection closed\.$/);
  },
  TEST_MS,
);

test("chat with stdout on /dev/full whose input ends before a peer comes: its last lines fail after the run, exit 1 with a line", async () => {
  const cli = withStdout("alone", "> /dev/full", ["--dir", makeTempDir()]);
  cli.endInput();
  expect(await cli.exitCode(), cli.stderr).toBe(1);
  expect(cli.stderr).toBe("parley: cannot write to standard output (no space left on device, ENOSPC).\n");
});

test(
  "send --json > /dev/full: one line on stderr, the receiver hears why, both exit non-zero",
  async () => {
    const receiver = await jsonReceiver(makeTempDir());
    const { path } = randomFile("x.bin", 1 << 20);
    const args = ["send", path, "--to", String(receiver.port), "--json"];
    const sender = withStdout("sender", "> /dev/full", args, `export PARLEY_CODE=${receiver.code};`);
    expect(await sender.exitCode(), sender.stderr).not.toBe(0);
    expect(sender.stderr).toBe(
      "parley: cannot write to standard output (no space left on device, ENOSPC): leaving; the peer is told.\n",
    );
    await receiver.cli.waitForLine(/^\{"type":"bye","reason":"its output failed"\}$/);
    expect(await receiver.cli.exitCode()).not.toBe(0);
  },
  TEST_MS,
);

test(
  "receive > /dev/full (dialing a sender): one line on stderr, the sender hears why, exit non-zero",
  async () => {
    const { path } = randomFile("x.bin", 1 << 20);
    const sender = new Cli("sender", ["send", path, "--no-progress"]);
    const { match } = await sender.waitForLine(/ · code ((\d+)-[a-z]+-[a-z]+)$/);
    const args = ["receive", match[2] as string, "--dir", makeTempDir()];
    const receiver = withStdout("receiver", "> /dev/full", args, `export PARLEY_CODE=${match[1]};`);
    expect(await receiver.exitCode(), receiver.stderr).not.toBe(0);
    expect(receiver.stderr).toBe(
      "parley: cannot write to standard output (no space left on device, ENOSPC): leaving; the peer is told.\n",
    );
    await sender.waitForLine(/^Connection closed \(its output failed\)\.$/);
    expect(await sender.exitCode()).toBe(3);
  },
  TEST_MS,
);

const FULL = ["> /dev/full", "no space left on device, ENOSPC"] as const;
const READ_ONLY = ["1< /dev/null", "bad file descriptor, EBADF"] as const;

test.each([
  ["receive", ["receive", "--dir", "DIR"], FULL],
  ["receive --json", ["receive", "--json", "--dir", "DIR"], FULL],
  ["send", ["send", "FILE"], FULL],
  ["the chat, input left open", ["--dir", "DIR"], FULL],
  ["the chat, fd 1 read-only", ["--dir", "DIR"], READ_ONLY],
  ["the chat dialing a peer", ["--connect", "PEER", "--dir", "DIR"], FULL],
])(
  "a listener (%s) whose code line cannot be written: one line on stderr, exit 1, no wait for a peer",
  async (_label, args, [redirect, words]) => {
    // Before, the code line was lost without a word (Bun's console drops a failed write) and
    // the run listened for ever, showing nobody its code (session 21); a chat dialing a peer
    // met it and failed on the peer's first line.
    const { path } = randomFile("x.bin", 1024);
    const dir = makeTempDir();
    const peer = args.includes("PEER") ? await startPeer("alice") : undefined;
    const argv = args.map((a) => (a === "FILE" ? path : a === "DIR" ? dir : a === "PEER" ? (peer?.code ?? a) : a));
    const cli = withStdout("listener", redirect, argv);
    expect(await cli.exitCode(), cli.stderr).toBe(1);
    expect(cli.stderr).toMatch(new RegExp(`^parley: cannot write to standard output \\(${words}\\)[.:]`));
  },
  5_000,
);

test.skipIf(typeof fullDisk === "string").each([
  ["receive", ["receive", "--dir", "DIR"]],
  ["receive --json", ["receive", "--json", "--dir", "DIR"]],
  ["the chat, input left open", ["--dir", "DIR"]],
])(
  "a listener (%s) whose code line goes to a file on a full file system: one line on stderr, exit 1, no wait",
  async (label, args) => {
    // There an empty write succeeds and Bun's console dropped the failed lines: the run
    // listened for ever, its code shown to nobody (newuser21). The lines are written again, and fail.
    const dir = makeTempDir();
    const out = join((fullDisk as Mounted).path, `${label.replace(/\W+/g, "-")}.out`);
    const cli = withStdout(
      "listener",
      `> '${out}'`,
      args.map((a) => (a === "DIR" ? dir : a)),
    );
    expect(await cli.exitCode(), cli.stderr).toBe(1);
    expect(cli.stderr).toMatch(/^parley: cannot write to standard output \(no space left on device, ENOSPC\)[.:]/m);
  },
  5_000,
);
