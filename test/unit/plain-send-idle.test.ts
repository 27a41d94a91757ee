/**
 * Sending to a plain wormhole peer (sendOverTransit): a receiver that stops reading, or takes
 * every byte and never acks, ends the send after a bound instead of holding it for ever. Before,
 * `parley send` to a `wormhole receive` that was stopped (SIGSTOP) mid-file, or to a crafted
 * receiver that kept the connection open without an ack, waited without end.
 */

import { expect, test } from "bun:test";
import { encodeTransitAck } from "../../src/protocol/index.ts";
import { PlainTransferError, plainAckWaitMs, sendOverTransit } from "../../src/session/plain-transfer.ts";
import { chunkBytesForRate } from "../../src/session/rate-limiter.ts";
import type { TransitPipeEvents } from "../../src/session/transit-pipe.ts";
import { createDigest, type PieceReader } from "../../src/transfer/index.ts";
import { ManualClock } from "../memory-sessions.ts";

const PIECE = 256 * 1024;

/** A file of zeros in memory. */
const zeros = (): PieceReader => ({
  read: (into) => {
    into.fill(0);
    return into.length;
  },
  close: () => {},
});

/**
 * A pipe whose socket takes `takes` bytes, then nothing (its queue stays full: no drain) until
 * `drain()`; `ack()` answers with the SHA-256 of what was sent, as a wormhole receiver does.
 */
function fakePipe(takes: number) {
  let events: TransitPipeEvents | undefined;
  const hash = createDigest("sha256");
  const pipe = {
    queuedBytes: 0,
    sent: 0,
    destroyed: false,
    start: (e: TransitPipeEvents) => {
      events = e;
    },
    send: (plain: Uint8Array) => {
      hash.update(plain);
      pipe.sent += plain.length;
      if (pipe.sent > takes) pipe.queuedBytes = pipe.sent - takes;
    },
    end: () => {},
    destroy: () => {
      pipe.destroyed = true;
    },
    drain: () => {
      takes = pipe.sent;
      pipe.queuedBytes = 0;
      events?.drained();
    },
    /** The socket takes `n` more of the queue, not all of it: no drain. */
    take: (n: number) => {
      takes += n;
      pipe.queuedBytes -= n;
    },
    ack: () => events?.record(encodeTransitAck(hash.hex())),
    /** An ack of just "ok", no SHA-256 (what wormhole clients still take). */
    bareAck: () => events?.record(new TextEncoder().encode('{"ack": "ok"}')),
  };
  return pipe;
}

/**
 * Until `bytes` were handed to the pipe: the send loop gives the event loop a turn after 10 ms
 * of real time, which a loaded machine takes after the first piece (12 runs in 20 failed beside
 * six busy loops when the tests read `sent` at once).
 */
async function sentUpTo(pipe: { sent: number }, bytes: number): Promise<void> {
  while (pipe.sent < bytes) await new Promise((r) => setImmediate(r));
}

function send(takes: number, size: number, limits: { idleMs: number; ackMs: number }) {
  const pipe = fakePipe(takes);
  const clock = new ManualClock();
  const sending = sendOverTransit(pipe, zeros, size, () => {}, { ...limits, clock });
  return { pipe, clock, sending };
}

test("a receiver that stops taking bytes: E_CONNECTION after idleMs without a drain", async () => {
  const { pipe, clock, sending } = send(PIECE, 4 * PIECE, { idleMs: 50, ackMs: 1000 });
  await sentUpTo(pipe, 2 * PIECE);
  expect(pipe.sent).toBe(2 * PIECE); // the second piece waits in the queue
  clock.advance(49);
  expect(pipe.destroyed).toBe(false);
  clock.advance(1);
  const err = await sending.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PlainTransferError);
  expect((err as PlainTransferError).code).toBe("E_CONNECTION");
  // The socket took one piece; the second still sits in our queue, not taken.
  expect((err as Error).message).toBe(`the receiver took nothing for 0 s, after ${PIECE} of ${4 * PIECE} bytes`);
  expect(pipe.destroyed).toBe(true);
});

test("a receiver slower than a piece per idleMs (a slow link) is not taken for gone while it takes part of the queue", async () => {
  const { pipe, clock, sending } = send(PIECE, 2 * PIECE, { idleMs: 50, ackMs: 300 });
  await sentUpTo(pipe, 2 * PIECE);
  for (let i = 0; i < 6; i++) {
    clock.advance(40); // 240 ms in all, no drain: the second piece is taken 1,000 bytes at a time
    pipe.take(1000);
  }
  expect(pipe.destroyed).toBe(false);
  clock.advance(100); // then nothing for longer than idleMs
  const err = (await sending.catch((e: unknown) => e)) as PlainTransferError;
  expect(err.code).toBe("E_CONNECTION");
  expect(err.message).toBe(`the receiver took nothing for 0 s, after ${PIECE + 6000} of ${2 * PIECE} bytes`);
});

test("a receiver that takes every byte and never acks: E_CONNECTION ackMs after the last byte", async () => {
  const { pipe, clock, sending } = send(Number.MAX_SAFE_INTEGER, 2 * PIECE, { idleMs: 50, ackMs: 300 });
  await sentUpTo(pipe, 2 * PIECE);
  clock.advance(299); // far past idleMs: waiting for an ack is not being idle
  expect(pipe.destroyed).toBe(false);
  clock.advance(1);
  const err = (await sending.catch((e: unknown) => e)) as PlainTransferError;
  expect(err.code).toBe("E_CONNECTION");
  expect(err.message).toBe("the receiver did not acknowledge the file within 0 s of its last byte");
});

test("a slow receiver that drains within idleMs each time, then acks late within ackMs, succeeds", async () => {
  const { pipe, clock, sending } = send(PIECE, 3 * PIECE, { idleMs: 50, ackMs: 300 });
  for (let i = 0; i < 4; i++) {
    clock.advance(49); // each gap shorter than idleMs, the whole far longer
    pipe.drain();
  }
  expect(pipe.sent).toBe(3 * PIECE);
  clock.advance(299);
  pipe.ack();
  expect(await sending).toMatchObject({ bytes: 3 * PIECE, verified: true });
  expect(pipe.destroyed).toBe(false);
  clock.advance(10_000); // no timer left to fire
  expect(pipe.destroyed).toBe(false);
});

test("a folder's zip: wormhole receive unpacks before it acks, so the wait grows with the unpacked bytes", () => {
  expect(plainAckWaitMs(0, 0)).toBe(120_000);
  expect(plainAckWaitMs(10 * 1024 ** 3, 0)).toBe(120_000 + 1280_000);
});

test("a folder's zip of many small entries: the wait grows with the entries too (a create and a chmod each)", () => {
  // 200,000 empty files: about 14 s to unpack here (72 us each), minutes on a slow disk.
  expect(plainAckWaitMs(0, 200_000)).toBe(120_000 + 1_000_000);
});

test('an ack of just "ok" (no SHA-256) is taken, as wormhole clients take it, but not as verified', async () => {
  const { pipe, sending } = send(Number.MAX_SAFE_INTEGER, PIECE, { idleMs: 50, ackMs: 300 });
  pipe.bareAck();
  expect(await sending).toMatchObject({ bytes: PIECE, verified: false });
});

test("--limit-rate holds a send to a plain receiver to the rate, as to a Parley peer: never more than two pieces ahead of it", async () => {
  // review30: sendOverTransit had no limiter, and `parley send --limit-rate 1M` to a `wormhole
  // receive` sent 1.5 MiB 64 ms after the path stood.
  const rate = 1024 * 1024;
  const piece = chunkBytesForRate(rate, PIECE);
  const size = 1536 * 1024;
  const pipe = fakePipe(Number.MAX_SAFE_INTEGER); // a socket that takes everything at once
  const clock = new ManualClock();
  const limits = { idleMs: 60_000, ackMs: 60_000, clock, bytesPerSecond: rate };
  const sending = sendOverTransit(pipe, zeros, size, () => {}, limits);
  for (let ms = 10; pipe.sent < size; ms += 10) {
    if (ms > 10_000) throw new Error(`${pipe.sent} of ${size} bytes after 10 s of the clock`);
    clock.advance(10);
    await new Promise((r) => setImmediate(r));
    expect(pipe.sent, `at ${ms} ms`).toBeLessThanOrEqual(2 * piece + (rate * ms) / 1000);
  }
  // 1.5 MiB at 1 MiB/s, less its burst: 1.45 s of the clock at the least (unlimited: all at 0).
  expect(clock.now()).toBeGreaterThanOrEqual(1_400);
  pipe.ack();
  expect((await sending).bytes).toBe(size);
});
