/**
 * A WebSocket server on 127.0.0.1 (its port the OS's choice) that plays a mailbox server the way
 * a test scripts it: the tests of hostile, broken and flapping servers. Whoever starts one stops
 * it (`server.stop(true)`).
 */

import type { Server, ServerWebSocket, WebSocketHandler } from "bun";

export function fakeMailboxServer(websocket: WebSocketHandler<undefined>): { server: Server<undefined>; url: string } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("not a WebSocket", { status: 400 })),
    websocket,
  });
  return { server, url: `ws://127.0.0.1:${server.port}/v1` };
}

/** How a mailboxProxy's connection after the first behaves: passes everything on, or says only the server's welcome. */
export type LaterConnections = "forward" | "welcome only";

/**
 * A proxy on 127.0.0.1 in front of a real mailbox server (`upstream`, ws://.../v1) whose first
 * connection dies silently: once the server sent it a message that `mutesAfter` picks (given
 * the side the client bound), nothing more passes either way and the socket stays open, as a
 * half-open TCP connection (Wi-Fi changed, a NAT forgot the flow) looks to both ends. Later
 * connections pass everything on, or only the server's welcome (a server that answers nothing).
 */
export function mailboxProxy(
  upstream: string,
  mutesAfter: (message: Record<string, unknown>, side: string | undefined) => boolean,
  later: LaterConnections,
) {
  type Link = { up: WebSocket; queued: string[]; side?: string; muted: boolean; welcomeOnly: boolean };
  const links = new Map<unknown, Link>();
  let connections = 0;
  const muted = Promise.withResolvers<void>();
  const fake = fakeMailboxServer({
    open(ws) {
      connections++;
      const first = connections === 1;
      const up = new WebSocket(upstream);
      const link: Link = { up, queued: [], muted: false, welcomeOnly: !first && later === "welcome only" };
      links.set(ws, link);
      up.addEventListener("open", () => {
        for (const m of link.queued.splice(0)) up.send(m);
      });
      up.addEventListener("message", (event) => {
        if (link.muted) return;
        const text = String(event.data);
        const message = JSON.parse(text) as Record<string, unknown>;
        if (link.welcomeOnly && message.type !== "welcome") return;
        ws.send(text);
        if (first && mutesAfter(message, link.side)) {
          link.muted = true;
          muted.resolve();
        }
      });
      up.addEventListener("close", () => ws.close());
    },
    message(ws, raw) {
      const link = links.get(ws);
      if (!link || link.muted) return;
      const text = String(raw);
      const message = JSON.parse(text) as { type?: string; side?: string };
      if (message.type === "bind") link.side = message.side;
      if (link.up.readyState === WebSocket.OPEN) link.up.send(text);
      else link.queued.push(text);
    },
    close(ws) {
      links.get(ws)?.up.close();
    },
  });
  return {
    server: fake.server,
    url: fake.url,
    connections: () => connections,
    /** Resolves once the first connection went silent. */
    muted: () => muted.promise,
    /** Stops the proxy and its connections to the server. */
    stop: () => {
      for (const link of links.values()) link.up.close();
      fake.server.stop(true);
    },
  };
}

/**
 * A fake mailbox server on 127.0.0.1 that plays a real one for sides meeting on one code
 * (nameplate "7", mailbox "m7"): allocate, list, claim, open (hands out what the mailbox holds),
 * add (hands each message to every side that opened the mailbox, its own included), release,
 * close, ping. For the tests of messages too large for magic-wormhole's server to take quickly
 * (it unmasks and checks each frame in Python); it takes messages of up to 64 MiB.
 */
export function relayingMailbox() {
  type Ws = ServerWebSocket<undefined>;
  const opened = new Set<Ws>();
  const sides = new Map<Ws, string>();
  const stored: string[] = [];
  const fake = fakeMailboxServer({
    maxPayloadLength: 64 * 1024 * 1024,
    open(ws) {
      ws.send(JSON.stringify({ type: "welcome", welcome: {} }));
    },
    message(ws, raw) {
      const m = JSON.parse(String(raw)) as Record<string, unknown>;
      const answer = (a: Record<string, unknown>): void => {
        ws.send(JSON.stringify(a));
      };
      switch (m.type) {
        case "allocate":
          return answer({ type: "allocated", nameplate: "7" });
        case "list":
          return answer({ type: "nameplates", nameplates: [{ id: "7" }] });
        case "claim":
          return answer({ type: "claimed", mailbox: "m7" });
        case "release":
          return answer({ type: "released" });
        case "ping":
          return answer({ type: "pong", pong: m.ping });
        case "open":
          opened.add(ws);
          for (const s of stored) ws.send(s);
          return;
        case "add": {
          const message = JSON.stringify({ type: "message", side: sides.get(ws), phase: m.phase, body: m.body });
          stored.push(message);
          for (const s of opened) s.send(message);
          return;
        }
        case "close":
          opened.delete(ws);
          return answer({ type: "closed" });
        case "bind":
          sides.set(ws, String(m.side));
          return;
        default:
      }
    },
    close(ws) {
      opened.delete(ws);
    },
  });
  return fake;
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
