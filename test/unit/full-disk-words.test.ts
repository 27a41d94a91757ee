/**
 * What a receiver says when its disk fills up mid-file. A Parley sender can resume into the kept
 * `.part`, so the line says so; a plain wormhole sender cannot, and its `.part` is removed
 * (plain-run.ts: a token of its own, abort), so the line must not send the user looking for it.
 */

import { expect, test } from "bun:test";
import { existsSync, write, writeSync } from "node:fs";
import { join } from "node:path";
import { FileReceiver } from "../../src/transfer/file-receiver.ts";
import type { FileWrites } from "../../src/transfer/write-behind.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-full-disk-words-");

/** A fresh folder whose file takes `room` bytes, then says ENOSPC (synchronous writes). */
function fillingDisk(room: number): { dir: string; writes: FileWrites } {
  const dir = tempDir();
  let left = room;
  const writes: FileWrites = {
    writeSync(fd, bytes, offset, length, position) {
      if (left <= 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      const n = writeSync(fd, bytes, offset, Math.min(length, left), position);
      left -= n;
      return n;
    },
    write,
    now: () => 0, // every write fast: all stay synchronous
  };
  return { dir, writes };
}

/** Writes 4 KiB records into `receiver` until one fails. @returns its message */
function fillUp(receiver: FileReceiver): string {
  for (let i = 0; i < 100; i++) {
    try {
      receiver.write(new Uint8Array(4096).fill(i));
    } catch (err) {
      return (err as Error).message;
    }
  }
  throw new Error("the disk never filled up");
}

test("a Parley sender's file: the line says what arrived is kept and that sending it again resumes it", () => {
  const { dir, writes } = fillingDisk(10_000);
  const receiver = FileReceiver.open(dir, "photo.raw", 1, 1_000_000, "xxh3", {}, { writeBehind: writes });
  expect(fillUp(receiver)).toBe(
    "cannot write photo.raw: no space left on device; what arrived is kept in photo.raw.part: once there is room, the sender sending it again resumes it",
  );
  receiver.abort(true); // the session keeps it for E_WRITE
  expect(existsSync(join(dir, "photo.raw.part"))).toBe(true);
});

test("a plain wormhole sender's file (no resume): the line names no .part, and none is left", () => {
  const { dir, writes } = fillingDisk(10_000);
  const receiver = FileReceiver.open(
    dir,
    "photo.raw",
    1,
    1_000_000,
    "sha256",
    { token: "00112233445566778899aabbccddeeff" },
    { writeBehind: writes, resumable: false },
  );
  expect(fillUp(receiver)).toBe("cannot write photo.raw: no space left on device");
  receiver.abort(false); // as receiveOverTransit does
  expect(existsSync(join(dir, "photo.raw.part"))).toBe(false);
});
