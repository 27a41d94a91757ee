/**
 * A peer stopped (SIGSTOP: a suspended laptop) while the other side says goodbye and closes.
 * The closing side's close after its flush budget is a plain close when every byte reached the
 * kernel, not a reset: the stopped peer, once resumed, reads the last bytes and its answer to
 * them still goes out (a reset made that write fail). And a reader whose answer fails (a peer
 * that did reset) still handles the rest of what it had read: the BYE behind the OFFER; one
 * that was sending, whose write after the resume fails outside any read, too (the BYE it had
 * not read yet: the close waits a turn of the loop, which reads it first).
 * Real sockets on 127.0.0.1, the peer a process of its own (stopped-peer-child.ts).
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Listener, listen, type SocketConnection } from "../../src/net/index.ts";

const CHILD = join(import.meta.dir, "stopped-peer-child.ts");
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** The peer's process, and the rest of its stdout (after "ready"), read once it exits. */
type Peer = { readonly proc: Subprocess<"ignore", "pipe", "inherit">; readonly rest: () => Promise<string> };

/** The peer process dialed in and stopped: the connection's accepted end and the process. */
async function stoppedPeer(
  mode: "raw" | "parley" | "sending",
  onAccept: (c: SocketConnection) => void = () => {},
): Promise<{ conn: SocketConnection; peer: Peer }> {
  let accepted: (c: SocketConnection) => void = () => {};
  const conn = new Promise<SocketConnection>((resolve) => {
    accepted = resolve;
  });
  const listener: Listener = listen("127.0.0.1", 0, (c) => {
    onAccept(c);
    accepted(c);
  });
  cleanups.push(() => listener.stop());
  const peer = Bun.spawn([process.execPath, CHILD, String(listener.port), mode], { stdout: "pipe" });
  cleanups.push(() => peer.kill("SIGKILL"));
  const out = peer.stdout.getReader();
  expect(new TextDecoder().decode((await out.read()).value)).toBe("ready\n");
  const c = await conn;
  if (mode !== "sending") peer.kill("SIGSTOP"); // that one stops itself, backed up
  // Stopped for sure before anything is written: its state in /proc reads T.
  const state = () => /\) (\S)/.exec(readFileSync(`/proc/${peer.pid}/stat`, "utf8"))?.[1];
  for (let i = 0; i < 500 && state() !== "T"; i++) await Bun.sleep(1);
  expect(state()).toBe("T");
  const rest = async () => {
    let text = "";
    for (let r = await out.read(); !r.done; r = await out.read()) text += new TextDecoder().decode(r.value);
    return text;
  };
  return { conn: c, peer: { proc: peer, rest } };
}

/** Resumes the peer and returns the JSON line it prints when its connection closed. */
async function resumed(peer: Peer): Promise<unknown> {
  peer.proc.kill("SIGCONT");
  return JSON.parse(await peer.rest());
}

test("end() past its budget closes without a reset: the stopped peer reads OFFER and BYE, and its answer goes out", async () => {
  const { conn, peer } = await stoppedPeer("raw");
  let closedAt = 0;
  conn.setEvents({ onData() {}, onDrain() {}, onClose: () => (closedAt = Date.now()) });
  const start = Date.now();
  conn.write(new TextEncoder().encode("OFFER\nBYE\n"));
  conn.end(100);
  for (let i = 0; i < 400 && closedAt === 0; i++) await Bun.sleep(5);
  // The quitting side does not wait for the stopped one: closed at its budget, the peer still stopped.
  expect(closedAt - start, "closed at the flush budget").toBeGreaterThanOrEqual(90);
  expect(closedAt - start, "closed at the flush budget").toBeLessThan(1500);
  expect(await resumed(peer), "a reset makes the answer's write fail (-1)").toEqual({
    lines: ["OFFER", "BYE"],
    wrote: 7,
  });
});

test("a reader whose answer fails on a reset still handles the rest of the read: the BYE after the OFFER", async () => {
  const { conn, peer } = await stoppedPeer("parley");
  conn.setEvents({ onData() {}, onDrain() {}, onClose() {} });
  conn.write(new TextEncoder().encode("OFFER\nBYE\n"));
  // The close before this fix (and of a peer that is not Parley): the last bytes, then a reset.
  conn.destroy();
  expect(await resumed(peer)).toEqual({ lines: ["OFFER", "BYE"] });
});

test("a peer stopped while it sent reads the BYE once resumed, though its next write meets the reset its first one drew", async () => {
  // It sends from the start: read at once (bytes waiting for an owner are capped at 1 MiB).
  const { conn, peer } = await stoppedPeer("sending", (c) => c.setEvents({ onData() {}, onDrain() {}, onClose() {} }));
  conn.write(new TextEncoder().encode("BYE\n"));
  conn.end(100); // what its kernel held when it stopped is read meanwhile (end() keeps reading)
  for (let i = 0; i < 400 && !conn.closed; i++) await Bun.sleep(5);
  expect(conn.closed, "closed at the flush budget").toBe(true);
  // Resumed, it writes into our closed socket, which answers with a reset, and its next write
  // fails outside any read: that closed it at once, before the BYE in its kernel was read.
  expect(await resumed(peer)).toEqual({ lines: ["BYE"] });
});
