/**
 * Resume across real process deaths: a 64 MiB transfer (rate-limited, so "mid-transfer" is a
 * reliable moment) is cut by SIGKILL of the receiver, then of the sender, at seeded random
 * points; each new attempt continues from the receiver's .part, and the result is identical.
 * That it resumed is measured on the wire (a relay counts the bytes the sender sent), not
 * taken from the program's own report. A changed source starts over. Every file lives in a
 * temp dir that cleanup() removes after each test, failed or not.
 */

import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatBytes } from "../../src/ui/progress.ts";
import { type Relay, startRelay } from "../relay.ts";
import { seededRandom } from "../seeded-random.ts";
import { type Cli, cleanup, jsonReceiver, makeTempDir, randomFile, seededBytes, startCli } from "./helpers.ts";

const relays: Relay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) relay.stop();
  await cleanup();
});
const SIZE = 64 * 1024 * 1024;
/** The cut points and file contents come from here: a failure replays the same run. */
const random = seededRandom(20_261_202);

const receiver = jsonReceiver;

function sender(path: string, code: string, limit?: string): Cli {
  return startCli("sender", ["send", path, "--to", code, "--json", ...(limit ? ["--limit-rate", limit] : [])]);
}

/** Waits until `cli` reports progress, then a seeded random 50-350 ms more. */
async function somewhereInTheMiddle(cli: Cli): Promise<void> {
  await cli.waitForLine(/"type":"progress".*"bytes":[1-9]/);
  await Bun.sleep(50 + Math.floor(random() * 300));
}

/** A relay in front of `port` that counts the bytes the dialing sender sends; its code to dial. */
async function countingRelay(port: number, code: string): Promise<{ code: string; sent: () => number }> {
  let sent = 0;
  const relay = await startRelay(port, (chunk) => {
    sent += chunk.length;
    return chunk;
  });
  relays.push(relay);
  return { code: code.replace(/^\d+/, String(relay.port)), sent: () => sent };
}

function doneEvent(cli: Cli): { bytes: number; resumedFrom: number } {
  const line = cli.lines.find((l) => l.includes('"type":"done"'));
  if (!line) throw new Error(`no done event\n${cli.describe()}`);
  return JSON.parse(line);
}

test("SIGKILL the receiver, then the sender, mid-transfer: each restart resumes, the file is identical", async () => {
  const dir = makeTempDir();
  const { path: src, bytes } = randomFile("big.bin", SIZE, 1);
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

  // 3: nobody dies; the sender's bytes are counted on the way.
  r = await receiver(dir);
  const relay = await countingRelay(r.port, r.code);
  s = sender(src, relay.code);
  // Relayed through this (busy) test process: allow it time; nothing here is about speed.
  expect(await s.exitCode(45_000)).toBe(0);
  expect(await r.cli.exitCode()).toBe(0);
  // It resumed: the wire carried what was missing (plus records' and messages' overhead, well
  // under 1%), not the whole file again.
  const overhead = SIZE / 100 + 64 * 1024;
  expect(afterSecond, "enough was there to tell a resume from a restart").toBeGreaterThan(2 * overhead);
  expect(relay.sent()).toBeGreaterThanOrEqual(SIZE - afterSecond);
  expect(relay.sent()).toBeLessThan(SIZE - afterSecond + overhead);
  const received = doneEvent(r.cli);
  const sent = doneEvent(s);
  expect(received.bytes).toBe(SIZE); // the totals are the whole file
  expect(sent.bytes).toBe(SIZE);
  expect(received.resumedFrom).toBe(afterSecond);
  expect(sent.resumedFrom).toBe(afterSecond); // this run moved SIZE - afterSecond bytes
  expect(readFileSync(join(dir, "big.bin")).equals(bytes)).toBe(true);
  expect(existsSync(part)).toBe(false);
}, 90_000);

test("a source changed between attempts starts over, and the result is the new file", async () => {
  const dir = makeTempDir();
  const { path: src } = randomFile("doc.bin", 16 * 1024 * 1024, 2);
  let r = await receiver(dir);
  let s = sender(src, r.code, "16M");
  await somewhereInTheMiddle(r.cli);
  r.cli.kill("SIGKILL");
  await s.exitCode();
  expect(statSync(join(dir, "doc.bin.part")).size).toBeGreaterThan(0);

  const changed = seededBytes(16 * 1024 * 1024, 3);
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
  const files = Array.from({ length: 8 }, (_, i) => ({
    name: `img${i}.raw`,
    bytes: seededBytes(4 * 1024 * 1024, 10 + i),
  }));
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

test("a resume is said as it starts, both sides (a line; --json a resume event), not only at its end", async () => {
  const SIZE2 = 16 * 1024 * 1024;
  const dir = makeTempDir();
  const { path: src, bytes } = randomFile("cut.bin", SIZE2, 4);
  const part = join(dir, "cut.bin.part");
  let r = await receiver(dir);
  let s = sender(src, r.code, "8M");
  await somewhereInTheMiddle(r.cli);
  r.cli.kill("SIGKILL");
  expect(await s.exitCode()).toBe(3);
  const first = statSync(part).size;
  expect(first).toBeGreaterThan(0);

  // 2: people's lines on the receiver, --json on the sender; the sender is killed once both said it.
  const human = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
  const { match } = await human.waitForLine(/ · code (\d+-[a-z]+-[a-z]+)$/);
  s = sender(src, match[1] as string, "4M"); // the rest takes seconds: it is cut below
  const line = new RegExp(
    `^Resuming #\\d+ cut\\.bin from ${formatBytes(first).replace(".", "\\.")} \\(of 16\\.0 MiB\\): an earlier attempt had delivered that much\\.$`,
  );
  // Before: nothing until its end ("Resumed cut.bin: N bytes were there ...").
  await human.waitForLine(line);
  const event = JSON.parse((await s.waitForLine(/"type":"resume"/)).line);
  expect(event).toMatchObject({ type: "resume", direction: "send", name: "cut.bin", size: SIZE2, from: first });
  // Said as it started: the file is not there yet, nor its end's line.
  expect(human.stdout).not.toContain("Resumed cut.bin");
  expect(existsSync(join(dir, "cut.bin"))).toBe(false);
  await somewhereInTheMiddle(s);
  s.kill("SIGKILL");
  expect(await human.exitCode()).toBe(3);
  const second = statSync(part).size;
  expect(second).toBeGreaterThanOrEqual(first);

  // 3: --json on the receiver, people's lines on the sender, to the end.
  r = await receiver(dir);
  const shown = startCli("sender", ["send", src, "--to", r.code, "--no-progress"]);
  expect(await shown.exitCode()).toBe(0);
  expect(await r.cli.exitCode()).toBe(0);
  const resume = r.cli.lines.findIndex((l) => l.includes('"type":"resume"'));
  expect(JSON.parse(r.cli.lines[resume] as string)).toMatchObject({
    direction: "receive",
    name: "cut.bin",
    from: second,
  });
  expect(resume).toBeLessThan(r.cli.lines.findIndex((l) => l.includes('"type":"done"')));
  const said = shown.lines.findIndex((l) =>
    l.startsWith(`Resuming #1 cut.bin from ${formatBytes(second)} (of 16.0 MiB)`),
  );
  expect(said, shown.describe()).toBeGreaterThanOrEqual(0);
  expect(said).toBeLessThan(shown.lines.findIndex((l) => l.startsWith("Resumed cut.bin: ")));
  expect(readFileSync(join(dir, "cut.bin")).equals(bytes)).toBe(true);
}, 90_000);
