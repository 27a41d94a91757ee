/**
 * The ceiling for `bun run bench`'s encrypted cases: the raw pump (raw-pump.ts) plus exactly the
 * per-byte work Parley cannot skip, done with Parley's own modules, and nothing else: no
 * protocol, no ACKs, no window, no chat, no session objects.
 *
 * Sender: fs.readSync 256 KiB into one reused, 64-byte aligned buffer (a 9-byte DATA-like header
 * in front of it, as FileSender lays out a frame), XXH3 of the bytes (checksum.ts, the default
 * digest), one sealed record (RecordSealer, the default AES-GCM backend) into one reused scratch,
 * socket.write honouring short writes.
 * Receiver: every socket read fed to a RecordOpener that releases it once opened (as Parley's
 * Connection does), the receive low-water mark set to the rest of the record begun
 * (ReceiveLowWater, as Parley's Connection does), each record opened, its file bytes hashed and
 * written with fs.writeSync at their position, cut as FileReceiver cuts them (write-pieces.ts). Both sides print their digest; the bench compares them.
 *
 *   bun bench/raw-sealed.ts receive <out-file>     prints "PORT <n>", then "DONE <bytes> <xxh3>"
 *   bun bench/raw-sealed.ts send <port> <in-file>  prints "SENT <bytes> <xxh3>"
 */

import { closeSync, openSync, readSync, writeSync, writevSync } from "node:fs";
import { RecordOpener, RecordSealer } from "../src/crypto/record.ts";
import { ReceiveLowWater } from "../src/net/receive-low-water.ts";
import { setReceiveLowWater } from "../src/net/tcp-options.ts";
import { DATA_HEADER_BYTES, writeDataHeader } from "../src/protocol/index.ts";
import { createDigest } from "../src/transfer/checksum.ts";
import { writeJoinedSync } from "../src/transfer/write-behind.ts";
import { WritePieces } from "../src/transfer/write-pieces.ts";

/** A fixed key (both ends): the ceiling measures the work, not the key exchange. */
const KEY = new Uint8Array(32).fill(7);
/** Bytes read and sealed per record: Parley's DATA frame payload. */
const CHUNK = 256 * 1024;
/** Parley's DATA header (length, type, transfer id) in front of each payload. */
const HEADER = DATA_HEADER_BYTES;
/** Payload offset in the read buffer (64-byte aligned, as FileSender's). */
const PAYLOAD_AT = 64;

const [mode, a, b] = process.argv.slice(2);

if (mode === "receive" && a) {
  const fd = openSync(a, "wx");
  const opener = new RecordOpener(KEY);
  opener.releaseReadChunks();
  const digest = createDigest("xxh3");
  let bytes = 0;
  let lowWater: ReceiveLowWater | undefined;
  const pieces = new WritePieces((head, body, at) => writeJoinedSync({ writeSync, writevSync }, fd, head, body, at));
  const data = (socket: { fd?: number }, chunk: Uint8Array): void => {
    lowWater ??= new ReceiveLowWater((n) => setReceiveLowWater(socket.fd ?? -1, n));
    opener.feed(chunk);
    for (let parts = opener.nextParts(); parts !== undefined; parts = opener.nextParts()) {
      const frame = parts[0] as Uint8Array;
      const payload = frame.subarray(HEADER);
      digest.update(payload);
      // Written as FileReceiver writes: at its position, no write starting on a 256 KiB boundary
      // with more than a page (whole aligned 256 KiB writes cost the page cache several times
      // more here), one write a record (write-pieces.ts: a record's last page goes with the next).
      pieces.take(payload, bytes, true);
      bytes += payload.length;
    }
    lowWater.expect(opener.bytesAwaited);
  };
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data: (socket, chunk) => data(socket as unknown as { fd?: number }, chunk),
      close() {
        server.stop(true);
        pieces.flush(bytes);
        closeSync(fd);
        if (!opener.atRecordBoundary) {
          process.stderr.write("raw-sealed: the stream ended inside a record\n");
          process.exit(1);
        }
        process.stdout.write(`DONE ${bytes} ${digest.hex()}\n`);
        process.exit(0);
      },
    },
  });
  process.stdout.write(`PORT ${server.port}\n`);
} else if (mode === "send" && a && b) {
  const fd = openSync(b, "r");
  const buffer = new Uint8Array(PAYLOAD_AT + CHUNK);
  const fullFrame = buffer.subarray(PAYLOAD_AT - HEADER);
  const fullPayload = buffer.subarray(PAYLOAD_AT);
  const sealer = new RecordSealer(KEY);
  const scratch = new Uint8Array(sealer.recordBytes(HEADER + CHUNK));
  const digest = createDigest("xxh3");
  let offset = 0;
  let pending: Uint8Array | undefined;
  let eof = false;
  const pump = (socket: { write(d: Uint8Array): number; end(): void }): void => {
    for (;;) {
      if (!pending) {
        if (eof) return void socket.end();
        const n = readSync(fd, buffer, PAYLOAD_AT, CHUNK, null);
        if (n === 0) {
          eof = true;
          continue;
        }
        const full = n === CHUNK;
        digest.update(full ? fullPayload : buffer.subarray(PAYLOAD_AT, PAYLOAD_AT + n));
        writeDataHeader(buffer, PAYLOAD_AT - HEADER, 1, n);
        offset += n;
        pending = sealer.seal(full ? fullFrame : buffer.subarray(PAYLOAD_AT - HEADER, PAYLOAD_AT + n), scratch);
      }
      const w = socket.write(pending);
      if (w < pending.length) {
        // Short write: the kernel took `w` bytes; the rest waits for drain (the scratch is not reused until then).
        pending = pending.subarray(Math.max(w, 0));
        return;
      }
      pending = undefined;
    }
  };
  await Bun.connect({
    hostname: "127.0.0.1",
    port: Number(a),
    socket: {
      open: (socket) => pump(socket),
      drain: (socket) => pump(socket),
      close: () => {
        process.stdout.write(`SENT ${offset} ${digest.hex()}\n`);
        process.exit(0);
      },
    },
  });
} else {
  process.stderr.write("usage: raw-sealed.ts receive <out> | send <port> <in>\n");
  process.exit(1);
}
