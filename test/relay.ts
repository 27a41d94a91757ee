/**
 * Test helper: a TCP relay on 127.0.0.1 in front of `targetPort`, to watch, change or cut a
 * stream between two real peers. Built on node:net, whose sockets queue what cannot be
 * written yet (bytes before the upstream is connected, short writes), so nothing is lost.
 */

import { createServer, connect as netConnect, type Socket } from "node:net";

export interface Relay {
  readonly port: number;
  /** Cuts every relayed connection at once (both sides see a reset). */
  cut(): void;
  /** Holds what comes from now on `ms` each way (what was held before keeps its time, so order is kept). */
  setDelayMs(ms: number): void;
  stop(): void;
}

/**
 * @param toServer - sees (and may change) each chunk from the client before it goes on
 * @param toClient - the same for chunks from the server
 * @param options.delayMs - holds every chunk (and the end of each stream) this long, each way:
 *   a link with a round trip of twice that, on loopback
 */
export async function startRelay(
  targetPort: number,
  toServer: (chunk: Uint8Array) => Uint8Array = (c) => c,
  toClient: (chunk: Uint8Array) => Uint8Array = (c) => c,
  options: { delayMs?: number } = {},
): Promise<Relay> {
  let delayMs = options.delayMs ?? 0;
  // Timers of equal delay fire in the order they were set, so order is kept (a delay only grows
  // once a test sets it: a chunk held longer never overtakes one held shorter before it).
  const later = (f: () => void) => (delayMs > 0 ? setTimeout(f, delayMs) : f());
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const up = netConnect(targetPort, "127.0.0.1");
    for (const s of [client, up]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.on("data", (chunk: Buffer) => {
      const out = toServer(new Uint8Array(chunk));
      later(() => up.write(out));
    });
    up.on("data", (chunk: Buffer) => {
      const out = toClient(new Uint8Array(chunk));
      later(() => client.write(out));
    });
    client.on("end", () => later(() => up.end()));
    up.on("end", () => later(() => client.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    setDelayMs: (ms) => {
      if (ms < delayMs) throw new Error("the relay's delay may only grow: order would not be kept");
      delayMs = ms;
    },
    cut: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    stop: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
