/**
 * An echo probe: what a chat line gets on a TCP connection of its own, for the long-link
 * bench's baseline beside socat's stream (bench/lib/extras.ts). An echo server on 127.0.0.1
 * sends back every byte; a client, dialing wherever the caller says (the delay relay's second
 * port, so both ride the same hop), writes a short line every `everyMs` and times each line's
 * return. Both ends live in the bench's own process, which only waits on its children meanwhile.
 *
 *   line: "<seq> <sent-at ms>\n"   (ASCII; the sent-at is performance.now() in this process)
 */

import type { Socket, TCPSocketListener } from "bun";

/** The echo server: listens on 127.0.0.1 (a free port) and sends every byte back. */
export function startEchoServer(): TCPSocketListener<undefined> {
  return Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, data) {
        // Lines are a few bytes and come every few ms: the kernel takes them whole.
        socket.write(data);
      },
    },
  });
}

/** A running probe: `stop` ends it and gives every round trip so far, ms, in the order sent. */
export interface EchoProbe {
  /** The round trips so far, ms, in the order sent (the probe goes on). */
  peek(): number[];
  stop(): number[];
  /** When each line was written (performance.now() in this process, ms), in the order sent. */
  sentAt(): number[];
}

/**
 * Dials 127.0.0.1:`port` and sends a line every `everyMs` until stopped.
 * @returns once connected
 */
export async function startEchoProbe(port: number, everyMs: number): Promise<EchoProbe> {
  const rtts: number[] = [];
  const sentAt: number[] = [];
  let pending = "";
  const socket: Socket<undefined> = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, data) {
        pending += data.toString();
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        const now = performance.now();
        for (const line of lines) rtts.push(now - Number(line.split(" ")[1]));
      },
    },
  });
  socket.setNoDelay(true);
  let seq = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    sentAt.push(now);
    socket.write(`${seq++} ${now}\n`);
  }, everyMs);
  return {
    peek: () => [...rtts],
    sentAt: () => [...sentAt],
    stop() {
      clearInterval(timer);
      socket.end();
      return rtts;
    },
  };
}
