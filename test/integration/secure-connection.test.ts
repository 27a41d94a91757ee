/**
 * Sealed records under a real session over loopback: the session is unchanged (chat and a
 * transfer verify byte for byte), and a byte flipped on the wire ends the connection with
 * "integrity error".
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Connection, dial, listen } from "../../src/net/index.ts";
import { writeRandomFile } from "./peers.ts";
import { type SecureSide, secureSessionSide } from "./secure-session-side.ts";

const KEY_A = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const KEY_B = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

type Side = SecureSide;

function side(conn: Connection, origin: "dialed" | "accepted", sendKey: Uint8Array, receiveKey: Uint8Array): Side {
  return secureSessionSide(conn, origin, sendKey, receiveKey, cleanups);
}

async function until(s: Side, type: string, timeoutMs = 20_000): Promise<{ type: string; detail?: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = s.events.find((e) => e.type === type);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no ${type}: ${JSON.stringify(s.events)}`);
    await Bun.sleep(5);
  }
}

/**
 * Two connections joined over loopback, optionally through a tampering relay: `tamper` may change
 * the dialer's bytes in place, or return how many of them to pass before ending the stream there.
 */
async function pair(
  tamper?: (chunk: Uint8Array, total: number) => number | undefined,
): Promise<[Connection, Connection]> {
  let accepted: (c: Connection) => void = () => {};
  const acceptedConn = new Promise<Connection>((resolve) => {
    accepted = resolve;
  });
  const listener = listen("127.0.0.1", 0, (c) => accepted(c));
  cleanups.push(() => listener.stop());
  let target = listener.port;
  if (tamper) {
    let seen = 0;
    const relay = Bun.listen<{ up?: import("bun").Socket<undefined>; cut?: boolean }>({
      hostname: "127.0.0.1",
      port: 0,
      data: {},
      socket: {
        async open(client) {
          client.data.up = await Bun.connect({
            hostname: "127.0.0.1",
            port: listener.port,
            socket: {
              data: (_s, chunk) => {
                client.write(chunk);
              },
              close: () => {
                client.end();
              },
            },
          });
        },
        data(client, chunk) {
          if (client.data.cut) return;
          const copy = Uint8Array.from(chunk);
          const keep = tamper(copy, seen) ?? copy.length;
          seen += copy.length;
          client.data.up?.write(copy.subarray(0, keep));
          if (keep < copy.length) {
            client.data.cut = true;
            client.data.up?.end();
          }
        },
        close(client) {
          client.data.up?.end();
        },
      },
    });
    cleanups.push(() => relay.stop(true));
    target = relay.port;
  }
  const dialed = await dial("127.0.0.1", target);
  return [dialed, await acceptedConn];
}

test("a session over sealed records: chat both ways and a 16 MiB transfer verify", async () => {
  const [ca, cb] = await pair();
  const a = side(ca, "dialed", KEY_A, KEY_B);
  const b = side(cb, "accepted", KEY_B, KEY_A);
  a.session.sendChat("hello over records");
  b.session.sendChat("and back");
  expect((await until(b, "chat")).detail).toBe("hello over records");
  expect((await until(a, "chat")).detail).toBe("and back");
  const src = join(a.dir, "sealed.bin");
  const bytes = writeRandomFile(src, 16 * 1024 * 1024);
  a.session.sendFile(src);
  await until(b, "finished");
  await until(a, "finished");
  expect(readFileSync(join(b.dir, "sealed.bin")).equals(bytes)).toBe(true);
});

/** A 4 MiB file sent from the dialer through pair(tamper): the receiving side, once its connection is lost. */
async function fileThrough(tamper: Parameters<typeof pair>[0], name: string) {
  const [ca, cb] = await pair(tamper);
  const a = side(ca, "dialed", KEY_A, KEY_B);
  const b = side(cb, "accepted", KEY_B, KEY_A);
  const src = join(a.dir, name);
  writeRandomFile(src, 4 * 1024 * 1024);
  a.session.sendFile(src);
  return { b, lost: await until(b, "lost") };
}

test("one byte flipped on the wire: the receiver closes with integrity error, nothing of it used", async () => {
  const { b, lost } = await fileThrough((chunk, total) => {
    // Flip a byte 100 KiB into the sender's stream (inside the file's records).
    const at = 100 * 1024 - total;
    if (at >= 0 && at < chunk.length) chunk[at] = (chunk[at] as number) ^ 0x40;
    return undefined;
  }, "flip.bin");
  expect(String(lost.detail)).toContain("integrity error");
  expect(b.events.some((e) => e.type === "finished")).toBe(false);
  expect(readdirNoPart(b.dir)).toEqual([]);
});

test("a stream cut in the middle of a record is a lost connection, not an integrity error; nothing of it used", async () => {
  // The dialer's stream ends 100 KiB in (inside the file's first record), with a FIN: what a
  // sender killed between the two parts of a short write leaves.
  const { b, lost } = await fileThrough((chunk, total) => {
    const at = 100 * 1024 - total;
    return at >= 0 && at < chunk.length ? at : undefined;
  }, "cut.bin");
  expect(String(lost.detail)).not.toContain("integrity error");
  expect(b.events.some((e) => e.type === "finished")).toBe(false);
  expect(readdirNoPart(b.dir)).toEqual([]);
});

test("wrong keys: the first record fails and the connection ends with integrity error", async () => {
  const [ca, cb] = await pair();
  const a = side(ca, "dialed", KEY_A, KEY_B);
  const b = side(cb, "accepted", KEY_B, KEY_B); // b expects the wrong key for what a sends
  a.session.sendChat("can you read this?");
  const lost = await until(b, "lost");
  expect(String(lost.detail)).toContain("integrity error");
  expect(b.events.some((e) => e.type === "chat")).toBe(false);
});

function readdirNoPart(dir: string): string[] {
  return require("node:fs")
    .readdirSync(dir)
    .filter((n: string) => !n.endsWith(".part"));
}
