/**
 * A few seconds of each attack a local stranger can make without the code (issue 11.13), on
 * a real `parley receive`: the real sender still gets in, memory stays bounded, and the
 * "Dropped" lines stay few. And the input that once grew a receiver past 5 GiB at 100% CPU:
 * an authenticated peer flooding chat lines into a receiver whose output nobody reads (Bun
 * buffered every line; now such lines are skipped while the output is backed up, and counted).
 * The long soak is `bun run soak` (bench/soak.ts).
 */

import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { encodeMessage } from "../../src/protocol/index.ts";
import { ATTACKS, type AttackName, processUsage, startAttack } from "../attacks.ts";
import { launchedEnv, PARLEY } from "../e2e/helpers.ts";
import { rawParley, until } from "../raw-parley.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** `parley receive --json` once it listens; its end (and its folder's) goes on `ends`. */
async function receiver(
  ends: Array<() => void> = cleanups,
): Promise<{ proc: Subprocess<"ignore", "pipe", "pipe">; port: number; code: string }> {
  const dir = mkdtempSync(join(tmpdir(), "parley-soak-"));
  const proc = Bun.spawn([...PARLEY, "receive", "--dir", dir, "--json"], {
    env: launchedEnv(), // its memory bound is Parley's as launched
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  ends.push(() => {
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/"type":"listening".*\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`receiver ended: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { port, code } = JSON.parse(out.split("\n").find((l) => l.includes('"listening"')) as string);
  return { proc, port, code };
}

/**
 * `name` against a real receiver for 3 s, then the real sender. Its processes end here, not in
 * afterEach: three of these run at once (below), and each one's end must not end the others'.
 */
async function soak(name: AttackName): Promise<void> {
  const ends: Array<() => void> = [];
  try {
    const r = await receiver(ends);
    let stderr = "";
    void (async () => {
      for await (const chunk of r.proc.stderr) stderr += new TextDecoder().decode(chunk);
    })();
    const attack = startAttack(name, r.port, 17);
    ends.push(() => attack.stop());
    const started = performance.now();
    let maxRss = 0;
    while (performance.now() - started < 3_000) {
      await Bun.sleep(200);
      maxRss = Math.max(maxRss, processUsage(r.proc.pid).rssBytes);
    }
    const file = join(mkdtempSync(join(tmpdir(), "parley-soak-src-")), "real.bin");
    ends.push(() => rmSync(resolve(file, ".."), { recursive: true, force: true }));
    writeFileSync(file, randomBytes(256 * 1024));
    const sender = Bun.spawn([...PARLEY, "send", file, "--to", r.code], {
      stdout: "ignore",
      stderr: "pipe",
    });
    ends.push(() => sender.kill("SIGKILL"));
    expect(await sender.exited, `the real sender during ${name}`).toBe(0);
    expect(attack.opened()).toBeGreaterThanOrEqual(17);
    expect(maxRss).toBeLessThan(512 * 1024 * 1024);
    expect(stderr.split("\n").filter((l) => l.startsWith("Dropped")).length).toBeLessThanOrEqual(8);
  } finally {
    for (const end of ends) end();
  }
}

// idle and half cost no CPU (17 connections that say nothing, or one HELLO each, and wait), so
// those two soak at once: together as long as one. The floods run one at a time after them, each
// with the machine to itself as before.
const BESIDE: readonly AttackName[] = ["idle", "half"];
const NAME = "%s for 3 s: the real sender still gets in, memory bounded, few Dropped lines";
test.concurrent.each(BESIDE)(NAME, soak, 30_000);
test.each(ATTACKS.filter((a) => !BESIDE.includes(a)))(NAME, soak, 30_000);

test("a chat flood into a receiver whose output nobody reads: lines are skipped and counted, memory bounded", async () => {
  const r = await receiver();
  // From here on nobody reads the receiver's stdout (a paused terminal, a stuck pipe).
  const raw = await rawParley(r.port, { leader: true, words: r.code.replace(/^\d+-/, "") });
  cleanups.push(() => raw.socket.destroy());
  const line = encodeMessage({ kind: "chat", text: "x".repeat(20_000) });
  const burst = Buffer.concat(Array(16).fill(line));
  let maxRss = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10; i++) raw.send(burst);
    await new Promise((done) => raw.socket.write(new Uint8Array(0), () => done(null)));
    maxRss = Math.max(maxRss, processUsage(r.proc.pid).rssBytes);
  }
  // Now read: the skipped lines are counted and said once the output drains.
  let out = "";
  for await (const chunk of r.proc.stdout) {
    out += new TextDecoder().decode(chunk);
    if (out.includes('"type":"chat-skipped"')) break;
  }
  expect(out).toMatch(/"type":"chat-skipped","count":[1-9]/);
  expect(maxRss).toBeLessThan(256 * 1024 * 1024);
}, 60_000);

test("a flood of offers declined at once into a receiver whose output nobody reads: its lines stop, counted", async () => {
  // Bun held every line a stalled stdout could not take: 300k such offers grew a receiver 56 -> 240 MB.
  const r = await receiver();
  const raw = await rawParley(r.port, { leader: true, words: r.code.replace(/^\d+-/, "") });
  cleanups.push(() => raw.socket.destroy());
  // Each offer is declined at once (a checksum this build does not know) and each decline is an
  // event of ours: 40,000 lines of ~150 characters, well past MAX_BACKED_UP_CHARS.
  const OFFERS = 40_000;
  for (let first = 0; first < OFFERS; first += 1_000) {
    const offers = Array.from({ length: 1_000 }, (_, i) =>
      encodeMessage({ kind: "offer", id: 2 * (first + i) + 1, name: "f.bin", size: 1, algo: "nope" }),
    );
    raw.send(Buffer.concat(offers));
  }
  const last = 2 * OFFERS - 1;
  const rejected = (f: { payload: Uint8Array }) => new TextDecoder().decode(f.payload).includes(`"id":${last},`);
  await until("the last offer declined", () => (raw.frames.slice(-8).some(rejected) ? true : undefined), 6_000);
  // Now read: every decline is a line or in an events-skipped count; read until all are.
  let declined = 0;
  let skipped = 0;
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of r.proc.stdout) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line.includes('"code":"E_REJECTED"')) declined++;
      skipped += Number(/"type":"events-skipped","count":(\d+)/.exec(line)?.[1] ?? 0);
    }
    if (declined + skipped >= OFFERS) break;
  }
  // How many lines got out first depends on the pipe and on what this process reads ahead
  // (19,776 of 40,000 here: a bound of OFFERS / 2 held by 1%), so no share of them is asserted.
  expect(skipped, `declines counted instead (${declined} written)`).toBeGreaterThan(0);
  expect(declined + skipped, "every decline written or counted").toBe(OFFERS);
}, 60_000);
