/**
 * A link with a long round trip, on loopback, for `bun run bench`: a TCP relay on 127.0.0.1
 * in front of <target-port> that holds every chunk <delay-ms> before passing it on, each way
 * (so the round trip grows by twice that). node:net queues what cannot be written yet.
 *
 * Each direction is one queue in arrival order with one timer: a chunk leaves when
 * performance.now() has passed its arrival + delay. A plain setTimeout(delay) per chunk is not
 * enough: timers count from the event loop's time at the start of its turn, so a chunk read late
 * in a busy turn left up to that turn's length early (round trips of 28 ms on a 40 ms link
 * under load, which the send window then took for the path's own).
 *
 *   bun bench/delay-relay.ts <target-port> <delay-ms>     prints "RELAY <port>", runs until killed
 */

import { connect, createServer, type Socket } from "node:net";

const [target, delay] = process.argv.slice(2).map(Number);
if (!target || delay === undefined || Number.isNaN(delay)) {
  process.stderr.write("usage: delay-relay.ts <target-port> <delay-ms>\n");
  process.exit(2);
}
const holdMs: number = delay;

function forward(from: Socket, to: Socket): void {
  /** Chunks in arrival order with the time each may leave; null: the end of the stream. */
  const queue: Array<{ readonly due: number; readonly chunk: Buffer | null }> = [];
  let armed = false;
  const release = (): void => {
    armed = false;
    const now = performance.now();
    while (queue.length > 0 && (queue[0] as { due: number }).due <= now) {
      const { chunk } = queue.shift() as { chunk: Buffer | null };
      if (chunk === null) to.end();
      else to.write(chunk);
    }
    const head = queue[0];
    if (head) {
      armed = true;
      setTimeout(release, Math.max(1, Math.ceil(head.due - now)));
    }
  };
  const hold = (chunk: Buffer | null): void => {
    queue.push({ due: performance.now() + holdMs, chunk });
    if (armed) return;
    armed = true;
    setTimeout(release, holdMs);
  };
  from.on("data", (chunk: Buffer) => hold(Buffer.from(chunk)));
  from.on("end", () => hold(null));
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
