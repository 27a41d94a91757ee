/**
 * bench/raw-sealed-both-ways.ts, the ceiling of both ways: two processes, each sending its own
 * file and storing the other's on one connection. Files of different sizes (not whole records,
 * one empty) must each arrive whole, and each side's totals must name what it sent and got: the
 * end record (a record of no file bytes) is what ends each direction. Asserts bytes, never speed.
 */

import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LineReader } from "../../bench/lib/procs.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SCRIPT = "bench/raw-sealed-both-ways.ts";
const tempDir = tempDirsRemovedAfterEach("parley-raw-sealed-both-");

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65536, n)));
  return bytes;
}

const spawn = (args: string[]) =>
  Bun.spawn([process.execPath, SCRIPT, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });

async function bothWays(listenBytes: Uint8Array, connectBytes: Uint8Array) {
  const dir = tempDir();
  const [inL, inC, outL, outC] = ["in-l", "in-c", "out-l", "out-c"].map((n) => join(dir, n)) as string[];
  writeFileSync(inL as string, listenBytes);
  writeFileSync(inC as string, connectBytes);
  const listener = spawn(["listen", inL as string, outL as string]);
  const lines = new LineReader(listener.stdout);
  const [, port] = await lines.waitFor(/^PORT (\d+)/);
  const connector = spawn(["connect", port as string, inC as string, outC as string]);
  // A side that never ends is the failure: stopped here, so it fails by its exit code.
  const timer = setTimeout(() => {
    listener.kill("SIGKILL");
    connector.kill("SIGKILL");
  }, 30_000);
  const [codeL, codeC, outTextC] = await Promise.all([
    listener.exited,
    connector.exited,
    new Response(connector.stdout).text(),
  ]);
  clearTimeout(timer);
  const [listenDone] = codeL === 0 ? await lines.waitFor(/^DONE .*/) : [];
  return {
    codes: [codeL, codeC],
    listenDone,
    connectDone: outTextC.trim(),
    gotByListener: readFileSync(outL as string),
    gotByConnector: readFileSync(outC as string),
  };
}

test("each side's file arrives whole at the other, with the totals each side prints", async () => {
  const a = randomBytes(3 * 256 * 1024 + 12_345);
  const b = randomBytes(700_001);
  const run = await bothWays(a, b);
  expect(run.codes).toEqual([0, 0]);
  expect(Buffer.compare(run.gotByConnector, a)).toBe(0);
  expect(Buffer.compare(run.gotByListener, b)).toBe(0);
  const [, sentL, gotL] = /^DONE SENT (\S+ \S+) GOT (\S+ \S+)$/.exec(run.listenDone ?? "") ?? [];
  const [, sentC, gotC] = /^DONE SENT (\S+ \S+) GOT (\S+ \S+)$/.exec(run.connectDone) ?? [];
  expect(sentL?.split(" ")[0]).toBe(String(a.length));
  expect(sentC?.split(" ")[0]).toBe(String(b.length));
  expect(gotC).toBe(sentL);
  expect(gotL).toBe(sentC);
}, 60_000);

test("an empty file one way ends that direction at once; the other still comes whole", async () => {
  const b = randomBytes(256 * 1024);
  const run = await bothWays(new Uint8Array(0), b);
  expect(run.codes).toEqual([0, 0]);
  expect(run.gotByConnector.length).toBe(0);
  expect(Buffer.compare(run.gotByListener, b)).toBe(0);
  expect(run.connectDone).toMatch(/^DONE SENT 262144 \S+ GOT 0 \S+$/);
}, 60_000);
