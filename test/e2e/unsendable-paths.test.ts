/**
 * Paths that cannot be sent, named on the command line or in the chat. A file whose name is
 * not UTF-8 (byte 0xff): Bun hands Parley the name with U+FFFD for the bad byte, a string that
 * names no file; Parley must say what is wrong with the name (the file exists), not "no such
 * file". A command naming several paths, some of which cannot be sent: each problem is said and
 * nothing is sent (the chat's side of that is in cli-pipes.test.ts). Real processes; the raw
 * bytes go through bash's $'\xff' and straight into the chat's stdin.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, connectedPair, makeTempDir, PARLEY, PARLEY_SHELL } from "./helpers.ts";

afterEach(cleanup);

const NOT_TEXT = "its name is not UTF-8 text, so Parley can neither open it nor name it to the peer (rename it first)";

/** A temp dir holding a file named 0xff ".bin" (written through a Buffer path: raw bytes). */
function undecodableFile(): string {
  const dir = makeTempDir();
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff]), Buffer.from(".bin")]), "hi");
  return dir;
}

test("parley send with a file named by non-UTF-8 bytes says so (not 'no such file'), exit 3", async () => {
  const dir = undecodableFile();
  const human = new Cli("send", [], ["bash", "-c", `exec ${PARLEY_SHELL} send $'\\xff.bin'`], dir);
  expect(await human.exitCode()).toBe(3);
  expect(human.lines).toEqual([`Error: cannot send ${join(dir, "\uFFFD.bin")}: ${NOT_TEXT}.`]);
  expect(human.stderr).toBe("");

  const json = new Cli("send", [], ["bash", "-c", `exec ${PARLEY_SHELL} send --json $'\\xff.bin'`], dir);
  expect(await json.exitCode()).toBe(3);
  expect(json.lines.map((l) => JSON.parse(l))).toEqual([
    { type: "error", code: "E_BAD_NAME", message: `cannot send ${join(dir, "\uFFFD.bin")}: ${NOT_TEXT}` },
  ]);
}, 30_000);

test("parley send through a folder whose name is not UTF-8 names that folder", async () => {
  const dir = makeTempDir();
  const folder = Buffer.concat([Buffer.from(`${dir}/d`), Buffer.from([0xfe])]);
  mkdirSync(folder);
  writeFileSync(Buffer.concat([folder, Buffer.from("/a.txt")]), "a");
  const cli = new Cli("send", [], ["bash", "-c", `exec ${PARLEY_SHELL} send $'d\\xfe/a.txt'`], dir);
  expect(await cli.exitCode()).toBe(3);
  expect(cli.lines).toEqual([
    `Error: cannot send ${join(dir, "d\uFFFD", "a.txt")}: the name of the folder ${join(dir, "d\uFFFD")} is not UTF-8 text, so Parley cannot open it (rename that folder first).`,
  ]);
}, 30_000);

test("chat: transfer of a non-UTF-8 name says so, nothing is offered, the chat goes on", async () => {
  const dir = undecodableFile();
  const { a, b } = await connectedPair();
  a.cli.proc.stdin.write(Buffer.concat([Buffer.from(`transfer ${dir}/`), Buffer.from([0xff]), Buffer.from(".bin\n")]));
  a.cli.proc.stdin.flush();
  const { line } = await a.cli.waitForLine(/^Error: /);
  expect(line).toBe(`Error: cannot send ${join(dir, "\uFFFD.bin")}: ${NOT_TEXT}`);
  a.cli.send("still here");
  await b.cli.waitForLine(/^<alice> still here$/);
  expect(b.cli.linesMatching(/Receiving/)).toEqual([]);
}, 30_000);

test("parley send with an existing file and two that cannot be sent: both said, nothing sent, exit 3", async () => {
  const dir = undecodableFile();
  writeFileSync(join(dir, "ok.txt"), "ok");
  const cli = new Cli("send", [], ["bash", "-c", `exec ${PARLEY_SHELL} send ok.txt nope.txt $'\\xff.bin'`], dir);
  expect(await cli.exitCode()).toBe(3);
  expect(cli.lines).toEqual([
    `Error: no such file: ${join(dir, "nope.txt")}.`,
    `Error: cannot send ${join(dir, "\uFFFD.bin")}: ${NOT_TEXT}.`,
    "Nothing was sent: a command sends all of its paths or none (fix the ones above and try again).",
  ]);
  expect(cli.stdout).not.toMatch(/Listening|code/);
}, 30_000);

test('an empty name (parley send "", transfer "") is said as such, not as \'no such file: <the current folder>\'', async () => {
  const dir = makeTempDir();
  const send = new Cli("send", [], [...PARLEY, "send", ""], dir);
  expect(await send.exitCode()).toBe(3);
  expect(send.lines).toEqual(['Error: an empty name ("") is not a path.']);
  const { a, b } = await connectedPair();
  a.cli.send('transfer ""');
  await a.cli.waitForLine(/^Error: an empty name/);
  a.cli.send("still here");
  await b.cli.waitForLine(/^<alice> still here$/);
  expect(a.cli.linesMatching(/^Error:/)).toEqual(['Error: an empty name ("") is not a path']);
}, 30_000);

/** A /sys file (its size says 4096, it holds a line), or undefined where /sys has none of these. */
function sysFile(): string | undefined {
  const { existsSync } = require("node:fs") as typeof import("node:fs");
  return [
    "/sys/devices/system/cpu/online",
    "/sys/kernel/uevent_seqnum",
    "/sys/kernel/mm/transparent_hugepage/enabled",
  ].find(existsSync);
}

test("send of a /sys file (size 4096, a line in it) is refused up front with the stream hint: exit 3, nothing contacted", async () => {
  const path = sysFile();
  if (!path) {
    console.warn("\n*** SKIPPED: /sys file test (test/e2e/unsendable-paths.test.ts): no known /sys file here ***\n");
    return;
  }
  // Port 9 (discard): nothing listens; a dial would fail with exit 2, not 3.
  const cli = new Cli("sender", ["send", path, "--to", "127.0.0.1:9-arena-surface"]);
  expect(await cli.exitCode(), cli.describe()).toBe(3);
  expect(cli.linesMatching(/^Error: /), cli.describe()).toEqual([
    `Error: ${path} is a kernel file (/proc, /sys) whose size says nothing of its content: send it as a stream, \`cat ${path} | parley send - --name NAME\`.`,
  ]);
}, 20_000);

test("a wildcard nothing matched (the shell passed it on as typed) says so", async () => {
  // Before: "Error: no such file: /dir/*.jpg", which reads as if a file of that name was looked for.
  const dir = makeTempDir();
  writeFileSync(join(dir, "a.png"), "a");
  const cli = new Cli("send", [], ["bash", "-c", `exec ${PARLEY_SHELL} send *.jpg`], dir);
  expect(await cli.exitCode()).toBe(3);
  expect(cli.lines[0]).toBe(
    `Error: no such file: ${join(dir, "*.jpg")} (nothing matched the wildcard; the chat expands *, ? and [...] in the last name of a path only, and not inside quotes).`,
  );
}, 30_000);
