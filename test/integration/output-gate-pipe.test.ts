/**
 * OutputGate on a real process's stdout, a pipe read slowly (review31, left open by review30):
 * the gate clears its backed-up count on the first "drain" after its write was refused, so a
 * drain Bun delivered while its queue still held text would let another MAX_BACKED_UP_CHARS in
 * each time, without bound. Bun 1.4.5 emits one "drain" per refused write, all in one burst once
 * its queue has gone into the pipe; the burst's first ends the gate's wait, the next may end the
 * wait the gate's own "not shown" line began (that line alone is then held unseen). So the bound
 * holds: measured here, round after round of a slow read and a frozen one, what the process took
 * and the reader has not read is never more than MAX_BACKED_UP_CHARS and what the pipe holds.
 */

import { expect, test } from "bun:test";
import { closeSync, constants, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { MAX_BACKED_UP_CHARS } from "../../src/ui/output-gate.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-gate-pipe-");

/**
 * A pipe holds at most this: Linux's pipe-max-size, this machine's (1 MiB unless raised; a FIFO
 * starts at 64 KiB). A constant 1 MiB would fail the bound on a machine that allows larger pipes.
 */
const PIPE_MAX_BYTES = Number(readFileSync("/proc/sys/fs/pipe-max-size", "utf8").trim()) || 1024 * 1024;

/**
 * The writer: our own 100-character lines through a gate on process.stdout, 2,000 a turn (a peer's
 * flood of offers, each declined with a line of ours), and after each turn, on stderr, the
 * characters the gate handed to stdout and the characters it was given.
 */
const WRITER = `
import { lostLinesLine, OutputGate } from ${JSON.stringify(join(import.meta.dir, "../../src/ui/output-gate.ts"))};
let handed = 0;
let given = 0;
const counted = {
  write(text) { handed += text.length; return process.stdout.write(text); },
  once(event, listener) { return process.stdout.once(event, listener); },
};
const gate = new OutputGate(counted, (n) => n + " skipped\\n", lostLinesLine);
const line = "x".repeat(99) + "\\n";
const turn = () => {
  for (let i = 0; i < 2000; i++) {
    gate.write(line);
    given += line.length;
  }
  process.stderr.write(handed + " " + given + "\\n");
  setTimeout(turn, 0);
};
turn();
`;

test("our own lines flooding a slow stdout pipe: what waits unread stays within MAX_BACKED_UP_CHARS", async () => {
  const dir = tempDir();
  const fifo = join(dir, "stdout");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  // bash opens the FIFO as a shell's `| reader` would: a blocking pipe, as users give it.
  const writer = Bun.spawn(["bash", "-c", 'exec "$0" -e "$1" > "$2"', process.execPath, WRITER, fifo], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  try {
    let handed = 0;
    let given = 0;
    let turns = 0;
    let stderrRest = "";
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of writer.stderr) {
        const lines = (stderrRest + decoder.decode(chunk, { stream: true })).split("\n");
        stderrRest = lines.pop() ?? "";
        for (const l of lines) {
          const [h, g] = l.split(" ").map(Number);
          if (h === undefined || g === undefined || Number.isNaN(h) || Number.isNaN(g)) {
            stderrRest = `${l}\n${stderrRest}`; // an error of the writer's: shown below
            continue;
          }
          handed = h;
          given = g;
          turns++;
        }
      }
    })();
    // handed - read: what the process took and the reader has not read, at least (handed lags).
    let mostHeld = 0;
    const BOUND = MAX_BACKED_UP_CHARS + PIPE_MAX_BYTES;
    const turnsPast = async (n: number): Promise<void> => {
      const until = turns + n;
      const deadline = Date.now() + 20_000;
      while (turns < until) {
        if (Date.now() > deadline || writer.exitCode !== null) throw new Error(`the writer stopped: ${stderrRest}`);
        await Bun.sleep(2);
      }
      mostHeld = Math.max(mostHeld, handed - read);
    };
    let read = 0;
    let shown = 0; // the gate's "N lines not shown" lines read
    let tail = "";
    const buffer = new Uint8Array(64 * 1024);
    const readUpTo = (bytes: number): void => {
      for (let got = 0; got < bytes; ) {
        let n = 0;
        try {
          n = readSync(reader, buffer, 0, Math.min(buffer.length, bytes - got), null);
        } catch (err) {
          if ((err as { code?: string }).code !== "EAGAIN") throw err;
        }
        if (n <= 0) return;
        got += n;
        read += n;
        const text = tail + new TextDecoder().decode(buffer.subarray(0, n));
        shown += text.split(" not shown: ").length - 1;
        tail = text.slice(-40); // a line split between two reads is counted once whole
        if (tail.includes(" not shown: ")) tail = tail.slice(tail.lastIndexOf(" not shown: ") + 1);
      }
    };
    const ROUNDS = 4;
    for (let round = 0; round < ROUNDS && mostHeld <= BOUND; round++) {
      // A slow reader, 64 KiB a turn of the writer's, until the gate's wait ends (its "not shown"
      // line: the stream drained while the flood went on), and eight turns more.
      const shownBefore = shown;
      while (shown === shownBefore && mostHeld <= BOUND) {
        readUpTo(64 * 1024);
        await turnsPast(1);
      }
      for (let i = 0; i < 8; i++) {
        readUpTo(64 * 1024);
        await turnsPast(1);
      }
      // Nobody reads while the writer is given more than the gate may hold: it had its chance to
      // hand over more than the bound.
      const givenBefore = given;
      // Nothing is read meanwhile: all it handed over and the reader has not read waits in the
      // process (Bun's queue) or in the pipe.
      while (given - givenBefore < 2 * MAX_BACKED_UP_CHARS && mostHeld <= BOUND) await turnsPast(1);
    }
    expect(mostHeld, "characters handed to stdout and not yet read").toBeLessThanOrEqual(BOUND);
    // The case was reached: the gate held lines back, and its wait ended (a drain) every round.
    expect(given - handed, "lines the gate did not hand over").toBeGreaterThan(ROUNDS * MAX_BACKED_UP_CHARS);
    expect(shown, 'the gate\'s "not shown" lines read').toBeGreaterThanOrEqual(ROUNDS);
  } finally {
    writer.kill("SIGKILL");
    await writer.exited;
    closeSync(reader);
  }
}, 60_000);
