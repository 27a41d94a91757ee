/**
 * Records sealed the default way (node:crypto, whose outputs are released as soon as they are
 * copied) cross a real loopback socket and open through each backend: a file sent as full and
 * short records arrives byte for byte, also when a writer's buffer is reused for every chunk.
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AeadBackend, createGcmSealer } from "../../src/crypto/aes-gcm.ts";
import { loadLibcrypto } from "../../src/crypto/libcrypto.ts";
import { RecordOpener } from "../../src/crypto/record.ts";
import { SecureConnection } from "../../src/crypto/secure-connection.ts";
import { type Connection, dial, listen } from "../../src/net/index.ts";
import { backendsToTest } from "../native-libraries.ts";
import { writeRandomFile } from "./peers.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => 3 * i + 1);
const CHUNK = 256 * 1024;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Accepts one connection and opens every record it carries with `backend`, in order. */
function receiveRecords(backend: AeadBackend): { port: number; done: Promise<Uint8Array> } {
  let finish: (bytes: Uint8Array) => void = () => {};
  let fail: (err: Error) => void = () => {};
  const done = new Promise<Uint8Array>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const opener = new RecordOpener(KEY, backend);
  const pieces: Uint8Array[] = [];
  const listener = listen("127.0.0.1", 0, (conn: Connection) => {
    conn.setEvents({
      onData(chunk) {
        opener.feed(Uint8Array.from(chunk));
        try {
          for (let r = opener.next(); r !== undefined; r = opener.next()) pieces.push(Uint8Array.from(r));
        } catch (err) {
          fail(err as Error);
        }
      },
      onDrain() {},
      onClose() {
        if (!opener.atRecordBoundary) fail(new Error("closed inside a record"));
        finish(Buffer.concat(pieces));
      },
    });
  });
  cleanups.push(() => listener.stop());
  return { port: listener.port, done };
}

const backends = backendsToTest<AeadBackend>(
  "libcrypto",
  loadLibcrypto() !== null,
  ["node"],
  "test/integration/seal-backends.test.ts",
);

test("the default sealer really is node:crypto (the backend this file exercises)", () => {
  expect(createGcmSealer(KEY).backend).toBe("node");
});

test.each(backends)("a file sealed by default over loopback opens through %s byte for byte", async (backend) => {
  const dir = mkdtempSync(join(tmpdir(), "parley-seal-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, "source.bin");
  // Full records and a short last one; odd sizes so no record lines up with a page.
  const bytes = writeRandomFile(src, 11 * CHUNK + 12_345);
  const { port, done } = receiveRecords(backend);
  const secure = new SecureConnection(await dial("127.0.0.1", port));
  secure.startSealing(KEY);
  // One buffer for every chunk, as the file sender reads: each write must have sealed (copied)
  // its plaintext before the next read overwrites it.
  const buffer = new Uint8Array(CHUNK);
  const fd = openSync(src, "r");
  try {
    for (let at = 0; at < bytes.length; ) {
      const n = readSync(fd, buffer, 0, CHUNK, at);
      secure.write(buffer.subarray(0, n));
      at += n;
      if (secure.queuedBytes > 0) await Bun.sleep(1); // let the socket drain now and then
    }
  } finally {
    closeSync(fd);
  }
  secure.end();
  const received = await done;
  expect(received.length).toBe(bytes.length);
  expect(Buffer.from(received).equals(readFileSync(src))).toBe(true);
});
