/**
 * flock(2) failing outright (ENOLCK on some network file systems) is not "another process
 * holds it" (issue 11 item 22): the offer fails once, with the reason, and nothing is left in
 * the download folder. The failure is injected in place of flock; the real EWOULDBLOCK case
 * is part-lock.test.ts.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import type { FolderEntry } from "../../src/protocol/index.ts";
import { replaceFlockForTests } from "../../src/transfer/file-lock.ts";
import { FileReceiver, FolderTargets, TransferError } from "../../src/transfer/index.ts";
import { thrownBy } from "../unit/helpers.ts";
import { markAsParleyPart } from "./peers.ts";

const dirs: string[] = [];
afterEach(() => {
  replaceFlockForTests(undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-lockfail-"));
  dirs.push(dir);
  return dir;
}

/** flock fails with `errno`; @returns the number of calls made so far */
function failLocks(errno: number): () => number {
  let calls = 0;
  replaceFlockForTests(() => {
    calls++;
    return { result: -1, errno };
  });
  return () => calls;
}

test("ENOLCK on a new .part: one attempt, a clear E_WRITE, no file left", () => {
  const dir = tempDir();
  const calls = failLocks(constants.errno.ENOLCK);
  const err = thrownBy(() => FileReceiver.open(dir, "x.bin", 1, 100, "xxh3"));
  expect(err).toBeInstanceOf(TransferError);
  expect((err as TransferError).code).toBe("E_WRITE");
  expect((err as TransferError).message).toContain("ENOLCK");
  expect(calls()).toBe(1);
  expect(readdirSync(dir)).toEqual([]);
});

test("ENOLCK on an earlier .part: the offer fails once and the .part stays as it was", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "x.bin.part"), "half");
  markAsParleyPart(join(dir, "x.bin.part"));
  const calls = failLocks(constants.errno.ENOLCK);
  const err = thrownBy(() => FileReceiver.open(dir, "x.bin", 1, 100, "xxh3"));
  expect((err as TransferError).code).toBe("E_WRITE");
  expect(calls()).toBe(1);
  expect(readdirSync(dir)).toEqual(["x.bin.part"]);
});

test("EWOULDBLOCK still means taken: the next name is used", () => {
  const dir = tempDir();
  let calls = 0;
  replaceFlockForTests(() =>
    ++calls === 1 ? { result: -1, errno: constants.errno.EWOULDBLOCK } : { result: 0, errno: 0 },
  );
  const receiver = FileReceiver.open(dir, "x.bin", 1, 100, "xxh3");
  receiver.abort();
  expect(receiver.name).toBe("x (1).bin");
});

test("ENOLCK on a folder's marker: the entry fails, no folder or marker left", () => {
  const dir = tempDir();
  failLocks(constants.errno.ENOLCK);
  const entry: FolderEntry = { group: 1, root: "photos", path: ["a.jpg"], entries: 1, bytes: 3 };
  const err = thrownBy(() => new FolderTargets(dir).parentFor(entry));
  expect((err as TransferError).code).toBe("E_WRITE");
  expect(readdirSync(dir)).toEqual([]);
});
