/**
 * The one transfer with a plain wormhole peer, over the transit records (transit-pipe.ts): its
 * errors and limits, and sending (receiving is plain-receive.ts's):
 *
 *   sending     the file in 64 KiB records, four to a read and a write (the receiver hashes
 *               them), an empty file as one empty record; then its ack, whose SHA-256 must
 *               equal ours
 *
 * A bad record (does not open, out of order) ends the connection and the transfer
 * (E_AUTH_FAILED / E_BAD_NONCE). Plain peers cannot resume. The files are the caller's: bytes
 * leave through a PieceReader (transfer/piece-reader.ts).
 */

import { CryptoError } from "../crypto/index.ts";
import { ProtocolError, parseTransitAck } from "../protocol/index.ts";
import { createDigest, type PieceReader, TransferError } from "../transfer/index.ts";
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
import { QuietWatch } from "./quiet-watch.ts";
import { chunkBytesForRate, RateLimiter } from "./rate-limiter.ts";
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
  /** Most bytes a second sent (`--limit-rate`, as to a Parley peer: rate-limiter.ts); unlimited when absent. */
  readonly bytesPerSecond?: number;
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

/** A failure of the transfer as a PlainTransferError (CryptoError, TransferError); anything else is rethrown. */
export function plainFailureOf(err: unknown): PlainTransferError {
  if (err instanceof PlainTransferError) return err;
  if (err instanceof CryptoError) return new PlainTransferError(err.code, err.message, { cause: err });
  if (err instanceof TransferError) return new PlainTransferError(err.code, err.message, { cause: err });
  throw err;
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
  const { idleMs = PLAIN_IDLE_MS, ackMs = PLAIN_IDLE_MS, clock = systemClock, bytesPerSecond } = limits;
  // Under a rate, pieces of about 1/20 s of it: the limiter's burst is one piece.
  const pieceBytes = chunkBytesForRate(bytesPerSecond, SEND_PIECE_BYTES);
  const limiter = bytesPerSecond === undefined ? undefined : new RateLimiter(bytesPerSecond, pieceBytes, clock.now());
  return new Promise((resolve, reject) => {
    let rateTimer: TimerHandle | undefined;
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
      clock.clearTimeout(rateTimer);
      closeFile();
      pipe.destroy();
      reject(plainFailureOf(err));
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
          const wait = limiter?.delayMs(clock.now()) ?? 0;
          if (wait > 0) {
            rateTimer ??= clock.setTimeout(() => {
              rateTimer = undefined;
              pump();
            }, wait);
            return;
          }
          const n = (reader as PieceReader).read(buffer.subarray(0, Math.min(pieceBytes, size - sent)), sent);
          if (n === 0) throw new PlainTransferError("E_READ", `the file shrank while it was sent (${sent} of ${size})`);
          // Its last piece waits for this: a file written over in place (`cp new old`) would be stored as neither version.
          if (sent + n === size && (reader as PieceReader).rewritten?.(size))
            throw new PlainTransferError("E_READ", REWRITTEN);
          const chunk = buffer.subarray(0, n);
          hash.update(chunk);
          pipe.send(chunk, PLAIN_RECORD_BYTES);
          limiter?.spend(n, clock.now());
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
      // One empty record: wormhole-william 1.0.6 (Debian 12's; fixed after it upstream, its
      // PR 79) reads a record before it counts the bytes, so with none it never acks an empty
      // file. `wormhole receive` and Parley ack 0 bytes at once and leave this record unread.
      pipe.send(new Uint8Array(0));
    }
    quiet.start(Math.min(idleMs, ackMs));
    pump();
  });
}
