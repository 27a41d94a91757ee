/** A plain wormhole sender that goes silent mid-transfer ends the transfer (attack finding F7). */

import { expect, test } from "bun:test";
import { type PlainSink, receiveOverTransit } from "../../src/session/plain-receive.ts";
import { PlainTransferError } from "../../src/session/plain-transfer.ts";
import type { TransitPipeEvents } from "../../src/session/transit-pipe.ts";
import { type ReceivedFile, TransferError } from "../../src/transfer/index.ts";
import { ManualClock } from "../memory-sessions.ts";

function fakePipe() {
  let events: TransitPipeEvents | undefined;
  const pipe = {
    destroyed: false,
    start: (e: TransitPipeEvents) => {
      events = e;
    },
    send: (_bytes: Uint8Array): void => {},
    end: () => {},
    destroy: () => {
      pipe.destroyed = true;
    },
    deliver: (bytes: Uint8Array) => events?.record(bytes),
  };
  return pipe;
}

function memorySink(): PlainSink & { aborted: boolean } {
  const sink = {
    received: 0,
    aborted: false,
    write(bytes: Uint8Array) {
      sink.received += bytes.length;
    },
    finish: (): ReceivedFile => ({ path: "/nowhere/x", bytes: sink.received, algo: "sha256", digest: "00" }),
    abort() {
      sink.aborted = true;
    },
  };
  return sink;
}

/** A receive of `size` bytes with an idle limit of `idleMs` on a clock that moves only when told. */
function receiveOnManualClock(size: number, idleMs: number) {
  const pipe = fakePipe();
  const sink = memorySink();
  const clock = new ManualClock();
  const receiving = receiveOverTransit(pipe, sink, size, () => {}, { idleMs, clock });
  return { pipe, sink, clock, receiving };
}

test("no record for idleMs after some bytes: E_CONNECTION, the sink aborted, the pipe destroyed", async () => {
  const { pipe, sink, clock, receiving } = receiveOnManualClock(100_000, 50);
  pipe.deliver(new Uint8Array(1000));
  clock.advance(49);
  expect(pipe.destroyed).toBe(false);
  clock.advance(1);
  const err = await receiving.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PlainTransferError);
  expect((err as PlainTransferError).code).toBe("E_CONNECTION");
  expect((err as Error).message).toBe("nothing arrived for 0 s after 1000 of 100000 bytes");
  expect(sink.aborted).toBe(true);
  expect(pipe.destroyed).toBe(true);
});

test("records that keep coming, each within idleMs, reach the end", async () => {
  const { pipe, sink, clock, receiving } = receiveOnManualClock(4000, 80);
  for (let i = 0; i < 4; i++) {
    clock.advance(79); // each gap is shorter than idleMs, the whole far longer
    pipe.deliver(new Uint8Array(1000));
  }
  expect((await receiving).bytes).toBe(4000);
  expect(sink.aborted).toBe(false);
  expect(pipe.destroyed).toBe(false);
});

test("the stamp, not the first timer, decides: a record just before the timer fires buys a full idleMs", async () => {
  const { pipe, clock, receiving } = receiveOnManualClock(2000, 80);
  clock.advance(70);
  pipe.deliver(new Uint8Array(1000));
  clock.advance(70); // the first timer fired at 80 and re-armed for the record at 70
  expect(pipe.destroyed).toBe(false);
  clock.advance(10);
  expect(pipe.destroyed).toBe(true);
  expect(((await receiving.catch((e: unknown) => e)) as PlainTransferError).code).toBe("E_CONNECTION");
});

test("every byte in but not stored (the file's rename fails): the sender's ack refuses it, in words without our path", async () => {
  // The Python sender's wait for its ack is not ended by a lost connection: closed without an
  // ack, `wormhole send` waited for ever ("File sent.. waiting for confirmation").
  const sent: unknown[] = [];
  const pipe = { ...fakePipe(), ended: false };
  pipe.send = (bytes: Uint8Array) => {
    sent.push(JSON.parse(Buffer.from(bytes).toString("utf8")));
  };
  pipe.end = () => {
    pipe.ended = true;
  };
  const sink = memorySink();
  sink.finish = () => {
    throw new TransferError("E_WRITE", "cannot rename /home/me/secret/x.part: input/output error");
  };
  const receiving = receiveOverTransit(pipe, sink, 10, () => {});
  pipe.deliver(new Uint8Array(10));
  const err = await receiving.catch((e: unknown) => e);
  expect((err as PlainTransferError).code).toBe("E_WRITE");
  expect(sink.aborted).toBe(true);
  expect(sent).toEqual([{ ack: "the receiver could not store it" }]);
  expect(pipe.ended).toBe(true);
});
