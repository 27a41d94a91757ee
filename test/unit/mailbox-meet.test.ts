/**
 * MailboxMeet.release() after a meeting that failed (the mailbox unreachable, not a mailbox, a
 * wrong code...): nothing of the mailbox is held then (meetThroughMailbox closed what it
 * opened), so the run's end must not wait for a let-go that never comes. It waited its whole
 * bound (3 s) before every such error's exit. Nor when the run ends (Ctrl-C) while the mailbox
 * is still being reached: nothing is held there yet.
 */

import { expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { MailboxMeet } from "../../src/cli/mailbox-meet.ts";

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A meeting through the mailbox at 127.0.0.1:port (nothing listens for the transit). */
function meetAt(port: number): MailboxMeet {
  return new MailboxMeet({
    rendezvous: { nonce: "0123456789abcdef" } as never,
    config: { mailboxUrl: `ws://127.0.0.1:${port}/v1`, noListen: true } as never,
    code: () => {},
    path: () => {},
    plainPeer: () => {},
  });
}

test("after a meeting that failed, release() lets the run end at once", async () => {
  const port = await refusedPort();
  const meet = meetAt(port);
  await expect(meet.meet()).rejects.toThrow();
  // Settled before any timer runs: it waits for nothing.
  const first = await Promise.race([meet.release().then(() => "released"), Bun.sleep(0).then(() => "still waiting")]);
  expect(first).toBe("released");
});

test("release() while the mailbox is still being reached (it does not answer) lets the run end at once", async () => {
  // Takes connections and says nothing: the WebSocket's upgrade never completes.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const { port } = silent.address() as { port: number };
  try {
    const meet = meetAt(port);
    const meeting = meet.meet().catch(() => {});
    while (sockets.length === 0) await Bun.sleep(5);
    const first = await Promise.race([meet.release().then(() => "released"), Bun.sleep(0).then(() => "still waiting")]);
    expect(first).toBe("released");
    for (const socket of sockets) socket.destroy();
    await meeting;
  } finally {
    silent.close();
  }
});
