/**
 * Baseline for `bun run bench`: the plainest fast Bun pump, no framing, no hashing, no chat.
 * Sender: fs.readSync 1 MiB into a reused buffer, socket.write honouring short writes.
 * Receiver: fs.writeSync every data event into a new file, then releases the event's buffer
 * (ArrayBuffer.transfer(0)) so the next read reuses warm memory, as Parley's record reader does:
 * without that line each read faults its pages in again (receiver 1.40 -> 0.88 s/GiB measured).
 * With a transit relay's address and a token (bench/wormhole.ts), both ends dial the relay, say
 * the relay's handshake line ("please relay TOKEN for side SIDE"), wait for its "ok" and then
 * pump the same way: what the relay's hop costs any byte stream, beside Parley's.
 *
 *   bun bench/raw-pump.ts receive <out-file>                  prints "PORT <n>", exits after the sender closes
 *   bun bench/raw-pump.ts send <port> <in-file>
 *   bun bench/raw-pump.ts receive <out-file> <host:port> <token>   through the relay: prints "READY" once
 *   bun bench/raw-pump.ts send <host:port> <in-file> <token>       its line is out, then as above
 */

import { closeSync, openSync, readSync, writeSync } from "node:fs";

const [mode, a, b, c] = process.argv.slice(2);

/** The relay's handshake line for `token` (64 word characters) and one side (16 hex digits). */
function relayLine(token: string, side: string): Uint8Array {
  return new TextEncoder().encode(`please relay ${token} for side ${side}\n`);
}
const OK = "ok\n";

/** "host:port" as Bun.connect's options. */
function address(text: string): { hostname: string; port: number } {
  const at = text.lastIndexOf(":");
  return { hostname: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

if (mode === "receive" && a) {
  const fd = openSync(a, "wx");
  let bytes = 0;
  /** Through the relay: handshake bytes still to skip before the data ("ok\n"). */
  let skip = b && c ? OK.length : 0;
  const done = (): void => {
    closeSync(fd);
    process.stdout.write(`DONE ${bytes}\n`);
    process.exit(0);
  };
  const data = (chunk: Uint8Array): void => {
    let from = 0;
    if (skip > 0) {
      from = Math.min(skip, chunk.length);
      skip -= from;
    }
    bytes += chunk.length - from;
    while (from < chunk.length) from += writeSync(fd, chunk, from, chunk.length - from);
    (chunk.buffer as ArrayBuffer).transfer(0);
  };
  if (b && c) {
    await Bun.connect({
      ...address(b),
      socket: {
        open(socket) {
          socket.write(relayLine(c, "0000000000000002"));
          process.stdout.write("READY\n");
        },
        data: (_socket, chunk) => data(chunk),
        close: done,
      },
    });
  } else {
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data: (_socket, chunk) => data(chunk),
        close() {
          server.stop(true);
          done();
        },
      },
    });
    process.stdout.write(`PORT ${server.port}\n`);
  }
} else if (mode === "send" && a && b) {
  const fd = openSync(b, "r");
  const buf = new Uint8Array(1 << 20);
  let pending: Uint8Array | undefined;
  let eof = false;
  /** Through the relay, nothing goes before its "ok\n". */
  let waiting = c ? OK.length : 0;
  const pump = (socket: { write(d: Uint8Array): number; end(): void }): void => {
    if (waiting > 0) return;
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
    ...(c ? address(a) : { hostname: "127.0.0.1", port: Number(a) }),
    socket: {
      open(socket) {
        if (c) socket.write(relayLine(c, "0000000000000001"));
        else pump(socket);
      },
      drain: (socket) => pump(socket),
      data(socket, chunk) {
        if (waiting === 0) return;
        waiting = Math.max(0, waiting - chunk.length);
        if (waiting === 0) pump(socket);
      },
      close: () => process.exit(0),
    },
  });
} else {
  process.stderr.write(
    "usage: raw-pump.ts receive <out> [<relay host:port> <token>] | send <port> <in> | send <relay host:port> <in> <token>\n",
  );
  process.exit(1);
}
