/**
 * The ceiling for `bun run bench`'s encrypted cases: the raw pump (raw-pump.ts) plus exactly the
 * per-byte work Parley cannot skip, done with Parley's own modules, and nothing else: no
 * protocol, no ACKs, no window, no chat, no session objects (bench/lib/sealed-ends.ts: the
 * sender's reads, XXH3 and records; the receiver's opening, XXH3 and writes). Both sides print
 * their digest; the bench compares them. Both ways on one connection: raw-sealed-both-ways.ts.
 *
 *   bun bench/raw-sealed.ts receive <out-file>     prints "PORT <n>", then "DONE <bytes> <xxh3>"
 *   bun bench/raw-sealed.ts send <port> <in-file>  prints "SENT <bytes> <xxh3>"
 */

import { SealedFileReceiver, SealedFileSender, type SealedSocket } from "./lib/sealed-ends.ts";

const [mode, a, b] = process.argv.slice(2);

if (mode === "receive" && a) {
  const receiver = new SealedFileReceiver(a);
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data: (socket, chunk) => receiver.data(socket as unknown as SealedSocket, chunk),
      close() {
        server.stop(true);
        let got: string;
        try {
          got = receiver.finish();
        } catch (err) {
          process.stderr.write(`raw-sealed: ${(err as Error).message}\n`);
          process.exit(1);
        }
        process.stdout.write(`DONE ${got}\n`);
        process.exit(0);
      },
    },
  });
  process.stdout.write(`PORT ${server.port}\n`);
} else if (mode === "send" && a && b) {
  const sender = new SealedFileSender(b);
  await Bun.connect({
    hostname: "127.0.0.1",
    port: Number(a),
    socket: {
      open: (socket) => sender.pump(socket),
      drain: (socket) => sender.pump(socket),
      close: () => {
        process.stdout.write(`SENT ${sender.totals}\n`);
        process.exit(0);
      },
    },
  });
} else {
  process.stderr.write("usage: raw-sealed.ts receive <out> | send <port> <in>\n");
  process.exit(1);
}
