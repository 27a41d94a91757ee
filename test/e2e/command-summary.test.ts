/**
 * A command that sends several files ends with one summary line, after the per-file pairs
 * (issue 11 item 27); a command that sends one file prints only its pair.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, connectedPair, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const SUMMARY = /^All \d+ transfers of this command have ended/;

async function receiverCode(dir: string) {
  const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  return { receiver, code: match[1] as string };
}

test(
  "parley send with two files and a folder: the pairs, then one summary line last",
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
    expect(sender.linesMatching(/^The transfer command is done\. The sender has sent/).length).toBe(3); // 2 files, 1 folder
    expect(sender.linesMatching(SUMMARY)).toEqual([
      "All 4 transfers of this command have ended: 4 saved by the receiver; the sender has sent a total of 10 bytes.",
    ]);
    const summaryAt = sender.lines.findIndex((l) => SUMMARY.test(l));
    const lastPairAt = sender.lines.findLastIndex((l) => l.startsWith("The transfer command is done."));
    expect(summaryAt, sender.stdout).toBeGreaterThan(lastPairAt);
    expect(receiver.linesMatching(SUMMARY)).toEqual([]); // the receiver does not know the sender's commands
  },
  TEST_MS,
);

test(
  "one file: only its pair, no summary line",
  async () => {
    const src = makeTempDir();
    writeFileSync(join(src, "a.txt"), "aaa");
    const { receiver, code } = await receiverCode(makeTempDir());
    const sender = startCli("sender", ["send", join(src, "a.txt"), "--to", code, "--no-progress"]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    await receiver.exitCode();
    expect(sender.linesMatching(SUMMARY)).toEqual([]);
  },
  TEST_MS,
);

test(
  "chat: transfer of two files ends with a summary line",
  async () => {
    const { a } = await connectedPair();
    const src = makeTempDir();
    writeFileSync(join(src, "x.txt"), "xx");
    writeFileSync(join(src, "y.txt"), "yyy");
    a.cli.send(`transfer ${join(src, "x.txt")} ${join(src, "y.txt")}`);
    const { line } = await a.cli.waitForLine(SUMMARY);
    expect(line).toBe(
      "All 2 transfers of this command have ended: 2 saved by the receiver; the sender has sent a total of 5 bytes.",
    );
  },
  TEST_MS,
);
