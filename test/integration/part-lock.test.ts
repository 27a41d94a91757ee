/**
 * Two Parley processes receiving into one folder: a `.part` another process is writing right
 * now must never be taken for a resume (it would be written by both). Another process holds
 * the `.part` here the way a receiver does (open, locked); ours must pick the next name.
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FileReceiver } from "../../src/transfer/index.ts";
import { isOurs } from "../../src/transfer/part-mark.ts";
import { markAsParleyPart } from "./peers.ts";

const dirs: string[] = [];
const children: Array<{ kill(): void }> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Another process that opens `path` and locks it as a receiver does, until killed. */
async function holdLocked(path: string): Promise<void> {
  const lockModule = resolve(import.meta.dir, "../../src/transfer/file-lock.ts");
  const script = `
    import { openSync } from "node:fs";
    import { tryLockExclusive } from ${JSON.stringify(lockModule)};
    const fd = openSync(${JSON.stringify(path)}, "r+");
    console.log(tryLockExclusive(fd) ? "LOCKED" : "BUSY");
    setInterval(() => {}, 1000);
  `;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  children.push(child);
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value).trim()).toBe("LOCKED");
}

test("a .part another process is writing is not resumed: the new transfer takes the next name", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-lock-"));
  dirs.push(dir);
  writeFileSync(join(dir, "x.bin.part"), "half of someone else's file");
  markAsParleyPart(join(dir, "x.bin.part"));
  await holdLocked(join(dir, "x.bin.part"));

  const receiver = FileReceiver.open(dir, "x.bin", 1, 1000, "xxh3");
  try {
    expect(receiver.resumeOffset).toBe(0);
    expect(receiver.name).toBe("x (1).bin");
  } finally {
    receiver.abort();
  }
});

test("once that process is gone (its lock with it), the .part is resumed as usual", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-lock-"));
  dirs.push(dir);
  writeFileSync(join(dir, "x.bin.part"), "half of it");
  markAsParleyPart(join(dir, "x.bin.part"));
  await holdLocked(join(dir, "x.bin.part"));
  const child = children.pop() as ReturnType<typeof Bun.spawn>;
  child.kill("SIGKILL");
  await child.exited;

  const receiver = FileReceiver.open(dir, "x.bin", 1, 1000, "xxh3");
  try {
    expect(receiver.resumeOffset).toBe("half of it".length);
    expect(receiver.name).toBe("x.bin");
  } finally {
    receiver.abort(true);
  }
});

test("a .part Parley did not make (a browser's, say) is never resumed into: the transfer takes the next name", () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-lock-"));
  dirs.push(dir);
  writeFileSync(join(dir, "x.bin.part"), "someone else's half download");
  // Where the file system keeps no extended attributes, marks cannot tell: every .part counts
  // as Parley's, as before marks existed (part-mark.ts).
  const probe = openSync(join(dir, "x.bin.part"), "r");
  const canTell = isOurs(probe) !== undefined;
  closeSync(probe);
  const receiver = FileReceiver.open(dir, "x.bin", 1, 1000, "xxh3");
  try {
    expect(receiver.resumeOffset).toBe(canTell ? 0 : "someone else's half download".length);
    expect(receiver.name).toBe(canTell ? "x (1).bin" : "x.bin");
  } finally {
    receiver.abort(true);
  }
  expect(readFileSync(join(dir, "x.bin.part"), "utf8")).toBe("someone else's half download");
});
