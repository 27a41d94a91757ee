/**
 * `transfer <big folder>` in the chat: the folder is listed a slice at a time, so chat lines go
 * on both ways while it is walked, and `exit` typed meanwhile still offers it first. Before, the
 * walk was synchronous: the chat froze (no line in or out) until every entry had been looked at,
 * and the folder's offers went out ahead of a line typed just after the command.
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { cleanup, connectedPair, makeTempDir } from "./helpers.ts";

afterEach(cleanup);

/** A folder of `dirs` x `files` empty files: listing it takes a while (an lstat each), sending it little. */
function bigFolder(dirs: number, files: number): string {
  const root = join(makeTempDir(), "many");
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < files; f++) closeSync(openSync(join(dir, `f${f}`), "w"));
  }
  return root;
}

test("chat: while a folder of 60,000 files is listed, lines flow both ways; it is offered after them", async () => {
  const entries = 60 * 1000;
  const folder = bigFolder(60, 1000);
  const { a, b } = await connectedPair();
  a.cli.send(`transfer ${folder}`);
  a.cli.send("typed while listing");
  const heard = await b.cli.waitForLine(/^<alice> typed while listing$/);
  b.cli.send("answered while listing");
  const answer = await a.cli.waitForLine(/^<bob> answered while listing$/);
  const offered = await b.cli.waitForLine(new RegExp(`^Receiving folder many \\(${entries} entries, `), 60_000);
  const sending = await a.cli.waitForLine(new RegExp(`^Sending folder many \\(${entries} entries, `), 60_000);
  // The line typed after the command reached the peer before the folder's offers (it was not
  // held behind the walk), and the peer's answer came in while the walk still went on.
  expect(heard.index, b.cli.describe()).toBeLessThan(offered.index);
  expect(answer.index, a.cli.describe()).toBeLessThan(sending.index);
}, 90_000);

test("chat: exit typed while a folder is listed offers the folder first, then waits for it and leaves", async () => {
  const folder = bigFolder(5, 400);
  const { a, b } = await connectedPair();
  a.cli.send(`transfer ${folder}`);
  a.cli.send("exit");
  await b.cli.waitForLine(/^Saved folder .+many: 2000 entries, each XXH3-64 checksum matched\.$/, 60_000);
  expect(await a.cli.exitCode(), a.cli.describe()).toBe(0);
  expect(await b.cli.exitCode(), b.cli.describe()).toBe(0);
}, 90_000);
