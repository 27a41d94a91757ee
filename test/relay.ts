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
  /**
   * Holds what comes from now on `ms` each way. What was held before keeps its time, and nothing
   * overtakes what came before it: after a shorter delay a chunk waits for the ones ahead.
   */
  setDelayMs(ms: number): void;
  stop(): void;
}

/**
 * @param toServer - sees (and may change) each chunk from the client before it goes on
 * @param toClient - the same for chunks from the server
 * @param options.delayMs - holds every chunk (and the end of each stream) this long, each way:
 *   a link with a round trip of twice that, on loopback
 * @param options.endOnClose - a side closed without an end (a reset, as from a process killed
 *   with bytes unread) ends the other side too, after what was held before it; by default the
 *   other side stays open
 */
export async function startRelay(
  targetPort: number,
  toServer: (chunk: Uint8Array) => Uint8Array = (c) => c,
  toClient: (chunk: Uint8Array) => Uint8Array = (c) => c,
  options: { delayMs?: number; endOnClose?: boolean } = {},
): Promise<Relay> {
  let delayMs = options.delayMs ?? 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  /**
   * One direction's line: what is held goes out in the order it came, each at its time or once
   * all before it went, whichever is later (so a delay may shrink: order is still kept).
   */
  const delayLine = (): ((f: () => void) => void) => {
    const held: Array<{ at: number; f: () => void }> = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = (): void => {
      if (timer) timers.delete(timer);
      timer = undefined;
      while (held.length > 0 && (held[0] as { at: number }).at <= performance.now()) held.shift()?.f();
      const next = held[0];
      if (next) {
        timer = setTimeout(release, Math.max(0, next.at - performance.now()));
        timers.add(timer);
      }
    };
    return (f) => {
      if (delayMs <= 0 && held.length === 0) return f();
      held.push({ at: performance.now() + delayMs, f });
      if (!timer) release();
    };
  };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const up = netConnect(targetPort, "127.0.0.1");
    const toUp = delayLine();
    const toDown = delayLine();
    for (const s of [client, up]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.on("data", (chunk: Buffer) => {
      const out = toServer(new Uint8Array(chunk));
      toUp(() => up.write(out));
    });
    up.on("data", (chunk: Buffer) => {
      const out = toClient(new Uint8Array(chunk));
      toDown(() => client.write(out));
    });
    client.on("end", () => toUp(() => up.end()));
    up.on("end", () => toDown(() => client.end()));
    if (options.endOnClose) {
      client.on("close", () => toUp(() => up.end()));
      up.on("close", () => toDown(() => client.end()));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    cut: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    stop: () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
