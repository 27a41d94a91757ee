/**
 * Baseline for `bun run bench`: the plainest fast Bun pump, no framing, no hashing, no chat.
 * Sender: fs.readSync 1 MiB into a reused buffer, socket.write honouring short writes.
 * Receiver: fs.writeSync every data event into a new file, then releases the event's buffer
 * (ArrayBuffer.transfer(0)) so the next read reuses warm memory, as Parley's record reader does:
 * without that line each read faults its pages in again (receiver 1.40 -> 0.88 s/GiB measured).
 *
 *   bun bench/raw-pump.ts receive <out-file>     prints "PORT <n>", exits after the sender closes
 *   bun bench/raw-pump.ts send <port> <in-file>
 */

import { closeSync, openSync, readSync, writeSync } from "node:fs";

const [mode, a, b] = process.argv.slice(2);

if (mode === "receive" && a) {
  const fd = openSync(a, "wx");
  let bytes = 0;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_socket, chunk) {
        let done = 0;
        while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
        bytes += chunk.length;
        (chunk.buffer as ArrayBuffer).transfer(0);
      },
      close() {
        closeSync(fd);
        server.stop(true);
        process.stdout.write(`DONE ${bytes}\n`);
        process.exit(0);
      },
    },
  });
  process.stdout.write(`PORT ${server.port}\n`);
} else if (mode === "send" && a && b) {
  const fd = openSync(b, "r");
  const buf = new Uint8Array(1 << 20);
  let pending: Uint8Array | undefined;
  let eof = false;
  const pump = (socket: { write(d: Uint8Array): number; end(): void }): void => {
    for (;;) {
      if (!pending) {
        if (eof) return socket.end();
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) {
          eof = true;
          continue;
        }
        pending = buf.subarray(0, n);
      }
      const w = socket.write(pending);
      if (w < pending.length) {
        // Short write: the kernel copied `w` bytes; keep the rest for drain (buf is not reused until then).
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
      data() {},
      close: () => process.exit(0),
    },
  });
} else {
  process.stderr.write("usage: raw-pump.ts receive <out> | send <port> <in>\n");
  process.exit(1);
}
