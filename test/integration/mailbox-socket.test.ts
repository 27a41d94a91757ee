/**
 * openMailboxSocket against WebSocket servers that are not magic-wormhole mailbox servers (a
 * --relay-url pointing at some other service): one that never says "welcome", one that sends
 * only text that is not the mailbox's, one that closes at once. Each is one E_CONNECT error in
 * time, not a wait for ever in silence; a server that welcomes is open, its welcome delivered.
 */

import { afterEach, expect, test } from "bun:test";
import type { Server } from "bun";
import { type MailboxMessage, NetError, openMailboxSocket } from "../../src/net/index.ts";

let server: Server<undefined> | undefined;
afterEach(() => {
  server?.stop(true);
  server = undefined;
});

/** A WebSocket server on 127.0.0.1 that sends `greeting` (or closes, or says nothing) on open. */
function wsServer(onOpen: "silent" | "close" | string): string {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      return srv.upgrade(req) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      open(ws) {
        if (onOpen === "close") ws.close(1011, "go away");
        else if (onOpen !== "silent") ws.send(onOpen);
      },
      message() {},
    },
  });
  return `ws://127.0.0.1:${server.port}/v1`;
}

const ignore = { onMessage() {}, onClose() {} };

async function openFails(url: string): Promise<string> {
  const started = performance.now();
  const err = await openMailboxSocket(url, ignore, 400).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NetError);
  expect((err as NetError).code).toBe("E_CONNECT");
  expect(performance.now() - started).toBeLessThan(5_000);
  return (err as NetError).message;
}

test("a WebSocket that never says welcome: E_CONNECT once the open time is up, saying no mailbox server is there", async () => {
  const url = wsServer("silent");
  expect(await openFails(url)).toBe(
    `${url} opened a WebSocket but did not greet as a magic-wormhole mailbox server does: no mailbox server is there (no welcome within 0.4 s)`,
  );
});

test("a WebSocket that sends text that is not the mailbox's: the same", async () => {
  const url = wsServer("this is not json");
  expect(await openFails(url)).toContain("did not greet as a magic-wormhole mailbox server does");
  const other = wsServer(JSON.stringify({ type: "hello", from: "another service" }));
  expect(await openFails(other)).toContain("did not greet as a magic-wormhole mailbox server does");
});

test("a WebSocket that closes at once: E_CONNECT, not a lost mailbox", async () => {
  const url = wsServer("close");
  expect(await openFails(url)).toContain("did not greet as a magic-wormhole mailbox server does");
});

test("a server that welcomes: open, and the welcome is delivered", async () => {
  const url = wsServer(JSON.stringify({ type: "welcome", welcome: { motd: "hi" } }));
  const got: MailboxMessage[] = [];
  const socket = await openMailboxSocket(url, { onMessage: (m) => got.push(m), onClose() {} }, 2_000);
  expect(got).toEqual([{ type: "welcome", welcome: { motd: "hi" } }]);
  socket.close();
});
