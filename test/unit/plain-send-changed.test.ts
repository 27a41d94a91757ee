/**
 * Sending to a plain wormhole peer (sendOverTransit with the file's PieceReader): a file written
 * over in place while it is sent (`cp new old` while old goes) is not finished. Before, its last
 * piece went too, and the wormhole receiver stored the old start and the new rest, neither
 * version, and acked it: its SHA-256 was of those bytes, so both sides called it good. Now the
 * last piece is held back and the send fails E_READ; a file that only grew (a log) sends the
 * offered bytes as before.
 */

import { afterAll, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeTransitAck } from "../../src/protocol/index.ts";
import { sendOverTransit } from "../../src/session/plain-transfer.ts";
import type { TransitPipe } from "../../src/session/transit-pipe.ts";
import { createDigest, openPieceReader } from "../../src/transfer/index.ts";

const dir = mkdtempSync(join(tmpdir(), "parley-plain-send-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PIECE = 256 * 1024;

/**
 * A transit pipe that takes every piece at once, calls `afterFirst` once the first piece is in,
 * and acks what it got with its SHA-256 (as a wormhole receiver does) once `size` bytes are in.
 */
function fakePipe(size: number, afterFirst: () => void): { pipe: TransitPipe; got: () => number } {
  let got = 0;
  const hash = createDigest("sha256");
  let handlers: { record(plain: Uint8Array): void } | undefined;
  const pipe = {
    queuedBytes: 0,
    start(h: { record(plain: Uint8Array): void }) {
      handlers = h;
    },
    send(chunk: Uint8Array) {
      got += chunk.length;
      hash.update(chunk);
      if (got === chunk.length) afterFirst();
      if (got === size) queueMicrotask(() => handlers?.record(encodeTransitAck(hash.hex())));
    },
    destroy() {},
    end() {},
  };
  return { pipe: pipe as unknown as TransitPipe, got: () => got };
}

/** A file of `size` random bytes whose mtime is in the past (any write moves it). */
function oldFile(name: string, size: number): string {
  const path = join(dir, name);
  writeFileSync(path, crypto.getRandomValues(new Uint8Array(size)));
  utimesSync(path, new Date(2_000_000_000), new Date(2_000_000_000));
  return path;
}

test("written over in place after its first piece: the last piece is held back, E_READ", async () => {
  const size = 3 * PIECE;
  const path = oldFile("disk.img", size);
  const { pipe, got } = fakePipe(size, () =>
    writeFileSync(path, crypto.getRandomValues(new Uint8Array(size)), { flag: "r+" }),
  );
  const sent = sendOverTransit(
    pipe,
    () => openPieceReader(path),
    size,
    () => {},
  );
  await expect(sent).rejects.toMatchObject({
    code: "E_READ",
    message: expect.stringContaining("was changed while it was sent"),
  });
  expect(got()).toBeLessThan(size);
});

test("written over in place with more bytes after its first piece: held back too (not taken for a log)", async () => {
  const size = 3 * PIECE;
  const path = oldFile("longer.img", size);
  const { pipe, got } = fakePipe(size, () => writeFileSync(path, crypto.getRandomValues(new Uint8Array(size + PIECE))));
  const sent = sendOverTransit(
    pipe,
    () => openPieceReader(path),
    size,
    () => {},
  );
  await expect(sent).rejects.toMatchObject({ code: "E_READ" });
  expect(got()).toBeLessThan(size);
});

test("only read, or grown after its first piece: every offered byte goes and the ack is taken", async () => {
  const size = 3 * PIECE;
  const still = oldFile("still.bin", size);
  const quiet = fakePipe(size, () => {});
  expect(
    (
      await sendOverTransit(
        quiet.pipe,
        () => openPieceReader(still),
        size,
        () => {},
      )
    ).bytes,
  ).toBe(size);
  const log = oldFile("app.log", size);
  const growing = fakePipe(size, () => appendFileSync(log, "one more line\n"));
  expect(
    (
      await sendOverTransit(
        growing.pipe,
        () => openPieceReader(log),
        size,
        () => {},
      )
    ).bytes,
  ).toBe(size);
});
