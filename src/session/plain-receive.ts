/**
 * Receiving the one transfer from a plain wormhole peer (`wormhole send`), over the transit
 * records (transit-pipe.ts):
 *
 *   records -> sink, joined into runs of up to 256 KiB (one write and one hash update per run,
 *   not per 16 KiB record), until the offered size; then the sink names the file (a folder's
 *   zip is unpacked: `store`) and our SHA-256 goes back as the final record {"ack": "ok",
 *   "sha256": HEX}, or {"ack": WORDS} when it was not stored; a run past the offered size is
 *   refused whole; a sink holding back HOLD_BACK_BYTES (a full output) pauses the reading: a
 *   plain sender has no window, TCP holds it back
 *
 * A bad record (does not open, out of order) ends the connection and the transfer
 * (E_AUTH_FAILED / E_BAD_NONCE); the sink is aborted, so nothing is left under a final name.
 * Plain peers cannot resume: a broken transfer removes its `.part`. The files are the caller's:
 * bytes arrive through a PlainSink.
 */

import { CryptoError } from "../crypto/index.ts";
import { encodeTransitAck, encodeTransitRefusal } from "../protocol/index.ts";
import type { ReceivedFile, TransferError } from "../transfer/index.ts";
import { type Clock, systemClock } from "./clock.ts";
import { PLAIN_IDLE_MS, PlainTransferError, plainFailureOf } from "./plain-transfer.ts";
import { QuietWatch } from "./quiet-watch.ts";
import type { TransitPipe } from "./transit-pipe.ts";

/**
 * Bytes a receiving sink may hold back (a full output: StreamReceiver's backlog) before the
 * transit connection stops being read; reading resumes once at most RESUME_BYTES are held. A
 * plain sender has no window: unread, its whole file was taken into memory.
 */
const HOLD_BACK_BYTES = 1024 * 1024;
const RESUME_BYTES = HOLD_BACK_BYTES / 2;

/** Where received bytes go (FileReceiver, StreamReceiver, or a folder's zip). */
export interface PlainSink {
  readonly received: number;
  /** @throws TransferError (disk, more than offered) */
  write(bytes: Uint8Array): void;
  /** Every byte is in: store it. @throws TransferError */
  finish(): ReceivedFile;
  /** Ends unfinished; nothing stays under a final name. */
  abort(keepPart?: boolean): void;
  /** Bytes held back by a full output (StreamReceiver), and the call when they are out. */
  readonly backlog?: number;
  onFlushed?: () => void;
  /** Held-back bytes could not be written (an output not read for its stall time): the transfer fails. */
  onFailed?: (err: TransferError) => void;
}

/** How a receive waits, and what it does before its ack goes back. */
export interface PlainReceiveSteps {
  /** A sender that sends nothing for this long, before the last byte, has gone (PLAIN_IDLE_MS). */
  readonly idleMs?: number;
  readonly clock?: Clock;
  /**
   * Stores what arrived before the ack goes back: a folder's zip is checked and unpacked first,
   * as `wormhole receive` does, so that its sender learns whether the folder was stored. A throw
   * sends `{"ack": refusal(err)}` instead of "ok" (the wormhole sender fails with those words) and
   * the receive rejects with that error as thrown. The sink is the caller's to remove then.
   */
  readonly store?: (file: ReceivedFile) => Promise<void>;
  /** The words a refusal's ack carries (never a local path: the sender reads them). */
  readonly refusal?: (err: unknown) => string;
  /**
   * `store` has begun: `refuse(words)` sends the refusal now, once (the run ends before `store`
   * does: a signal). A bare close would not do: the Python client's wait for the ack is not
   * ended by a lost connection, so it would wait for ever.
   */
  readonly storing?: (refuse: (words: string) => void) => void;
  /**
   * The receive has begun: `stop(words)` ends it now (the run is ending: a signal), the sink
   * aborted. Before the last byte the connection is destroyed (the sender's write fails); after
   * it (a full output under --stdout still holding bytes back) the sender, which waits for its
   * ack, is refused in `words`: the Python client's wait for the ack is not ended by a lost
   * connection. The receive's promise is left unsettled: the run is over. Once `store` has begun,
   * `storing`'s refuse is the one to call.
   */
  readonly stoppable?: (stop: (words: string) => void) => void;
}

/** What a refusal's ack says where `refusal` is not given. */
const NOT_STORED = "the receiver could not store it";

/**
 * Receives `size` bytes into `sink`, stores them (`steps.store`) and sends the ack.
 * @param progressed - bytes so far, after each record
 * @throws PlainTransferError; what `steps.store` throws, as thrown
 */
export function receiveOverTransit(
  pipe: Pick<TransitPipe, "start" | "send" | "end" | "destroy"> & Partial<Pick<TransitPipe, "pauseReading">>,
  sink: PlainSink,
  size: number,
  progressed: (bytes: number) => void,
  steps: PlainReceiveSteps = {},
): Promise<ReceivedFile> {
  const { idleMs = PLAIN_IDLE_MS, clock = systemClock, store, refusal = () => NOT_STORED, storing, stoppable } = steps;
  return new Promise((resolve, reject) => {
    let settled = false;
    /** Ends the receive unstored: the sink aborted, the sender refused in `words` or cut off. @returns false when it had ended */
    const end = (words: string): boolean => {
      if (settled) return false;
      settled = true;
      idle.stop();
      sink.abort(false);
      if (sink.received === size) {
        // Every byte is in and the sender waits for its ack (the file not stored: its rename, an
        // output that stays full, a signal while it does): refused in words, as `store` does; a
        // bare close would leave the Python client waiting for ever. Nothing is sent on a
        // connection already closed.
        pipe.send(encodeTransitRefusal(words));
        pipe.end();
      } else pipe.destroy();
      return true;
    };
    const fail = (err: unknown): void => {
      if (end(refusal(err))) reject(plainFailureOf(err));
    };
    stoppable?.(end);
    // A peer gone silent mid-transfer (no close, no bytes) must not hold us for ever: records stamp the watch.
    const idle = new QuietWatch(
      clock,
      () => idleMs,
      (limit) =>
        fail(
          new PlainTransferError(
            "E_CONNECTION",
            `nothing arrived for ${Math.round(limit / 1000)} s after ${sink.received} of ${size} bytes`,
          ),
        ),
    );
    // A full output that stays full (StreamReceiver's stall) fails here, as the session's sinks do.
    sink.onFailed = fail;
    /** The connection is not read while the sink holds back HOLD_BACK_BYTES or more. */
    let paused = false;
    sink.onFlushed = () => {
      if (settled) return;
      if (sink.received === size) return complete();
      if (!paused) return;
      idle.stamp(); // the output moved: silence from the sender meanwhile is ours, not its
      if ((sink.backlog ?? 0) > RESUME_BYTES) return;
      paused = false;
      pipe.pauseReading?.(false);
    };
    const complete = (): void => {
      if (settled) return;
      idle.stop(); // every byte is in: what is left is ours (a full output), not the peer's
      if ((sink.backlog ?? 0) > 0) return; // onFlushed comes back here
      settled = true;
      let file: ReceivedFile;
      try {
        file = sink.finish();
      } catch (err) {
        settled = false;
        return fail(err);
      }
      if (!store) return acked(file);
      // The sender waits for the ack meanwhile (a record or a close from it changes nothing now).
      let answered = false;
      const refuse = (words: string): void => {
        if (answered) return;
        answered = true;
        pipe.send(encodeTransitRefusal(words));
        pipe.end();
      };
      storing?.(refuse);
      store(file).then(
        () => (answered ? reject(new PlainTransferError("E_CONNECTION", "refused while it was stored")) : acked(file)),
        (err) => {
          refuse(refusal(err));
          reject(err);
        },
      );
    };
    const acked = (file: ReceivedFile): void => {
      pipe.send(encodeTransitAck(file.digest));
      pipe.end();
      resolve(file);
    };
    pipe.start(
      {
        record: (plain) => {
          if (settled) return;
          idle.stamp();
          try {
            if (sink.received + plain.length > size) {
              throw new PlainTransferError("E_SIZE_MISMATCH", `the sender sent more than the ${size} bytes it offered`);
            }
            sink.write(plain);
          } catch (err) {
            return fail(err);
          }
          progressed(sink.received);
          if (sink.received === size) complete();
          else if (!paused && (sink.backlog ?? 0) >= HOLD_BACK_BYTES) {
            // The output takes less than the sender sends (a plain sender has no window):
            // TCP holds it back until the output has taken most of it.
            paused = true;
            pipe.pauseReading?.(true);
          }
        },
        drained: () => {},
        closed: (error) => {
          if (settled) return;
          fail(
            error instanceof CryptoError
              ? error
              : new PlainTransferError("E_CONNECTION", `the connection closed after ${sink.received} of ${size} bytes`),
          );
        },
      },
      true,
    );
    if (size === 0) complete();
    else idle.start();
  });
}
