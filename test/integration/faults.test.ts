/**
 * Faults with real processes and raw sockets: a peer process killed mid-transfer (either
 * side), and an established peer that sends a malformed or oversized frame.
 */

import { afterEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import type { Socket } from "node:net";
import { join, resolve } from "node:path";
import { encodeFrame, encodeMessage, FrameType, makeHello } from "../../src/protocol/index.ts";
import { rawFollower, TestPeer, writeRandomFile } from "./peers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const peers: TestPeer[] = [];
const children: Array<{ kill(signal?: number): void }> = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill(9);
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of peers.splice(0)) p.close();
});

function benchPeer(args: string[]) {
  const child = Bun.spawn([process.execPath, join(ROOT, "bench/peer.ts"), ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(child);
  return child;
}

async function readPort(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`no PORT line in: ${text}`);
    text += new TextDecoder().decode(value);
    const m = /PORT (\d+)/.exec(text);
    if (m) {
      reader.releaseLock();
      return Number(m[1]);
    }
  }
}

test("the sender process killed mid-transfer: the receiver reports it; only a .part remains, for a resume", async () => {
  const receiver = new TestPeer("receiver");
  peers.push(receiver);
  const src = join(receiver.dir, "..", `parley-src-${process.pid}.bin`);
  writeRandomFile(src, 256 << 20);
  const child = benchPeer(["send", String(receiver.listener.port), "xxh3", "0", src]);
  receiver.onProgress = (_info, bytes) => {
    if (bytes > 0) child.kill(9); // SIGKILL: no BYE, no FIN handshake of ours
  };
  const lost = await receiver.waitFor("lost");
  expect(lost.reason).toContain("connection lost");
  const failed = await receiver.waitFor("failed");
  expect(failed.info.direction).toBe("receive");
  // Nothing under the final name; what arrived waits in the .part for a resume.
  expect(readdirSync(receiver.dir).filter((n) => !n.endsWith(".part"))).toEqual([]);
  await Bun.file(src).delete();
});

test("the receiver process killed mid-transfer: the sender reports it", async () => {
  const sender = new TestPeer("sender");
  peers.push(sender);
  const outDir = join(sender.dir, "out");
  require("node:fs").mkdirSync(outDir);
  const child = benchPeer(["receive", outDir]);
  const port = await readPort(child.stdout);
  const src = join(sender.dir, "big.bin");
  writeRandomFile(src, 256 << 20);
  const conn = await (await import("../../src/net/index.ts")).dial("127.0.0.1", port);
  await sender.rendezvous.dialed(conn, "ribbon-walnut"); // bench/peer.ts's BENCH_WORDS
  const session = await sender.waitForSession();
  sender.onProgress = (_info, bytes) => {
    if (bytes > 0) child.kill(9);
  };
  session.sendFile(src);
  const lost = await sender.waitFor("lost");
  expect(lost.reason).toContain("connection lost");
  const failed = await sender.waitFor("failed");
  expect(failed.info.direction).toBe("send");
  await child.exited;
  expect(readdirSync(outDir).filter((n) => !n.endsWith(".part"))).toEqual([]);
});

test.each([
  ["an oversized frame", encodeFrame(FrameType.Chat, new Uint8Array(0)).fill(0xff, 0, 4), "exceeds the limit"],
  ["an unknown frame type", Uint8Array.from([0, 0, 0, 1, 0x7f]), "unknown frame type"],
  ["a malformed OFFER", encodeFrame(FrameType.Offer, new TextEncoder().encode('{"id":"x"}')), "field"],
  ["a second HELLO", encodeMessage(makeHello("0000000000000002", "raw")), "HELLO after the handshake"],
])("a connected peer sending %s is disconnected with the reason; the process goes on", async (_label, bad, reason) => {
  const target = new TestPeer("target");
  peers.push(target);
  const raw = await rawFollower(target);
  sockets.push(raw.socket);
  const closed = new Promise<void>((resolve) => {
    for (const event of ["close", "end", "error"]) raw.socket.once(event, () => resolve());
  });
  raw.send(bad);
  const lost = await target.waitFor("lost");
  expect(lost.reason).toContain("broke the protocol");
  expect(lost.reason).toContain(reason);
  await closed; // the connection was closed from the target's side
});
