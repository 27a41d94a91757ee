/**
 * The long-link bench's TCP path model (bench/delay-relay.ts --model tcp) takes off a sender no
 * more than its window admits, its small receive buffer and one read: what the window has no
 * room for waits in the sender's kernel, as on a real path, where the sender's unsent cap
 * (TCP_NOTSENT_LOWAT) applies, and not in the relay, where it sat ahead of a chat line.
 */

import { dlopen, FFIType, ptr } from "bun:ffi";
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { LineReader, type Proc, start, stopAll } from "../../bench/lib/procs.ts";
import { dial, type Listener, listen, type SocketConnection } from "../../src/net/index.ts";

const RELAY = join(import.meta.dir, "../../bench/delay-relay.ts");
const procs: Proc[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await stopAll(procs.splice(0));
});

/** TCP_INFO's tcpi_bytes_acked (Linux >= 4.1, offset 120): bytes the far kernel took off this socket. */
function bytesAcked(fd: number): number {
  const libc = dlopen("libc.so.6", {
    getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  });
  try {
    const info = new BigUint64Array(32);
    const length = new Uint32Array([info.byteLength]);
    const IPPROTO_TCP = 6;
    const TCP_INFO = 11;
    expect(libc.symbols.getsockopt(fd, IPPROTO_TCP, TCP_INFO, ptr(info), ptr(length))).toBe(0);
    expect(length[0] as number).toBeGreaterThanOrEqual(128);
    return Number(info[15]);
  } finally {
    libc.close();
  }
}

/** Long enough that no byte crosses the hop, and no room comes back, while the test looks, even under heavy load. */
const HOLD_MS = 5_000;

test("the relay takes off a sender only its window, its receive buffer and one read; the rest waits in the sender", async () => {
  if (process.platform !== "linux") return; // TCP_INFO and the receive buffer are Linux's here
  const listeners: Listener[] = [];
  let sunk = 0;
  let accepted = false;
  listeners.push(
    listen("127.0.0.1", 0, (conn) => {
      accepted = true;
      conn.setEvents({
        onData: (chunk) => {
          sunk += chunk.length;
        },
        onDrain() {},
        onClose() {},
      });
    }),
  );
  cleanups.push(() => {
    for (const l of listeners) l.stop();
  });
  // Held HOLD_MS each way: a byte reaches the far end HOLD_MS after the relay sends it, and its
  // room comes back after twice that. The look below must end before either (it did not always
  // with 500 ms under a load of 15-20: the window grew meanwhile and the test failed).
  const relay = start([process.execPath, RELAY, String((listeners[0] as Listener).port), String(HOLD_MS)]);
  procs.push(relay);
  const [, port] = await new LineReader(relay.stdout).waitFor(/^RELAY (\d+)/);
  const sender: SocketConnection = await dial("127.0.0.1", Number(port));
  cleanups.push(() => sender.destroy());
  // The relay dials the far end once it has accepted us and set our side's receive buffer:
  // both sockets are set up once the far end sees its connection (no byte needs to cross).
  while (!accepted) await new Promise((resolve) => setTimeout(resolve, 20));
  // Far more than the window (10 segments) and any buffer: the kernel takes what it will, the
  // connection queues the rest.
  const wroteAt = performance.now();
  const block = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 16; i++) sender.write(block);
  // The relay reads what its buffer holds, passes the window's worth, and stops reading; wait
  // until the far kernel has taken nothing more for 100 ms (not a time the test passes by).
  // -1: at least one 100 ms look, even when the far kernel has taken nothing yet at the first.
  let taken = -1;
  for (let now = bytesAcked(sender.fd); now !== taken; now = bytesAcked(sender.fd)) {
    taken = now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const looked = performance.now() - wroteAt;
  expect(looked, `the look took ${looked} ms: not within the hold, so the window may have moved`).toBeLessThan(HOLD_MS);
  expect(sender.queuedBytes).toBeGreaterThan(0); // the sender's side holds the rest
  expect(sunk).toBe(0); // nothing has crossed the hop yet
  const window = 10 * 1448;
  // The relay's kernel buffer (32 KiB asked, doubled) and one read: 195-230 KB taken here. With
  // 128 KiB (before) 590 KB; autotuned, 290 KB at rest and megabytes once traffic has grown it.
  expect(taken).toBeGreaterThan(window);
  expect(taken).toBeLessThanOrEqual(window + 8 * 32 * 1024);
}, 20_000);
