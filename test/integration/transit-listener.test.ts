/**
 * The transit listener (net/transit.ts) holds at most MAX_HELD_CONNECTIONS open connections:
 * more are closed at once, each sending bytes early or none, and a place freed by a connection
 * that closed is taken again. The race is then handed only the ones held. Real sockets on
 * 127.0.0.1.
 */

import { afterEach, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { SocketConnection } from "../../src/net/index.ts";
import { MAX_HELD_CONNECTIONS, TransitListener } from "../../src/net/transit.ts";

const listeners: TransitListener[] = [];
const clients: Socket[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.stop();
  for (const c of clients.splice(0)) c.destroy();
});

/** A client that connects, sends `early` (64 KiB of junk: bytes the race has not read yet), and records its close. */
function client(port: number): { socket: Socket; isClosed: () => boolean } {
  let done = false;
  const socket = connect(port, "127.0.0.1", () => socket.write(new Uint8Array(64 * 1024).fill(0x41)));
  socket.on("error", () => {});
  socket.on("close", () => {
    done = true;
  });
  clients.push(socket);
  return { socket, isClosed: () => done };
}

async function until(what: () => boolean, label: string): Promise<void> {
  for (let i = 0; i < 1_000 && !what(); i++) await Bun.sleep(5);
  expect(what(), label).toBe(true);
}

test("at most MAX_HELD_CONNECTIONS are held; the rest are closed at once; a freed place is taken again", async () => {
  const listener = new TransitListener("127.0.0.1");
  listeners.push(listener);
  const extra = 20;
  const all = Array.from({ length: MAX_HELD_CONNECTIONS + extra }, () => client(listener.port));
  // The ones past the bound are closed by the listener (their clients never close them).
  await until(() => all.filter((c) => c.isClosed()).length === extra, `${extra} refused`);
  await until(() => listener.heldCount === MAX_HELD_CONNECTIONS, "the bound held");
  expect(all.filter((c) => c.isClosed())).toHaveLength(extra);

  // Ten held ones go: ten new ones are held, and the next one is refused again.
  const held = all.filter((c) => !c.isClosed());
  for (const c of held.slice(0, 10)) c.socket.destroy();
  await until(() => listener.heldCount === MAX_HELD_CONNECTIONS - 10, "ten places freed");
  const again = Array.from({ length: 10 }, () => client(listener.port));
  await until(() => listener.heldCount === MAX_HELD_CONNECTIONS, "ten places taken again");
  const over = client(listener.port);
  await until(over.isClosed, "one more refused");
  expect(again.filter((c) => c.isClosed())).toEqual([]);

  // The race is handed what is held and still waiting: never more than the bound.
  const handed: SocketConnection[] = [];
  listener.onAccept((conn) => handed.push(conn));
  expect(handed).toHaveLength(MAX_HELD_CONNECTIONS);
  expect(handed.filter((c) => c.closed)).toEqual([]);
});
