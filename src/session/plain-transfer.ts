/**
 * The one transfer with a plain wormhole peer, over the transit records (transit-pipe.ts):
 *
 *   receiving   records -> sink, joined into runs of up to 256 KiB (one write and one hash
 *               update per run, not per 16 KiB record), until the offered size; then the sink
 *               names the file and our SHA-256 goes back as the final record
 *               {"ack": "ok", "sha256": HEX}; a run past the offered size is refused whole;
 *               a sink holding back HOLD_BACK_BYTES (a full output) pauses the reading: a plain
 *               sender has no window, TCP holds it back
 *   sending     the file in 64 KiB records, four to a read and a write (the receiver hashes
 *               them); then its ack, whose SHA-256 must equal ours
 *
 * A bad record (does not open, out of order) ends the connection and the transfer
 * (E_AUTH_FAILED / E_BAD_NONCE); the sink is aborted, so nothing is left under a final name.
 * Plain peers cannot resume: a broken transfer removes its `.part`. The files are the caller's:
 * bytes arrive through a PlainSink and leave through a PieceReader (transfer/piece-reader.ts).
 */

import { CryptoError } from "../crypto/index.ts";
import { encodeTransitAck, ProtocolError, parseTransitAck } from "../protocol/index.ts";
import { createDigest, type PieceReader, type ReceivedFile, TransferError } from "../transfer/index.ts";
import { type Clock, systemClock } from "./clock.ts";
import { QuietWatch } from "./quiet-watch.ts";
import type { TransitPipe } from "./transit-pipe.ts";

/** File bytes per record we send (the Python receiver copies its buffer per read: keep records modest). */
export const PLAIN_RECORD_BYTES = 64 * 1024;
/**
 * File bytes read, hashed, sealed (as records of PLAIN_RECORD_BYTES) and written at a time: one
 * pread, one hash update and one socket write per 256 KiB instead of per record.
 */
const SEND_PIECE_BYTES = 4 * PLAIN_RECORD_BYTES;
/** Said when the file was written over in place while it was sent (PieceReader.rewritten). */
const REWRITTEN =
  "the file was changed while it was sent: what was read mixes its old and new bytes, so its end was not sent (send it again once nothing writes to it)";
/** A send loop gives the event loop a turn this often (chat, signals, timers). */
const YIELD_EVERY_MS = 10;
/**
 * Bytes a receiving sink may hold back (a full output: StreamReceiver's backlog) before the
 * transit connection stops being read; reading resumes once at most RESUME_BYTES are held. A
 * plain sender has no window: unread, its whole file was taken into memory.
 */
const HOLD_BACK_BYTES = 1024 * 1024;
const RESUME_BYTES = HOLD_BACK_BYTES / 2;
/**
 * A sender that sends nothing for this long, before the last byte, has gone; so has a receiver
 * that takes nothing for this long, or does not ack a file this long after its last byte.
 */
export const PLAIN_IDLE_MS = 120_000;

/** How long a receiver may wait to ack, and to take bytes, before the sender gives up. */
export interface PlainSendLimits {
  /** No byte taken for this long, before the last: the receiver has gone (PLAIN_IDLE_MS). */
  readonly idleMs?: number;
  /**
   * After the last byte was taken, this long for the ack (PLAIN_IDLE_MS): `wormhole receive`
   * acks a file at once, a folder's zip only once it has unpacked it (plainAckWaitMs).
   */
  readonly ackMs?: number;
  readonly clock?: Clock;
}

/** Unpacking speed assumed for the ack of a folder's zip: far below python3 zipfile's (225 MiB/s here). */
const UNPACK_BYTES_PER_SECOND = 8 * 1024 * 1024;

/**
 * Time assumed per entry of that unpack (a create and a chmod each, cmd_receive.py
 * `_extract_file`): 72 us here on ext4 (60,000 empty files in 4.3 s), far more on a slow disk
 * or under a virus scanner; a folder of 200,000 entries and few bytes is as slow to unpack as
 * gigabytes.
 */
const UNPACK_MS_PER_ENTRY = 5;

/**
 * How long `wormhole receive` may take to ack a zip of `unpackedBytes` in `entries` (files and
 * folders, the offer's numfiles): it unpacks it first.
 */
export function plainAckWaitMs(unpackedBytes: number, entries: number): number {
  return PLAIN_IDLE_MS + Math.ceil((unpackedBytes / UNPACK_BYTES_PER_SECOND) * 1000) + entries * UNPACK_MS_PER_ENTRY;
}

export type PlainTransferErrorCode =
  | "E_CONNECTION"
  | "E_AUTH_FAILED"
  | "E_BAD_NONCE"
  | "E_BAD_CHECKSUM"
  | "E_SIZE_MISMATCH"
  | "E_PEER_REFUSED"
  | "E_PEER_PROTOCOL"
  | "E_READ"
  | "E_WRITE"
  | "E_NO_SPACE";

export class PlainTransferError extends Error {
  override name = "PlainTransferError";
  constructor(
    readonly code: PlainTransferErrorCode | string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

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

function failureOf(err: unknown): PlainTransferError {
  if (err instanceof PlainTransferError) return err;
  if (err instanceof CryptoError) return new PlainTransferError(err.code, err.message, { cause: err });
  if (err instanceof TransferError) return new PlainTransferError(err.code, err.message, { cause: err });
  throw err;
}

/**
 * Receives `size` bytes into `sink` and sends the ack.
 * @param progressed - bytes so far, after each record
 * @throws PlainTransferError
 */
export function receiveOverTransit(
  pipe: Pick<TransitPipe, "start" | "send" | "end" | "destroy"> & Partial<Pick<TransitPipe, "pauseReading">>,
  sink: PlainSink,
  size: number,
  progressed: (bytes: number) => void,
  idleMs = PLAIN_IDLE_MS,
  clock: Clock = systemClock,
): Promise<ReceivedFile> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      idle.stop();
      sink.abort(false);
      pipe.destroy();
      reject(failureOf(err));
    };
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

export interface PlainSent {
  readonly bytes: number;
  readonly digest: string;
  /**
   * The receiver's ack carried a SHA-256 and it was ours. An ack of just `"ok"` (no SHA-256:
   * wormhole clients take one, as from older receivers) confirms the bytes, not their content.
   */
  readonly verified: boolean;
}

/**
 * Sends `size` bytes (as offered) read through the reader `open` gives, and checks the
 * receiver's ack. The reader is opened once the pipe has started and closed at the end.
 * @throws PlainTransferError E_BAD_CHECKSUM (the ack's SHA-256 is not ours), E_PEER_REFUSED (it
 *   said something else than ok), E_CONNECTION (also: nothing taken for `limits.idleMs`, no ack
 *   `limits.ackMs` after the last byte), E_READ
 */
export function sendOverTransit(
  pipe: Pick<TransitPipe, "start" | "send" | "end" | "destroy" | "queuedBytes">,
  open: () => PieceReader,
  size: number,
  progressed: (bytes: number) => void,
  limits: PlainSendLimits = {},
): Promise<PlainSent> {
  const { idleMs = PLAIN_IDLE_MS, ackMs = PLAIN_IDLE_MS, clock = systemClock } = limits;
  return new Promise((resolve, reject) => {
    let reader: PieceReader | undefined;
    let sent = 0;
    let settled = false;
    let digest = "";
    const hash = createDigest("sha256");
    const buffer = new Uint8Array(SEND_PIECE_BYTES);
    const closeFile = (): void => {
      reader?.close();
      reader = undefined;
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      quiet.stop();
      closeFile();
      pipe.destroy();
      reject(failureOf(err));
    };
    // A receiver that stops reading (its window stays shut) or never acks must not hold us for
    // ever: the socket taking bytes stamps the watch. Taking part of what waits in our queue
    // counts too: a drain comes only once all of it is taken, and a 256 KiB piece takes 120 s at 2 KB/s.
    const waitingForAck = (): boolean => sent === size && pipe.queuedBytes === 0;
    /** Our queue's bytes at the stamp: fewer later means the socket took some meanwhile. */
    let queuedAtStamp = 0;
    const stamp = (): void => {
      quiet.stamp();
      queuedAtStamp = pipe.queuedBytes;
    };
    const quiet = new QuietWatch(
      clock,
      () => (waitingForAck() ? ackMs : idleMs),
      (limit) => {
        const seconds = Math.round(limit / 1000);
        // What the socket took: `sent` counts the piece still in our queue too (up to 256 KiB).
        const taken = sent - pipe.queuedBytes;
        fail(
          new PlainTransferError(
            "E_CONNECTION",
            waitingForAck()
              ? `the receiver did not acknowledge the file within ${seconds} s of its last byte`
              : `the receiver took nothing for ${seconds} s, after ${taken} of ${size} bytes`,
          ),
        );
      },
      () => {
        if (pipe.queuedBytes < queuedAtStamp) stamp();
      },
    );
    const pump = (): void => {
      const started = performance.now();
      try {
        // Only while the socket has taken everything: the kernel's send buffer is the queue,
        // and the pipe reuses one buffer for its records.
        while (!settled && sent < size && pipe.queuedBytes === 0) {
          const n = (reader as PieceReader).read(buffer.subarray(0, Math.min(buffer.length, size - sent)), sent);
          if (n === 0) throw new PlainTransferError("E_READ", `the file shrank while it was sent (${sent} of ${size})`);
          // Its last piece waits for this: a file written over in place (`cp new old`) would be stored as neither version.
          if (sent + n === size && (reader as PieceReader).rewritten?.(size))
            throw new PlainTransferError("E_READ", REWRITTEN);
          const chunk = buffer.subarray(0, n);
          hash.update(chunk);
          pipe.send(chunk, PLAIN_RECORD_BYTES);
          // Sent only once the queue was empty: the socket has taken everything before this piece.
          stamp();
          sent += n;
          if (sent === size) {
            closeFile();
            digest = hash.hex();
          }
          progressed(sent);
          if (performance.now() - started > YIELD_EVERY_MS) {
            setImmediate(pump);
            return;
          }
        }
      } catch (err) {
        return fail(err);
      }
    };
    pipe.start({
      record: (plain) => {
        if (settled) return;
        if (sent < size) return fail(new PlainTransferError("E_PEER_PROTOCOL", "the receiver answered before the end"));
        let ack: ReturnType<typeof parseTransitAck>;
        try {
          ack = parseTransitAck(plain);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          return fail(new PlainTransferError("E_PEER_PROTOCOL", err.message));
        }
        if (!ack.ok) return fail(new PlainTransferError("E_PEER_REFUSED", `the receiver said: ${ack.said}`));
        if (ack.sha256 !== undefined && ack.sha256 !== digest) {
          return fail(new PlainTransferError("E_BAD_CHECKSUM", "the receiver's SHA-256 is not the file's"));
        }
        settled = true;
        quiet.stop();
        pipe.end();
        resolve({ bytes: sent, digest, verified: ack.sha256 !== undefined });
      },
      drained: () => {
        stamp();
        if (!settled && sent < size) pump();
      },
      closed: (error) => {
        if (settled) return;
        fail(
          error instanceof CryptoError
            ? error
            : new PlainTransferError(
                "E_CONNECTION",
                `the connection closed after ${sent} of ${size} bytes, before the receiver's ack`,
              ),
        );
      },
    });
    try {
      reader = open();
    } catch (err) {
      return fail(err);
    }
    if (size === 0) {
      closeFile();
      digest = hash.hex();
    }
    quiet.start(Math.min(idleMs, ackMs));
    pump();
  });
}
