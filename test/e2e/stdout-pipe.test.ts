/**
 * `parley receive --stdout` into a pipe whose reader stops reading, as a shell sets it up
 * (`> fifo`, `| reader`: fd 1 blocking). The README promises that the process is not stuck
 * there: Ctrl-C works, and output not read for 10 s fails the transfer (exit 3). Before the
 * fix the receiver sat in write(2) on fd 1 until the reader went away. The stall is set to 1 s
 * here (PARLEY_OUTPUT_STALL_MS): the same check, 9 s sooner; the 10 s default is the unit
 * tests' (stream-receiver.test.ts).
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, makeTempDir, PARLEY_SHELL, randomFile, startCli } from "./helpers.ts";

const TEST_MS = 60_000;
const openFds: number[] = [];

afterEach(async () => {
  await cleanup();
  for (const fd of openFds.splice(0)) closeSync(fd);
});

test(
  "receive --stdout into a shell's fifo that nobody reads: the stall (1 s here) fails the transfer (exit 3), the process is not stuck in write",
  async () => {
    const dir = makeTempDir();
    const fifo = join(dir, "out");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    // The reader: opened, never read (non-blocking open, so it does not wait for the writer).
    openFds.push(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    const receiver = new Cli(
      "receiver",
      [],
      ["bash", "-c", `PARLEY_OUTPUT_STALL_MS=1000 exec ${PARLEY_SHELL} receive --stdout --json > "$0"`, fifo],
    );
    await receiver.waitForStderr(/"type":"listening"/);
    const listening = JSON.parse(receiver.stderr.split("\n").find((l) => l.includes('"listening"')) as string);
    // Far more than the pipe (64 KiB) and the send window hold.
    const file = randomFile("big.bin", 8 * 1024 * 1024);
    const sender = startCli("sender", ["send", file.path, "--to", listening.code as string]);
    await receiver.waitForStderr(/has not been read for 1 s/, 40_000);
    expect(await receiver.exited).toBe(3);
    expect(await sender.exited).toBe(3);
    // The sender is told why (the CANCEL's detail), not only that the output could not be written.
    expect(sender.stderr + sender.stdout).toMatch(
      /Sending #1 big\.bin failed: the peer cancelled it: the receiver could not write to its output \(its reader stopped reading it\): \d+ of the 8388608 bytes reached it; a file written to an output cannot resume/,
    );
  },
  TEST_MS,
);
