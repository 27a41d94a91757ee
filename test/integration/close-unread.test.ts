/**
 * Connection.end() past its flush budget closes without a reset only when nothing is left
 * unread: close(2) with bytes still in the receive queue is a reset (TCPAbortOnClose), which a
 * peer stopped meanwhile meets as a failed answer once it runs again. end() drops the receive
 * low-water mark to 1 for that; the record layer must not raise it again for a record begun
 * after end() (a peer still sending a file when we quit, stopped mid-record), or the rest of
 * that record waits in the kernel, unread, until the close. Real sockets on 127.0.0.1.
 */

import { afterEach, expect, test } from "bun:test";
import type { Socket } from "bun";
import { type Listener, listen, type SocketConnection } from "../../src/net/index.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function signal(): { promise: Promise<void>; fire: () => void } {
  let fire: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}

test("bytes that come after end() are read though the reader asks for more: the close after the budget is no reset", async () => {
  let accepted: (c: SocketConnection) => void = () => {};
  const conn = new Promise<SocketConnection>((resolve) => {
    accepted = resolve;
  });
  const listener: Listener = listen("127.0.0.1", 0, (c) => accepted(c));
  cleanups.push(() => listener.stop());
  // A peer that keeps its side open after our FIN (one that has not read it yet).
  const peerGotFin = signal();
  const peer: Socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: listener.port,
    allowHalfOpen: true,
    socket: { data() {}, end: () => peerGotFin.fire() },
  });
  cleanups.push(() => peer.terminate());
  const c = await conn;
  let read = 0;
  const firstRead = signal();
  const closed = signal();
  c.setEvents({
    onData(chunk) {
      read += chunk.length;
      // As the record layer does: the record begun needs this much more before it can go up.
      c.expectBytes(400_000);
      firstRead.fire();
    },
    onDrain() {},
    onClose: () => closed.fire(),
  });
  // The budget leaves the read of the second write ample time on a loaded machine.
  c.end(400);
  await peerGotFin.promise;
  peer.write(new Uint8Array(1000));
  await firstRead.promise;
  // What the kernel took of it (a raw socket keeps no queue): under the mark, left to the reader.
  const more = peer.write(new Uint8Array(100_000));
  expect(more).toBeGreaterThan(0);
  await closed.promise;
  // A plain close left an orphan that takes this write (and answers it with a reset later);
  // after a reset the write fails at once.
  expect(peer.write(new Uint8Array(10)), `the close was a reset: ${1000 + more - read} bytes left unread`).toBe(10);
  expect(read).toBe(1000 + more);
});
