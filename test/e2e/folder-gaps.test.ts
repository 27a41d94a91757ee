/**
 * A folder whose sender cannot send every entry (issue 11 item 18): here the 17th of 17 files
 * is deleted once the folder was announced. The sender tells the receiver which entry it
 * skipped and why; each side ends the folder with a summary counting it, and the receiver
 * does not end as if all went well: it exits 3 (it exited 0 with half the folder).
 */

import { afterEach, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, makeTempDir, PARLEY, seededBytes, startCli } from "./helpers.ts";

afterEach(cleanup);

test("an entry gone before it was sent: both sides end the folder with a summary and exit 3", async () => {
  const folder = join(makeTempDir(), "d");
  mkdirSync(folder);
  for (let i = 0; i < 17; i++)
    writeFileSync(join(folder, `f${String(i).padStart(2, "0")}.bin`), seededBytes(256 * 1024, i + 1));
  const dir = makeTempDir();
  const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const sender = startCli("sender", [
    "send",
    folder,
    "--to",
    match[1] as string,
    // Sixteen entries go out at once, sharing the rate: f16 is opened only when one of them ends,
    // about 4 s after "Sending folder" at 1 MiB/s. At 2 MiB/s that margin was 2 s, and the test failed
    // once in each of two full suites under load 10 (the unlink has to come before that open).
    "--limit-rate",
    "1M",
    "--no-progress",
  ]);
  await sender.waitForLine(/^Sending folder d: /);
  unlinkSync(join(folder, "f16.bin"));
  expect(await sender.exitCode(30_000), sender.describe()).toBe(3);
  expect(await receiver.exitCode(30_000), receiver.describe()).toBe(3);
  // The receiver heard which entry will not come, and why.
  expect(
    receiver.linesMatching(/f16\.bin failed: the peer cancelled it: the sender's file is gone/),
    receiver.stdout,
  ).toHaveLength(1);
  // Each side ends the folder with one summary that counts the entry that did not arrive.
  const receiverSummary = receiver.linesMatching(/^(Folder d is incomplete|Saved folder )/);
  expect(receiverSummary, receiver.stdout).toHaveLength(1);
  expect(receiverSummary[0]).toMatch(/16 of 17 entries arrived|16 entries.* 1 of 17 entries failed/);
  const senderSummary = sender.linesMatching(/^Folder d[ :]/);
  expect(senderSummary, sender.stdout).toHaveLength(1);
  expect(senderSummary[0]).toMatch(/16 of 17 entries were sent|saved 16 entries.* 1 of 17 entries failed/);
}, 60_000);

/**
 * `parley send` of `folder` as a user who cannot read `locked` (mode 0700, another user's). As
 * root (who reads through modes) the sender runs without the capabilities that let it, through
 * setpriv; undefined when that cannot be done here.
 */
function senderLockedOut(folder: string, locked: string, code: string): Cli | undefined {
  const args = ["send", folder, "--to", code, "--no-progress"];
  if (process.getuid?.() !== 0) {
    chmodSync(locked, 0o000);
    return startCli("sender", args);
  }
  if (!Bun.which("setpriv")) return undefined;
  chownSync(locked, 65534, 65534); // nobody's
  chmodSync(locked, 0o700);
  const setpriv = ["setpriv", "--bounding-set=-dac_read_search,-dac_override"];
  return new Cli("sender", args, [...setpriv, ...PARLEY, ...args]);
}

test("a subfolder the sender cannot read is left out and named; the rest of the folder is sent", async () => {
  // Before, the whole command failed at once ("Error: cannot read the folder d/locked: permission
  // denied", exit 3, nothing sent): a home folder with one such folder in it could not be sent.
  const folder = join(makeTempDir(), "d");
  mkdirSync(join(folder, "locked"), { recursive: true });
  writeFileSync(join(folder, "a.txt"), "a");
  writeFileSync(join(folder, "locked", "secret"), "s");
  const dir = makeTempDir();
  const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const sender = senderLockedOut(folder, join(folder, "locked"), match[1] as string);
  if (!sender) {
    if (process.env.PARLEY_REQUIRE_WORMHOLE === "1")
      throw new Error("root here has no setpriv to drop its read capabilities");
    console.warn("\n*** SKIPPED: an unreadable subfolder: root here has no setpriv ***\n");
    return;
  }
  try {
    expect(await sender.exitCode(30_000), sender.describe()).toBe(0);
    expect(await receiver.exitCode(30_000), receiver.describe()).toBe(0);
    expect(sender.lines).toContain("Skipped d/locked: a folder this user cannot read: left out with all it holds.");
    expect(readdirSync(join(dir, "d"))).toEqual(["a.txt"]);
    expect(existsSync(join(dir, "d", "locked"))).toBe(false);
  } finally {
    chmodSync(join(folder, "locked"), 0o700);
  }
}, 60_000);
