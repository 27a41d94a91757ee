/**
 * The two ends of the bench's encrypted ceiling (bench/raw-sealed.ts one way,
 * bench/raw-sealed-both-ways.ts both ways on one connection): exactly the per-byte work Parley
 * cannot skip, done with Parley's own modules, and nothing else (no protocol, no ACKs, no
 * window, no chat, no session objects).
 *
 * SealedFileSender: fs.readSync 256 KiB into one reused, 64-byte aligned buffer (a 9-byte
 * DATA-like header in front of it, as FileSender lays out a frame), XXH3 of the bytes
 * (checksum.ts, the default digest), one sealed record (RecordSealer, the default AES-GCM
 * backend) into one reused scratch, socket.write honouring short writes.
 * SealedFileReceiver: every socket read fed to a RecordOpener that releases it once opened (as
 * Parley's Connection does), the receive low-water mark set to the rest of the record begun
 * (ReceiveLowWater, as Parley's Connection does), each record opened, its file bytes hashed and
 * written with fs.writeSync at their position, cut as FileReceiver cuts them (write-pieces.ts).
 *
 * Both ways the stream cannot end with a FIN (each side still reads after its file is out), so
 * there a sender ends with one record of no file bytes (a DATA header only) and the receiver
 * takes it as the end.
 */

import { closeSync, openSync, readSync, writeSync, writevSync } from "node:fs";
import { RecordOpener, RecordSealer } from "../../src/crypto/record.ts";
import { ReceiveLowWater } from "../../src/net/receive-low-water.ts";
import { setReceiveLowWater } from "../../src/net/tcp-options.ts";
import { DATA_HEADER_BYTES, writeDataHeader } from "../../src/protocol/index.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { writeJoinedSync } from "../../src/transfer/write-behind.ts";
import { WritePieces } from "../../src/transfer/write-pieces.ts";

/** A fixed key (both ends; both ways each direction has its own counter): the ceiling measures the work, not the key exchange. */
const KEY = new Uint8Array(32).fill(7);
/** Bytes read and sealed per record: Parley's DATA frame payload. */
const CHUNK = 256 * 1024;
/** Parley's DATA header (length, type, transfer id) in front of each payload. */
const HEADER = DATA_HEADER_BYTES;
/** Payload offset in the read buffer (64-byte aligned, as FileSender's). */
const PAYLOAD_AT = 64;

/** What the ends need of a Bun socket. */
export interface SealedSocket {
  readonly fd?: number;
  write(data: Uint8Array): number;
  end(): void;
}

/** Totals a side prints: "<bytes> <xxh3>". */
const totals = (bytes: number, hex: string) => `${bytes} ${hex}`;

export class SealedFileSender {
  /** File bytes sealed so far. */
  offset = 0;
  private readonly fd: number;
  private readonly buffer = new Uint8Array(PAYLOAD_AT + CHUNK);
  private readonly fullFrame = this.buffer.subarray(PAYLOAD_AT - HEADER);
  private readonly fullPayload = this.buffer.subarray(PAYLOAD_AT);
  private readonly sealer = new RecordSealer(KEY);
  private readonly scratch = new Uint8Array(this.sealer.recordBytes(HEADER + CHUNK));
  private readonly digest = createDigest("xxh3");
  private pending: Uint8Array | undefined;
  private eof = false;

  /** @param endRecord - end with a record of no file bytes (both ways) instead of the socket's end */
  constructor(
    path: string,
    private readonly endRecord = false,
  ) {
    this.fd = openSync(path, "r");
  }

  /** True once every record is in the kernel. */
  get done(): boolean {
    return this.eof && this.pending === undefined;
  }

  /** "<bytes> <xxh3>" of what was sent. */
  get totals(): string {
    return totals(this.offset, this.digest.hex());
  }

  /** Writes records until the kernel takes no more (call again on drain) or the file is out. */
  pump(socket: SealedSocket): void {
    for (;;) {
      this.pending ??= this.nextRecord();
      if (!this.pending) {
        if (!this.endRecord) socket.end();
        return;
      }
      const w = socket.write(this.pending);
      if (w < this.pending.length) {
        // Short write: the kernel took `w` bytes; the rest waits for drain (the scratch is not reused until then).
        this.pending = this.pending.subarray(Math.max(w, 0));
        return;
      }
      this.pending = undefined;
    }
  }

  /** The next record: the file's next chunk, at its end the end record (both ways), then undefined. */
  private nextRecord(): Uint8Array | undefined {
    if (this.eof) return undefined;
    const buffer = this.buffer;
    const n = readSync(this.fd, buffer, PAYLOAD_AT, CHUNK, null);
    const full = n === CHUNK;
    if (n === 0) {
      this.eof = true;
      closeSync(this.fd);
      if (!this.endRecord) return undefined;
    } else {
      this.digest.update(full ? this.fullPayload : buffer.subarray(PAYLOAD_AT, PAYLOAD_AT + n));
      this.offset += n;
    }
    writeDataHeader(buffer, PAYLOAD_AT - HEADER, 1, n);
    return this.sealer.seal(full ? this.fullFrame : buffer.subarray(PAYLOAD_AT - HEADER, PAYLOAD_AT + n), this.scratch);
  }
}

export class SealedFileReceiver {
  /** File bytes written so far. */
  bytes = 0;
  /** Both ways: the peer's end record came. */
  peerEnded = false;
  private readonly fd: number;
  private readonly opener = new RecordOpener(KEY);
  private readonly digest = createDigest("xxh3");
  private lowWater: ReceiveLowWater | undefined;
  private readonly pieces: WritePieces;

  constructor(path: string) {
    const fd = openSync(path, "wx");
    this.fd = fd;
    this.opener.releaseReadChunks();
    this.pieces = new WritePieces((head, body, at) => writeJoinedSync({ writeSync, writevSync }, fd, head, body, at));
  }

  /** A socket read: opens, hashes and writes every whole record in it. */
  data(socket: SealedSocket, chunk: Uint8Array): void {
    this.lowWater ??= new ReceiveLowWater((n) => setReceiveLowWater(socket.fd ?? -1, n));
    const opener = this.opener;
    opener.feed(chunk);
    for (let parts = opener.nextParts(); parts !== undefined; parts = opener.nextParts()) {
      const payload = (parts[0] as Uint8Array).subarray(HEADER);
      if (payload.length === 0) {
        this.peerEnded = true;
        continue;
      }
      this.digest.update(payload);
      // Written as FileReceiver writes: at its position, no write starting on a 256 KiB boundary
      // with more than a page (whole aligned 256 KiB writes cost the page cache several times
      // more here), one write a record (write-pieces.ts: a record's last page goes with the next).
      this.pieces.take(payload, this.bytes, true);
      this.bytes += payload.length;
    }
    this.lowWater.expect(opener.bytesAwaited);
  }

  /**
   * Writes what is held and closes the file. @returns "<bytes> <xxh3>" of what was received
   * @throws Error when the stream ended inside a record
   */
  finish(): string {
    this.pieces.flush(this.bytes);
    closeSync(this.fd);
    if (!this.opener.atRecordBoundary) throw new Error("the stream ended inside a record");
    return totals(this.bytes, this.digest.hex());
  }
}
