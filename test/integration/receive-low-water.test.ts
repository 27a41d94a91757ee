/**
 * The receive low-water mark on real sockets (127.0.0.1): a record that a slow relay delivers
 * in odd pieces wakes the reader a few times, not once a piece; a short record right after it
 * (a chat line, an ACK) is handed up as soon as it arrives, so the mark went back to 1; and a
 * session over such sockets keeps chat and a transfer intact.
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RecordSealer } from "../../src/crypto/record.ts";
import { SecureConnection } from "../../src/crypto/secure-connection.ts";
import { type Connection, type ConnectionEvents, ForwardingConnection } from "../../src/net/index.ts";
import { receiveLowWater } from "../../src/net/tcp-options.ts";
import { writeRandomFile } from "./peers.ts";
import { type SecureSide, secureSessionSide } from "./secure-session-side.ts";
import { socketPair } from "./socket-pair.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 3);
const KEY_B = Uint8Array.from({ length: 32 }, (_, i) => 250 - i);
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const canMark = process.platform === "linux";

/** A connection that counts the reads handed up by the one it wraps (everything else passes through). */
class CountingConnection extends ForwardingConnection {
  reads = 0;
  override setEvents(events: ConnectionEvents) {
    this.inner.setEvents({
      ...events,
      onData: (chunk) => {
        this.reads++;
        events.onData(chunk);
      },
    });
  }
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

/** Odd piece sizes, as a relay that reads what it can and forwards it might cut a stream. */
const PIECES = [3, 1, 4093, 16381, 7, 9001, 16384, 511];

test.if(canMark)(
  "a record in odd pieces from a slow relay: a few reads, not one a piece; a short record right after it comes up at once",
  async () => {
    const [writer, reader] = await socketPair(cleanups);
    const counting = new CountingConnection(reader);
    const secure = new SecureConnection(counting);
    secure.startOpening(KEY);
    const records: Uint8Array[] = [];
    secure.setEvents({ onData: (r) => records.push(r.slice()), onDrain() {}, onClose() {} });

    const sealer = new RecordSealer(KEY);
    const big = Uint8Array.from({ length: 256 * 1024 + 9 }, (_, i) => (i * 31 + 7) & 0xff);
    const bigRecord = sealer.seal(big);
    let pieces = 0;
    for (let at = 0; at < bigRecord.length; pieces++) {
      const n = Math.min(PIECES[pieces % PIECES.length] as number, bigRecord.length - at);
      writer.write(bigRecord.slice(at, at + n));
      at += n;
      await Bun.sleep(2); // the relay is slow: each piece reaches the reader's socket on its own
    }
    await waitFor("the large record", () => records.length === 1);
    const readsForBig = counting.reads;
    expect(records[0]).toEqual(big);

    // A stale mark (the last record's size) would hold this one back for good.
    const chat = new TextEncoder().encode("a chat line right after the record");
    writer.write(sealer.seal(chat));
    await waitFor("the short record", () => records.length === 2);
    expect(records[1]).toEqual(chat);
    expect(receiveLowWater(reader.fd)).toBe(1);

    // Without the mark every piece is a read (the writer waits between pieces).
    expect(pieces).toBeGreaterThan(30);
    expect(readsForBig).toBeLessThanOrEqual(8);
  },
  30_000,
);

test.if(canMark)("the mark follows the record in hand and is 1 between records", async () => {
  const [writer, reader] = await socketPair(cleanups);
  const secure = new SecureConnection(reader);
  secure.startOpening(KEY);
  const marks: number[] = [];
  let records = 0;
  secure.setEvents({
    onData: () => {
      records++;
    },
    onDrain() {},
    onClose() {},
  });
  const sealer = new RecordSealer(KEY);
  const record = sealer.seal(new Uint8Array(200 * 1024));
  // Header and 1 KiB: the mark is the rest of the record, so nothing more comes up before it is whole.
  writer.write(record.slice(0, 1028));
  await waitFor("the first piece read", () => (receiveLowWater(reader.fd) ?? 1) > 1);
  marks.push(receiveLowWater(reader.fd) as number);
  writer.write(record.slice(1028));
  await waitFor("the record", () => records === 1);
  marks.push(receiveLowWater(reader.fd) as number);
  expect(marks).toEqual([record.length - 1028, 1]);
});

type Side = SecureSide;

function side(conn: Connection, origin: "dialed" | "accepted", sendKey: Uint8Array, receiveKey: Uint8Array): Side {
  return secureSessionSide(conn, origin, sendKey, receiveKey, cleanups);
}

test("a session with the mark: chat during and right after a 32 MiB transfer arrives, the file verifies", async () => {
  const [ca, cb] = await socketPair(cleanups);
  const a = side(ca, "dialed", KEY, KEY_B);
  const b = side(cb, "accepted", KEY_B, KEY);
  const src = join(a.dir, "lowat.bin");
  const bytes = writeRandomFile(src, 32 * 1024 * 1024);
  a.session.sendFile(src);
  a.session.sendChat("during");
  await waitFor("the transfer", () => b.events.some((e) => e.type === "finished"), 60_000);
  a.session.sendChat("right after");
  b.session.sendChat("and back");
  await waitFor("both chat lines", () => b.events.filter((e) => e.type === "chat").length === 2);
  await waitFor("the reply", () => a.events.some((e) => e.type === "chat"));
  expect(b.events.filter((e) => e.type === "chat").map((e) => e.detail)).toEqual(["during", "right after"]);
  expect(readFileSync(join(b.dir, "lowat.bin")).equals(bytes)).toBe(true);
  if (canMark) expect(receiveLowWater(cb.fd)).toBe(1);
}, 60_000);
