/**
 * `parley receive --stdout` from a plain wormhole sender, into a pipe whose reader stops reading:
 * the README's promise for --stdout holds here too (output not read for 10 s fails the transfer,
 * exit 3; 1 s here, PARLEY_OUTPUT_STALL_MS), and a plain sender, which has no window, is held
 * back by TCP while the output is full instead of its file being taken into memory. The sender
 * is played in this process (test/wormhole-peer-kit.ts) and sends the whole file at once.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { closeSync, constants, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TransitRecordSealer } from "../../src/crypto/transit-records.ts";
import { encodeOffer, encodeTransit } from "../../src/protocol/index.ts";
import { until } from "../raw-parley.ts";
import { closePeerKit, joinCode, transitAs, untilMessage } from "../wormhole-peer-kit.ts";
import { Cli, cleanup, makeTempDir, PARLEY_SHELL } from "./helpers.ts";
import { useWormholeServers, wormholeCli, wormholeCode } from "./wormhole-kit.ts";

const kit = useWormholeServers("plain wormhole --stdout stall tests (test/e2e/wormhole-stdout-stall.test.ts)");
const withClient = useWormholeServers(
  "a signal while --stdout's output is full (test/e2e/wormhole-stdout-stall.test.ts)",
  {
    client: true,
  },
);
const openFds: number[] = [];
afterEach(async () => {
  await closePeerKit();
  await cleanup();
  for (const fd of openFds.splice(0)) closeSync(fd);
});

const RECORD_BYTES = 64 * 1024;

/** receive --stdout into a fifo (opened for reading first, never blocking), joined by a crafted plain sender. */
async function receiverIntoFifo(
  stallMs?: number,
): Promise<{ receiver: Cli; fd: number; send: (file: Uint8Array) => Promise<void> }> {
  const dir = makeTempDir();
  const fifo = join(dir, "out");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  openFds.push(fd);
  const stall = stallMs === undefined ? "" : `PARLEY_OUTPUT_STALL_MS=${stallMs} `;
  const receiver = new Cli(
    "parley-receive",
    [],
    [
      "bash",
      "-c",
      `${stall}exec ${PARLEY_SHELL} receive "$0" "$1" "$2" "$3" --stdout --json > "$4"`,

      ...kit.mailbox(),
      fifo,
    ],
  );
  // With --stdout everything but the file goes to stderr, the code's event too.
  await receiver.waitForStderr(/"type":"code"/, 30_000);
  const code = (/"code":"([^"]+)"/.exec(receiver.stderr) as RegExpExecArray)[1] as string;
  const send = async (file: Uint8Array): Promise<void> => {
    const { w, key } = await joinCode(kit.servers(), code);
    w.send(encodeTransit([], [{ host: "127.0.0.1", port: kit.servers().relay.port }]));
    w.send(encodeOffer({ kind: "file", name: "big.bin", size: file.length }));
    const answer = await untilMessage(w, "answer");
    expect(answer.message.answer).toEqual({ kind: "file_ack", ok: true });
    const { conn, keys } = await transitAs(kit.servers(), w, key, "sender", answer.hints);
    conn.setEvents({ onData() {}, onDrain() {}, onClose() {} });
    const sealer = new TransitRecordSealer(keys.sendKey);
    for (let at = 0; at < file.length; at += RECORD_BYTES)
      conn.write(sealer.seal(file.subarray(at, at + RECORD_BYTES)));
  };
  return { receiver, fd, send };
}

describe.skipIf(!kit.available)("a plain wormhole sender into receive --stdout", () => {
  test("a fifo nobody reads: about a MiB is taken, and the stall (1 s here) fails the transfer with exit 3 instead of waiting for ever", async () => {
    const { receiver, send } = await receiverIntoFifo(1000);
    // Far more than the pipe (64 KiB) and the loopback connection's buffers hold.
    await send(new Uint8Array(32 * 1024 * 1024).fill(0x61));
    // Before: the stall was told to nobody (the plain receive set no onFailed): every byte was
    // taken and held, and the receiver waited for the output for ever.
    await receiver.waitForStderr(/has not been read for 1 s/, 30_000);
    expect(await receiver.exitCode(30_000)).toBe(3);
    // What it took off the connection stayed about a MiB (HOLD_BACK_BYTES, a joined run, the
    // pipe's 64 KiB): the rest waited in TCP. Before: the sender had no window, and the receiver
    // took the file into memory as fast as it came (32 MiB, seen at 30 MiB within the stall).
    const taken = receiver.stderr
      .split("\n")
      .filter((l) => l.includes('"type":"progress"'))
      .map((l) => (JSON.parse(l) as { bytes: number }).bytes);
    expect(Math.max(0, ...taken), "bytes taken while the output was full").toBeLessThan(4 * 1024 * 1024);
  }, 90_000);

  test("a slow reader: reading pauses and resumes as the output drains, and the file arrives whole", async () => {
    const { receiver, fd, send } = await receiverIntoFifo();
    const file = new Uint8Array(randomBytes(6 * 1024 * 1024));
    await send(file);
    // 64 KiB every 10 ms at most: far slower than the sender, so the receiver holds back and pauses.
    const got: Uint8Array[] = [];
    let bytes = 0;
    const piece = new Uint8Array(64 * 1024);
    for (let i = 0; i < 20_000 && bytes < file.length; i++) {
      let n = 0;
      try {
        n = readSync(fd, piece, 0, piece.length, null);
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN") throw err;
      }
      if (n > 0) {
        got.push(piece.slice(0, n));
        bytes += n;
      }
      await Bun.sleep(10);
    }
    expect(await receiver.exitCode(30_000)).toBe(0);
    expect(Buffer.concat(got).equals(Buffer.from(file))).toBe(true);
  }, 120_000);
});

describe.skipIf(!withClient.available)("the real wormhole send into receive --stdout", () => {
  test("a signal once every byte is in and the output is still full: the sender is told (remote says), not left waiting for ever", async () => {
    // 600 KB: the pipe takes 64 KiB, the rest is held back by the receiver (under HOLD_BACK_BYTES,
    // so every byte is read off the connection), and the sender waits for its ack.
    const size = 600_000;
    const src = makeTempDir();
    writeFileSync(join(src, "big.bin"), randomBytes(size));
    const sender = wormholeCli(withClient, "wormhole-send", ["send", "big.bin"], src);
    const code = await wormholeCode(sender);
    const fifo = join(makeTempDir(), "out");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    openFds.push(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)); // open, never read
    const receiver = new Cli(
      "parley-receive",
      [],
      [
        "bash",
        "-c",
        // A stall time past the test's: the signal, not the stall, ends the run.
        `PARLEY_OUTPUT_STALL_MS=120000 exec ${PARLEY_SHELL} receive "$0" "$1" "$2" "$3" "$4" --stdout --json > "$5"`,

        code,
        ...withClient.mailbox(),
        fifo,
      ],
    );
    await receiver.waitForStderr(/"type":"connected"/, 60_000);
    await sender.waitForStderr(/waiting for confirmation/, 30_000);
    // Every byte read off the connection by the receiver (its progress events are 100 ms apart:
    // the last may not be one): the transit connection's queues empty on both ends, through the
    // relay too. A stop before the last byte would not send the words checked below.
    const port = (/"type":"path","path":"\w+","address":"[^"]*:(\d+)"/.exec(receiver.stderr) as RegExpExecArray)[1];
    await until(
      "the file's bytes all read by the receiver",
      () => {
        const rows = Bun.spawnSync(["ss", "-tnH", "state", "established", `( sport = :${port} or dport = :${port} )`])
          .stdout.toString()
          .trim()
          .split("\n");
        return rows.length >= 2 && rows.every((row) => /^0\s+0\s/.test(row)) ? true : undefined;
      },
      2_000,
    );
    receiver.kill("SIGTERM");
    expect(await receiver.exitCode(30_000)).not.toBe(0);
    // Before: the receiver closed the connection without a word, and the Python client, which
    // does not notice a lost connection while it waits for the ack, waited for ever.
    expect(await sender.exitCode(30_000), sender.stderr).not.toBe(0);
    expect(sender.stderr).toContain("Transfer failed (remote says:");
    expect(sender.stderr).toContain("the receiver was stopped before the file was stored");
  }, 120_000);
});
