/**
 * A WebSocket server on 127.0.0.1 (its port the OS's choice) that plays a mailbox server the way
 * a test scripts it: the tests of hostile, broken and flapping servers. Whoever starts one stops
 * it (`server.stop(true)`).
 */

import type { Server, WebSocketHandler } from "bun";

export function fakeMailboxServer(websocket: WebSocketHandler<undefined>): { server: Server<undefined>; url: string } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("not a WebSocket", { status: 400 })),
    websocket,
  });
  return { server, url: `ws://127.0.0.1:${server.port}/v1` };
}
