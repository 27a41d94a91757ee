/**
 * A source file that changes while it is being sent: the offer is the contract. If it grows,
 * exactly the offered bytes go and verify (what was appended is not part of this transfer);
 * if it shrinks, or is rewritten in place (as `cp new old` does while old is sent: the bytes read
 * would mix both versions), the sender says so and both sides fail the transfer (exit 3), with
 * nothing stored under the final name.
 */

import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Cli, cleanup, jsonReceiver, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);
const SIZE = 12 * 1024 * 1024;

const receiver = jsonReceiver;

async function sendingSlowly(path: string, code: string): Promise<Cli> {
  const cli = startCli("sender", ["send", path, "--to", code, "--json", "--limit-rate", "8M"]);
  await cli.waitForLine(/"type":"progress".*"bytes":[1-9]/);
  return cli;
}

test("a file that grows while it is sent: the offered bytes arrive and verify", async () => {
  const dir = makeTempDir();
  const src = join(makeTempDir(), "log.txt");
  const first = randomBytes(SIZE);
  writeFileSync(src, first);
  const r = await receiver(dir);
  const s = await sendingSlowly(src, r.code);
  appendFileSync(src, randomBytes(1024 * 1024));
  expect(await s.exitCode()).toBe(0);
  expect(await r.cli.exitCode()).toBe(0);
  expect(readFileSync(join(dir, "log.txt")).equals(first)).toBe(true);
}, 60_000);

test("a file that shrinks while it is sent: the sender says so, both exit 3, nothing stored", async () => {
  const dir = makeTempDir();
  const src = join(makeTempDir(), "data.bin");
  writeFileSync(src, randomBytes(SIZE));
  const r = await receiver(dir);
  const s = await sendingSlowly(src, r.code);
  truncateSync(src, 1024);
  expect(await s.exitCode()).toBe(3);
  expect(await r.cli.exitCode()).toBe(3);
  expect(s.lines.some((l) => l.includes('"code":"E_READ"') && l.includes("shrank while it was being sent"))).toBe(true);
  expect(existsSync(join(dir, "data.bin"))).toBe(false);
}, 60_000);

test("a file rewritten in place while it is sent (same size): the sender says so, both exit 3, nothing stored", async () => {
  // Before, both sides said "checksum matched" and exited 0: the stored file was the old first
  // part and the new rest, neither version, stamped with the old modification time.
  const dir = makeTempDir();
  const src = join(makeTempDir(), "disk.img");
  writeFileSync(src, randomBytes(SIZE));
  utimesSync(src, new Date(2_000_000_000), new Date(2_000_000_000)); // the rewrite moves its mtime
  const r = await receiver(dir);
  const s = await sendingSlowly(src, r.code);
  writeFileSync(src, randomBytes(SIZE), { flag: "r+" });
  expect(await s.exitCode()).toBe(3);
  expect(await r.cli.exitCode()).toBe(3);
  expect(s.lines.some((l) => l.includes('"code":"E_READ"') && l.includes("was changed while it was being sent"))).toBe(
    true,
  );
  const told = r.cli.lines.find((l) => l.includes('"type":"error"') && l.includes("disk.img"));
  expect(told, r.cli.describe()).toContain("it changed while it was being sent");
  expect(existsSync(join(dir, "disk.img"))).toBe(false);
}, 60_000);
