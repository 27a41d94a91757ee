/**
 * Resume across real process deaths: a 64 MiB transfer (rate-limited, so "mid-transfer" is a
 * reliable moment) is cut by SIGKILL of the receiver, then of the sender, at random points;
 * each new attempt continues from the receiver's .part, and the result is identical. A
 * changed source starts over.
 */

import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Cli, cleanup, jsonReceiver, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);
const SIZE = 64 * 1024 * 1024;

const receiver = jsonReceiver;

function sender(path: string, code: string, limit?: string): Cli {
  return startCli("sender", ["send", path, "--to", code, "--json", ...(limit ? ["--limit-rate", limit] : [])]);
}

/** Waits until `cli` reports progress, then a random 50-350 ms more. */
async function somewhereInTheMiddle(cli: Cli): Promise<void> {
  await cli.waitForLine(/"type":"progress".*"bytes":[1-9]/);
  await Bun.sleep(50 + Math.floor(Math.random() * 300));
}

function doneEvent(cli: Cli): { bytes: number; resumedFrom: number } {
  const line = cli.lines.find((l) => l.includes('"type":"done"'));
  if (!line) throw new Error(`no done event\n${cli.describe()}`);
  return JSON.parse(line);
}

test("SIGKILL the receiver, then the sender, mid-transfer: each restart resumes, the file is identical", async () => {
  const dir = makeTempDir();
  const src = join(makeTempDir(), "big.bin");
  const bytes = randomBytes(SIZE);
  writeFileSync(src, bytes);
  const part = join(dir, "big.bin.part");

  // 1: the receiver dies.
  let r = await receiver(dir);
  let s = sender(src, r.code, "48M");
  await somewhereInTheMiddle(r.cli);
  r.cli.kill("SIGKILL");
  expect(await s.exitCode()).toBe(3);
  const afterFirst = statSync(part).size;
  expect(afterFirst).toBeGreaterThan(0);
  expect(afterFirst).toBeLessThan(SIZE);
  expect(existsSync(join(dir, "big.bin"))).toBe(false);

  // 2: the sender dies.
  r = await receiver(dir);
  s = sender(src, r.code, "48M");
  await somewhereInTheMiddle(s);
  s.kill("SIGKILL");
  expect(await r.cli.exitCode()).toBe(3);
  const afterSecond = statSync(part).size;
  expect(afterSecond).toBeGreaterThanOrEqual(afterFirst); // it resumed: nothing was thrown away
  expect(existsSync(join(dir, "big.bin"))).toBe(false);

  // 3: nobody dies.
  r = await receiver(dir);
  s = sender(src, r.code);
  expect(await s.exitCode()).toBe(0);
  expect(await r.cli.exitCode()).toBe(0);
  const received = doneEvent(r.cli);
  const sent = doneEvent(s);
  expect(received.bytes).toBe(SIZE); // the totals are the whole file
  expect(sent.bytes).toBe(SIZE);
  expect(received.resumedFrom).toBe(afterSecond);
  expect(sent.resumedFrom).toBe(afterSecond); // this run moved SIZE - afterSecond bytes
  expect(readFileSync(join(dir, "big.bin")).equals(bytes)).toBe(true);
  expect(existsSync(part)).toBe(false);
}, 60_000);

test("a source changed between attempts starts over, and the result is the new file", async () => {
  const dir = makeTempDir();
  const src = join(makeTempDir(), "doc.bin");
  writeFileSync(src, randomBytes(16 * 1024 * 1024));
  let r = await receiver(dir);
  let s = sender(src, r.code, "16M");
  await somewhereInTheMiddle(r.cli);
  r.cli.kill("SIGKILL");
  await s.exitCode();
  expect(statSync(join(dir, "doc.bin.part")).size).toBeGreaterThan(0);

  const changed = randomBytes(16 * 1024 * 1024);
  writeFileSync(src, changed);
  r = await receiver(dir);
  s = sender(src, r.code);
  expect(await s.exitCode()).toBe(0);
  expect(await r.cli.exitCode()).toBe(0);
  expect(doneEvent(r.cli).resumedFrom).toBe(0);
  expect(readFileSync(join(dir, "doc.bin")).equals(changed)).toBe(true);
}, 60_000);

test("a folder cut by SIGKILL of the receiver, sent again: it goes on in the same folder and ends identical", async () => {
  const dir = makeTempDir();
  const srcRoot = join(makeTempDir(), "photos");
  mkdirSync(srcRoot);
  const files = Array.from({ length: 8 }, (_, i) => ({ name: `img${i}.raw`, bytes: randomBytes(4 * 1024 * 1024) }));
  for (const f of files) writeFileSync(join(srcRoot, f.name), f.bytes);

  let r = await receiver(dir);
  let s = sender(srcRoot, r.code, "24M");
  await somewhereInTheMiddle(r.cli);
  r.cli.kill("SIGKILL");
  expect(await s.exitCode()).toBe(3);
  expect(existsSync(join(dir, "photos", ".parley-unfinished"))).toBe(true);

  r = await receiver(dir);
  s = sender(srcRoot, r.code);
  expect(await s.exitCode()).toBe(0);
  expect(await r.cli.exitCode()).toBe(0);
  expect(readdirSync(dir)).toEqual(["photos"]); // the same folder, no "photos (1)"
  expect(readdirSync(join(dir, "photos")).sort()).toEqual(files.map((f) => f.name).sort());
  for (const f of files) expect(readFileSync(join(dir, "photos", f.name)).equals(f.bytes)).toBe(true);
  // What the first attempt had delivered was kept: some entries moved fewer bytes this time.
  const resumed = r.cli.lines
    .filter((l) => l.includes('"type":"done"'))
    .map((l) => (JSON.parse(l) as { resumedFrom: number }).resumedFrom);
  expect(resumed.some((n) => n > 0)).toBe(true);
}, 60_000);
