/**
 * `transfer <big folder>` in the chat: the folder is listed a slice at a time, so chat lines go
 * on both ways while it is walked, and `exit` typed meanwhile still offers it first. Before, the
 * walk was synchronous: the chat froze (no line in or out) until every entry had been looked at,
 * and the folder's offers went out ahead of a line typed just after the command. And a folder
 * with thousands of links (a home folder, /usr: 1,891) names the first ten, then counts the rest.
 */

import { afterAll, afterEach, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, connectedPair, makeTempDir, startCli } from "./helpers.ts";
import { mountTmpfs } from "./tmpfs.ts";

afterEach(cleanup);

// The big folders are made on a tmpfs of their own where one can be mounted (root): 60,000
// empty files took 7.6 s to make on this machine's ext4 /tmp (15-18 s beside another test run),
// 0.46 s on a tmpfs, and what is tested, the walk (an lstat each), costs the same on both
// (245-250 ms against 254-370 ms for the 60,000). Elsewhere: the temporary folder, as before.
const mount = mountTmpfs("parley-listing-", "size=64m");
afterAll(() => {
  if (typeof mount !== "string") mount.release();
});

/** A folder of `dirs` x `files` empty files: listing it takes a while (an lstat each), sending it little. */
function bigFolder(dirs: number, files: number): string {
  const root = join(typeof mount === "string" ? makeTempDir() : mkdtempSync(join(mount.path, "big-")), "many");
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
  const offered = await b.cli.waitForLine(new RegExp(`^Receiving folder many: ${entries} entries, `), 60_000);
  const sending = await a.cli.waitForLine(new RegExp(`^Sending folder many: ${entries} entries, `), 60_000);
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

test("parley send of a folder with many links names the first 10 skipped and counts the rest in one line", async () => {
  const folder = join(makeTempDir(), "links");
  mkdirSync(folder);
  writeFileSync(join(folder, "real.txt"), "real");
  for (let i = 0; i < 25; i++) symlinkSync("/etc/passwd", join(folder, `l${String(i).padStart(2, "0")}`));
  const receiver = startCli("receiver", ["receive", "--dir", makeTempDir(), "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const sender = startCli("sender", ["send", folder, "--to", match[1] as string, "--no-progress"]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  const said = `${sender.lines.join("\n")}\n${sender.stderr}`.split("\n").filter((l) => l.startsWith("Skipped "));
  expect(said).toEqual([
    ...Array.from({ length: 10 }, (_, i) => `Skipped links/l0${i}: a symbolic link (links are not followed).`),
    "Skipped 15 more entries: 15 symbolic links.",
  ]);
  expect(await receiver.exitCode()).toBe(0);
}, 30_000);

/**
 * With --json the skipped entries were only the human lines on stderr: a script reading the
 * events saw the folder's entries saved and exit 0, and nothing of what the folder lacked
 * (newuser31). Each now has a `skipped` event, past the ten the lines name too, after `connected`.
 */
test("parley send --json: each skipped entry of a folder is a `skipped` event (path, reason), the lines on stderr as before", async () => {
  const folder = join(makeTempDir(), "mixed");
  mkdirSync(folder);
  writeFileSync(join(folder, "real.txt"), "real");
  for (let i = 0; i < 11; i++) symlinkSync("/etc/passwd", join(folder, `l${String(i).padStart(2, "0")}`));
  expect(Bun.spawnSync(["mkfifo", join(folder, "pipe")]).exitCode).toBe(0);
  writeFileSync(Buffer.concat([Buffer.from(`${folder}/caf`), Buffer.from([0xff]), Buffer.from(".txt")]), "x");
  const receiver = startCli("receiver", ["receive", "--dir", makeTempDir(), "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const sender = startCli("sender", ["send", folder, "--to", match[1] as string, "--json"]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  const events = sender.lines.map((line) => JSON.parse(line) as { type: string; path?: string; reason?: string });
  const skipped = events.filter((e) => e.type === "skipped");
  expect(skipped.map(({ path, reason }) => `${path} ${reason}`).sort()).toEqual(
    [
      ...Array.from({ length: 11 }, (_, i) => `mixed/l${String(i).padStart(2, "0")} link`),
      "mixed/pipe fifo",
      "mixed/caf\ufffd.txt name",
    ].sort(),
  );
  for (const event of skipped) expect(Object.keys(event).sort()).toEqual(["path", "reason", "type"]);
  expect(events.findIndex((e) => e.type === "connected")).toBeLessThan(events.findIndex((e) => e.type === "skipped"));
  expect(sender.stderr.split("\n").filter((l) => l.startsWith("Skipped "))).toHaveLength(11);
  expect(await receiver.exitCode()).toBe(0);
}, 30_000);
