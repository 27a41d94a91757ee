/**
 * `parley receive --stdout` from a plain wormhole sender, into a pipe whose reader stops reading:
 * the README's promise for --stdout holds here too (output not read for 10 s fails the transfer,
 * exit 3; 1 s here, PARLEY_OUTPUT_STALL_MS). The sender is played in this process
 * (test/wormhole-peer-kit.ts) and sends the whole file at once, as `wormhole send` does.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { TransitRecordSealer } from "../../src/crypto/transit-records.ts";
import { encodeOffer, encodeTransit } from "../../src/protocol/index.ts";
import { closePeerKit, joinCode, transitAs, untilMessage } from "../wormhole-peer-kit.ts";
import { BUN, Cli, cleanup, MAIN, makeTempDir } from "./helpers.ts";
import { useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("plain wormhole --stdout stall tests (test/e2e/wormhole-stdout-stall.test.ts)");
const openFds: number[] = [];
afterEach(async () => {
  await closePeerKit();
  await cleanup();
  for (const fd of openFds.splice(0)) closeSync(fd);
});

const RECORD_BYTES = 64 * 1024;

describe.skipIf(!kit.available)("a plain wormhole sender into receive --stdout", () => {
  test("a fifo nobody reads: the stall (1 s here) fails the transfer with exit 3 instead of waiting for ever", async () => {
    const dir = makeTempDir();
    const fifo = join(dir, "out");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    // The reader: opened, never read (non-blocking open, so it does not wait for the writer).
    openFds.push(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    const receiver = new Cli(
      "parley-receive",
      [],
      [
        "bash",
        "-c",
        `PARLEY_OUTPUT_STALL_MS=1000 exec "$0" "$1" receive "$2" "$3" "$4" "$5" --stdout --json > "$6"`,
        BUN,
        MAIN,
        ...kit.mailbox(),
        fifo,
      ],
    );
    // With --stdout everything but the file goes to stderr, the code's event too.
    await receiver.waitForStderr(/"type":"code"/, 30_000);
    const code = (/"code":"([^"]+)"/.exec(receiver.stderr) as RegExpExecArray)[1] as string;
    const { w, key } = await joinCode(kit.servers(), code);
    w.send(encodeTransit([], [{ host: "127.0.0.1", port: kit.servers().relay.port }]));
    // Far more than the pipe holds (64 KiB).
    const size = 4 * 1024 * 1024;
    w.send(encodeOffer({ kind: "file", name: "big.bin", size }));
    const answer = await untilMessage(w, "answer");
    expect(answer.message.answer).toEqual({ kind: "file_ack", ok: true });
    const { conn, keys } = await transitAs(kit.servers(), w, key, "sender", answer.hints);
    conn.setEvents({ onData() {}, onDrain() {}, onClose() {} });
    const sealer = new TransitRecordSealer(keys.sendKey);
    for (let at = 0; at < size; at += RECORD_BYTES) conn.write(sealer.seal(new Uint8Array(RECORD_BYTES).fill(0x61)));
    // Before: the stall was told to nobody (the plain receive set no onFailed): every byte was
    // taken and held, and the receiver waited for the output for ever.
    await receiver.waitForStderr(/has not been read for 1 s/, 30_000);
    expect(await receiver.exitCode(30_000)).toBe(3);
  }, 90_000);
});
