/**
 * "The transfer command is done. ..." is said once per command, with the command's total: a
 * command of several files and folders says it once on each side when its last transfer has
 * ended (the sender after its summary line), not after each file; a command of one file says
 * it after that file, as before.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, connectedPair, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const SUMMARY = /^All \d+ transfers of this command( \(.*\))? have ended/;
const SENT = /^The transfer command is done\. The sender has sent/;
const RECEIVED = /^The transfer command is done\. The receiver has received/;

async function receiverCode(dir: string) {
  const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  return { receiver, code: match[1] as string };
}

test(
  "parley send with two files and a folder: each file's checksum line, then once the command's totals on each side",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, "a.txt"), "aaa");
    writeFileSync(join(src, "b.txt"), "bbbb");
    mkdirSync(join(src, "dir"));
    writeFileSync(join(src, "dir", "c.txt"), "cc");
    writeFileSync(join(src, "dir", "d.txt"), "d");
    const { receiver, code } = await receiverCode(makeTempDir());
    const sender = startCli("sender", [
      "send",
      join(src, "a.txt"),
      join(src, "b.txt"),
      join(src, "dir"),
      "--to",
      code,
      "--no-progress",
    ]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.exitCode(), receiver.describe()).toBe(0);
    // Each file and the folder still get their checksum lines.
    expect(sender.linesMatching(/: the receiver saved it and its XXH3-64 checksum matched/)).toHaveLength(2);
    expect(sender.linesMatching(/^Folder dir: the receiver saved 2 entries/)).toHaveLength(1);
    expect(receiver.linesMatching(/^Saved .*; XXH3-64 checksum matched/)).toHaveLength(2);
    expect(receiver.linesMatching(/^Saved folder /)).toHaveLength(1);
    // The totals once a side, with the command's total, last.
    expect(sender.linesMatching(SENT)).toEqual([
      "The transfer command is done. The sender has sent a total of 10 bytes to the receiver.",
    ]);
    expect(sender.linesMatching(SUMMARY)).toEqual([
      // Three paths typed: the line said "All 4 transfers" without saying why.
      "All 4 transfers of this command (2 of them entries of folders) have ended: 4 saved by the receiver.",
    ]);
    const saidLast = (lines: string[], re: RegExp) => lines.findLastIndex((l) => re.test(l));
    expect(saidLast(sender.lines, SENT), sender.stdout).toBe(saidLast(sender.lines, SUMMARY) + 1);
    expect(saidLast(sender.lines, SENT), sender.stdout).toBeGreaterThan(saidLast(sender.lines, /checksum matched/));
    expect(receiver.linesMatching(RECEIVED)).toEqual([
      "The transfer command is done. The receiver has received a total of 10 bytes from the sender.",
    ]);
    expect(saidLast(receiver.lines, RECEIVED), receiver.stdout).toBeGreaterThan(
      saidLast(receiver.lines, /checksum matched/),
    );
    expect(receiver.linesMatching(SUMMARY)).toEqual([]);
  },
  TEST_MS,
);

test(
  "one file: its totals line and checksum line on each side, no summary line",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, "a.txt"), "aaa");
    const { receiver, code } = await receiverCode(makeTempDir());
    const sender = startCli("sender", ["send", join(src, "a.txt"), "--to", code, "--no-progress"]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    await receiver.exitCode();
    expect(sender.linesMatching(SUMMARY)).toEqual([]);
    expect(sender.linesMatching(SENT)).toEqual([
      "The transfer command is done. The sender has sent a total of 3 bytes to the receiver.",
    ]);
    expect(receiver.linesMatching(RECEIVED)).toEqual([
      "The transfer command is done. The receiver has received a total of 3 bytes from the sender.",
    ]);
  },
  TEST_MS,
);

test(
  "chat: transfer of two files ends with a summary line and the command's totals on each side, said once",
  async () => {
    const { a, b } = await connectedPair();
    const src = makeTempDir();
    writeFileSync(join(src, "x.txt"), "xx");
    writeFileSync(join(src, "y.txt"), "yyy");
    a.cli.send(`transfer ${join(src, "x.txt")} ${join(src, "y.txt")}`);
    const { line } = await a.cli.waitForLine(SUMMARY);
    expect(line).toBe("All 2 transfers of this command have ended: 2 saved by the receiver.");
    await a.cli.waitForLine(SENT);
    await b.cli.waitForLine(RECEIVED);
    // A second command of one file: its own line, after it.
    a.cli.send(`transfer ${join(src, "x.txt")}`);
    await b.cli.waitForLine(/^Saved .*x \(1\)\.txt/);
    await a.cli.waitForLine(/: the receiver saved it as x \(1\)\.txt/);
    expect(a.cli.linesMatching(SENT)).toEqual([
      "The transfer command is done. The sender has sent a total of 5 bytes to the receiver.",
      "The transfer command is done. The sender has sent a total of 2 bytes to the receiver.",
    ]);
    expect(b.cli.linesMatching(RECEIVED)).toEqual([
      "The transfer command is done. The receiver has received a total of 5 bytes from the sender.",
      "The transfer command is done. The receiver has received a total of 2 bytes from the sender.",
    ]);
  },
  TEST_MS,
);
