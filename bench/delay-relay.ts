/**
 * A link with a long round trip, on loopback, for `bun run bench`: a TCP relay on 127.0.0.1
 * in front of <target-port> that holds every chunk <delay-ms> before passing it on, each way
 * (so the round trip grows by twice that). node:net queues what cannot be written yet, and
 * timers of equal delay fire in order, so nothing is lost or reordered.
 *
 *   bun bench/delay-relay.ts <target-port> <delay-ms>     prints "RELAY <port>", runs until killed
 */

import { connect, createServer, type Socket } from "node:net";

const [target, delay] = process.argv.slice(2).map(Number);
if (!target || delay === undefined || Number.isNaN(delay)) {
  process.stderr.write("usage: delay-relay.ts <target-port> <delay-ms>\n");
  process.exit(2);
}

function forward(from: Socket, to: Socket): void {
  from.on("data", (chunk: Buffer) => {
    const copy = Buffer.from(chunk);
    setTimeout(() => to.write(copy), delay);
  });
  from.on("end", () => setTimeout(() => to.end(), delay));
  from.on("error", () => to.destroy());
}

const server = createServer((client) => {
  const upstream = connect(target, "127.0.0.1");
  forward(client, upstream);
  forward(upstream, client);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`RELAY ${typeof address === "object" && address ? address.port : 0}\n`);
});
