/**
 * What a path to send to a plain wormhole peer is, told once (readable-file.ts sendableKind): a
 * file, a folder (sent as a zip), or why it cannot go. The chat looked first and sendToPlain
 * looked again, each telling a folder its own way: sendToPlain took every path checkReadableFile
 * called "not a file" for a folder, so a FIFO there was zipped ("cannot read the folder ...: a
 * part of the path is not a directory").
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlainOutput } from "../../src/cli/plain-run.ts";
import { sendToPlain } from "../../src/cli/plain-send.ts";
import type { PlainPeer } from "../../src/session/plain-peer.ts";
import { sendableKind } from "../../src/transfer/readable-file.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function paths(): { file: string; folder: string; fifo: string; missing: string } {
  const dir = mkdtempSync(join(tmpdir(), "sendable-"));
  dirs.push(dir);
  const file = join(dir, "a.txt");
  writeFileSync(file, "abc");
  const folder = join(dir, "album");
  mkdirSync(folder);
  const fifo = join(dir, "pipe");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  return { file, folder, fifo, missing: join(dir, "nope") };
}

test("sendableKind: a file with its size, a folder, a FIFO and a missing path with their errors", () => {
  const p = paths();
  expect(sendableKind(p.file)).toEqual({ kind: "file", size: 3 });
  expect(sendableKind(p.folder)).toEqual({ kind: "folder" });
  const fifo = sendableKind(p.fifo);
  expect(fifo.kind === "problem" && [fifo.error.code, fifo.error.message]).toEqual([
    "E_NOT_A_FILE",
    `${p.fifo} is not a regular file`,
  ]);
  const missing = sendableKind(p.missing);
  expect(missing.kind === "problem" && missing.error.code).toBe("E_NOT_FOUND");
});

test("sendToPlain: a FIFO is declined as not a regular file, never zipped as a folder", async () => {
  const p = paths();
  const declined: string[] = [];
  const errors: string[] = [];
  const peer = { decline: async (why: string) => void declined.push(why) } as unknown as PlainPeer;
  const out = { error: (code: string, message: string) => void errors.push(`${code}: ${message}`) } as PlainOutput;
  let zipped = 0;
  const folders = {
    receive: async () => 0,
    send: async () => {
      zipped++;
      return 0;
    },
  };
  expect(await sendToPlain(peer, { kind: "path", path: p.fifo }, out, folders)).toBe(3);
  expect(zipped).toBe(0);
  expect(declined).toEqual(["the sender cannot read the file"]);
  expect(errors).toEqual([`E_NOT_A_FILE: ${p.fifo} is not a regular file`]);
  // A folder goes the folder's way.
  expect(await sendToPlain(peer, { kind: "path", path: p.folder }, out, folders)).toBe(0);
  expect(zipped).toBe(1);
});
