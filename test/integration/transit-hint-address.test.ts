/**
 * A peer's direct hint is named by the address it reached, not as the peer wrote it: `010.0.0.1`
 * is dialed as 8.0.0.1 (inet_aton reads a leading 0 as octal) and was said "directly at
 * 010.0.0.1", which a person reads as 10.0.0.1 (attack31). Real sockets on 127.0.0.1: the hint
 * `0177.0.0.1` (octal 127) reaches a hand-made transit sender there.
 */

import { afterEach, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { connectTransit, type TransitResult } from "../../src/net/index.ts";

const line = (text: string) => new TextEncoder().encode(text);
const SENDER = line("transit sender 0123 ready\n\n");
const RECEIVER = line("transit receiver 0123 ready\n\n");

const servers: Server[] = [];
const sockets: Socket[] = [];
const won: TransitResult[] = [];
afterEach(() => {
  for (const r of won.splice(0)) r.connection.destroy();
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

/** A transit sender listening on 127.0.0.1: its line, then `go` once ours has come. */
async function handMadeSender(): Promise<number> {
  const server = createServer((peer) => {
    sockets.push(peer);
    peer.on("error", () => {});
    peer.write(SENDER);
    let heard = 0;
    peer.on("data", (chunk: Buffer) => {
      const first = heard < RECEIVER.length;
      heard += chunk.length;
      if (first && heard >= RECEIVER.length) peer.write("go\n");
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

async function dialHint(host: string): Promise<TransitResult> {
  const port = await handMadeSender();
  const met = await connectTransit({
    role: "receiver",
    send: RECEIVER,
    expect: SENDER,
    relayHandshake: line("please relay 0123 for side 01\n"),
    direct: [{ host, port }],
    relays: [],
    relayDelayMs: 5_000,
    timeoutMs: 5_000,
  });
  won.push(met);
  return met;
}

test("a hint written 0177.0.0.1 is named 127.0.0.1, the address connected to", async () => {
  // Before: "0177.0.0.1:PORT", the hint as written (a person reads 177.0.0.1).
  const met = await dialHint("0177.0.0.1");
  expect(met.path).toBe("direct");
  expect(met.address).toBe(`127.0.0.1:${met.address.split(":")[1]}`);
  expect(met.address).toBe(met.connection.remoteAddress);
});

test("a plain 127.0.0.1 hint is named as before", async () => {
  const met = await dialHint("127.0.0.1");
  expect(met.address).toMatch(/^127\.0\.0\.1:\d+$/);
});
