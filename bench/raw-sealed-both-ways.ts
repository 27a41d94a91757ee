/**
 * The encrypted ceiling both ways at once (the bench's raw-sealed-both-ways case): one process a
 * side, each sending its own file and receiving the peer's on ONE connection at the same time,
 * with raw-sealed.ts's per-byte work each way (bench/lib/sealed-ends.ts) and nothing else: no
 * ACKs, no window, no chat. A side's records go whenever the kernel takes them; the peer's are
 * opened and written as they come, on the same event loop. Each file ends with a record of no
 * file bytes; a side is done when its own file is out and the peer's end record came.
 *
 *   bun bench/raw-sealed-both-ways.ts listen <in-file> <out-file>          prints "PORT <n>"
 *   bun bench/raw-sealed-both-ways.ts connect <port> <in-file> <out-file>
 * then each prints "DONE SENT <bytes> <xxh3> GOT <bytes> <xxh3>" and exits.
 */

import { SealedFileReceiver, SealedFileSender, type SealedSocket } from "./lib/sealed-ends.ts";

const [mode, ...args] = process.argv.slice(2);
const [port, input, output] = mode === "connect" ? args : [undefined, ...args];

if ((mode !== "listen" && mode !== "connect") || !input || !output) {
  process.stderr.write("usage: raw-sealed-both-ways.ts listen <in> <out> | connect <port> <in> <out>\n");
  process.exit(1);
}
const sender = new SealedFileSender(input, true);
const receiver = new SealedFileReceiver(output);

/** Once our file is out and the peer's end record came: totals, and exit (the kernel still sends what it holds). */
function finishIfDone(): void {
  if (!sender.done || !receiver.peerEnded) return;
  process.stdout.write(`DONE SENT ${sender.totals} GOT ${receiver.finish()}\n`);
  process.exit(0);
}

const handlers = {
  open: (socket: SealedSocket) => sender.pump(socket),
  drain: (socket: SealedSocket) => {
    sender.pump(socket);
    finishIfDone();
  },
  data: (socket: SealedSocket, chunk: Uint8Array) => {
    receiver.data(socket, chunk);
    finishIfDone();
  },
  close: () => {
    finishIfDone(); // the peer exits once it has our end record: a FIN after everything
    process.stderr.write("raw-sealed-both-ways: the connection closed before both files were through\n");
    process.exit(1);
  },
};

if (mode === "listen") {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: handlers });
  process.stdout.write(`PORT ${server.port}\n`);
} else {
  await Bun.connect({ hostname: "127.0.0.1", port: Number(port), socket: handlers });
}
