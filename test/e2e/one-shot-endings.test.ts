/**
 * How `parley receive` ends when its sender vanishes mid-transfer (SIGKILL): the file's failed
 * line says the connection was lost once, not again on an `Error:` line after it; and a
 * `--stdout` receiver, which cannot resume (the bytes went to its output, nothing is kept), is
 * not told that sending again resumes the file. And how `parley send` ends when its receiver
 * vanishes: the resume hint only where a later run can resume (its resume secret stored).
 */

import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { markAsParleyPart } from "../integration/peers.ts";
import { Cli, cleanup, makeTempDir, PARLEY, randomFile, seededBytes, startCli } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const MIB = 1024 * 1024;

/**
 * Starts `receive` with `args`, a rate-limited sender of 16 MiB to it, and kills the sender
 * once `bytesArrived`; resolves with the receiver (exited 3) and its human lines.
 */
async function senderVanishes(
  args: readonly string[],
  bytesArrived: (receiver: Cli) => boolean,
): Promise<{ receiver: Cli; human: () => string[] }> {
  const receiver = startCli("receiver", ["receive", "--no-progress", ...args]);
  // With --stdout the file has stdout: the human lines are on stderr.
  const human = () => (args.includes("--stdout") ? receiver.stderr.split("\n") : receiver.lines);
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 1000 && !human().some((l) => re.test(l)); i++) await Bun.sleep(10);
    const line = human().find((l) => re.test(l));
    if (line === undefined) throw new Error(`no line matching ${re}\n${receiver.describe()}`);
    return line;
  };
  const code = (await waitFor(/· code \d+-[a-z]+-[a-z]+$/)).replace(/.* · code /, "");
  const src = randomFile("cut.bin", 16 * MIB);
  const sender = startCli("sender", ["send", src.path, "--to", code, "--limit-rate", "2M", "--no-progress"]);
  await waitFor(/^Receiving #1 cut\.bin/);
  for (let i = 0; i < 500 && !bytesArrived(receiver); i++) await Bun.sleep(10);
  sender.kill("SIGKILL");
  expect(await receiver.exitCode(), receiver.describe()).toBe(3);
  return { receiver, human };
}

test(
  "receive: a sender that vanishes mid-file is said once (the file's line), with the resume hint",
  async () => {
    const dir = makeTempDir();
    const part = join(dir, "cut.bin.part");
    const { receiver, human } = await senderVanishes(["--dir", dir], () => existsSync(part) && statSync(part).size > 0);
    const said = human().filter((l) => /connection lost|lost the connection/i.test(l));
    expect(said, receiver.describe()).toHaveLength(1);
    expect(said[0]).toMatch(
      /^Receiving #1 cut\.bin failed: connection lost: .*; the sender sending it again resumes it\. \d+ of its \d+ bytes arrived\.$/,
    );
    expect(receiver.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  },
  TEST_MS,
);

test(
  "receive --stdout: a sender that vanishes mid-file is said once, with no resume hint (nothing is kept)",
  async () => {
    // The file's bytes are the receiver's stdout here.
    const { receiver, human } = await senderVanishes(["--stdout"], (r) => r.stdout.length > 0);
    const said = human().filter((l) => /connection lost|lost the connection/i.test(l));
    expect(said, receiver.describe()).toHaveLength(1);
    expect(said[0]).toMatch(/^Receiving #1 cut\.bin failed: connection lost: [^(]*(\([^)]*\))?[^(]*\.$/);
    expect(receiver.stderr).not.toContain("resumes");
  },
  TEST_MS,
);

test(
  "receive: a folder cut by a vanished sender ends with its summary saying that sending it again continues it, and it does",
  async () => {
    const dir = makeTempDir();
    const src = join(makeTempDir(), "album");
    mkdirSync(src);
    const bytes = [0, 1, 2, 3].map((i) => seededBytes(4 * MIB, i + 1));
    for (const [i, b] of bytes.entries()) writeFileSync(join(src, `p${i}.bin`), b);
    const receiver = startCli("receiver", ["receive", "--no-progress", "--dir", dir]);
    const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const sender = startCli("sender", ["send", src, "--to", match[1] as string, "--limit-rate", "2M", "--no-progress"]);
    await receiver.waitForLine(/^Receiving folder album/);
    await Bun.sleep(600);
    sender.kill("SIGKILL");
    expect(await receiver.exitCode(), receiver.describe()).toBe(3);
    const [summary] = receiver.linesMatching(/^Folder album/);
    expect(summary, receiver.describe()).toMatch(/\. The sender sending the folder again continues it\.$/);
    // As it says: the same sender sends it again, into the same folder.
    const again = startCli("receiver", ["receive", "--no-progress", "--dir", dir]);
    const second = await again.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const resend = startCli("sender", ["send", src, "--to", second.match[1] as string, "--no-progress"]);
    expect(await resend.exitCode(), resend.describe()).toBe(0);
    expect(await again.exitCode(), again.describe()).toBe(0);
    for (const [i, b] of bytes.entries()) expect(readFileSync(join(dir, "album", `p${i}.bin`)).equals(b)).toBe(true);
    expect(readdirSync(dir)).toEqual(["album"]);
  },
  TEST_MS,
);

/** `receive --ask` into `dir` and a sender of `path` (asked.bin, 1024 bytes), once the receiver's question shows. */
async function askedAbout(dir: string, path: string) {
  const receiver = startCli("receiver", ["receive", "--ask", "--no-progress", "--dir", dir]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const sender = startCli("sender", ["send", path, "--to", match[1] as string, "--no-progress"]);
  await receiver.waitForStderr(/Accept asked\.bin \(1\.0 KiB, 1024 bytes\)\? \[y\/N\] /);
  return { receiver, sender };
}

test(
  "receive --ask interrupted while its question waits: the receiver promises no resume; its sender, never answered, only if the receiver kept part of it",
  async () => {
    const dir = makeTempDir();
    const src = randomFile("asked.bin", 1024);
    const { receiver, sender } = await askedAbout(dir, src.path);
    receiver.kill("SIGINT");
    expect(await receiver.exitCode(), receiver.describe()).toBe(130);
    expect(await sender.exitCode(), sender.describe()).toBe(3);
    const [line] = receiver.linesMatching(/^Receiving #1 asked\.bin failed/);
    expect(line, receiver.describe()).toBe("Receiving #1 asked.bin failed: interrupted.");
    expect(readdirSync(dir)).toEqual([]);
    // The offer was never answered: the sender cannot know whether the receiver holds an earlier
    // try's .part of it (review22), so it promises the resume only on that condition.
    const [sent] = sender.linesMatching(/^Sending #1 asked\.bin failed/);
    expect(sent, sender.describe()).toBe(
      "Sending #1 asked.bin failed: the peer left (interrupted); sending it again resumes it if the receiver kept part of it.",
    );
  },
  TEST_MS,
);

test(
  "receive --ask whose question waits when its sender goes: with an earlier try's .part of the file there, the resume clause (review22)",
  async () => {
    const dir = makeTempDir();
    const src = randomFile("asked.bin", 1024);
    // An earlier try's .part of this file, as an interrupted transfer leaves it (marked for its sender).
    const part = join(dir, "asked.bin.part");
    writeFileSync(part, readFileSync(src.path).subarray(0, 512));
    markAsParleyPart(part, src.path);
    const { receiver, sender } = await askedAbout(dir, src.path);
    sender.kill("SIGINT");
    expect(await sender.exitCode(), sender.describe()).toBe(130);
    const { line } = await receiver.waitForLine(/^Receiving #1 asked\.bin failed/);
    // The old receiver said no clause here: nothing of it was held in this run (no sink).
    expect(line).toBe(
      "Receiving #1 asked.bin failed: the peer left (interrupted); the sender sending it again resumes it.",
    );
    expect(statSync(part).size).toBe(512);
    receiver.kill("SIGKILL");
  },
  TEST_MS,
);

test.each(["SIGKILL", "SIGINT"] as const)(
  "receive --stdout ended by %s mid-file: its sender promises no resume either (its HELLO says it keeps nothing)",
  async (signal) => {
    const receiver = startCli("receiver", ["receive", "--stdout", "--no-progress"]);
    await receiver.waitForStderr(/· code \d+-[a-z]+-[a-z]+$/m);
    const code = (/· code (\d+-[a-z]+-[a-z]+)$/m.exec(receiver.stderr) as RegExpExecArray)[1] as string;
    const src = randomFile("cut.bin", 16 * MIB);
    const sender = startCli("sender", ["send", src.path, "--to", code, "--limit-rate", "2M", "--no-progress"]);
    for (let i = 0; i < 1000 && receiver.stdout.length === 0; i++) await Bun.sleep(10);
    expect(receiver.stdout.length, receiver.describe()).toBeGreaterThan(0);
    receiver.kill(signal);
    expect(await sender.exitCode(), sender.describe()).toBe(3);
    const [line] = sender.linesMatching(/^Sending #1 cut\.bin failed/);
    expect(line, sender.describe()).toBeDefined();
    expect(line).not.toContain("resumes");
  },
  TEST_MS,
);

test(
  "receive --stdout killed mid-file while the chat sends to it: the chat's line promises no resume either",
  async () => {
    const receiver = startCli("receiver", ["receive", "--stdout", "--no-progress"]);
    await receiver.waitForStderr(/· code \d+-[a-z]+-[a-z]+$/m);
    const code = (/· code (\d+-[a-z]+-[a-z]+)$/m.exec(receiver.stderr) as RegExpExecArray)[1] as string;
    const src = randomFile("cut.bin", 16 * MIB);
    const chat = startCli("chat", ["--connect", code, "--limit-rate", "2M", "--no-progress", "--dir", makeTempDir()]);
    await chat.waitForLine(/^Connected to /);
    chat.send(`transfer ${src.path}`);
    for (let i = 0; i < 1000 && receiver.stdout.length === 0; i++) await Bun.sleep(10);
    expect(receiver.stdout.length, receiver.describe()).toBeGreaterThan(0);
    receiver.kill("SIGKILL");
    const { line } = await chat.waitForLine(/^Sending #1 cut\.bin failed/);
    expect(line, chat.describe()).toMatch(/connection lost/);
    expect(line, chat.describe()).not.toContain("resumes");
    expect(await chat.exitCode(), chat.describe()).toBe(1);
  },
  TEST_MS,
);

/** `send` of 16 MiB at 2 MiB/s with XDG_STATE_HOME=`state`, its receiver killed mid-file: the sender's failed line. */
async function receiverVanishes(state: string): Promise<string> {
  const dir = makeTempDir();
  const receiver = startCli("receiver", ["receive", "--no-progress", "--dir", dir]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const src = randomFile("cut.bin", 16 * MIB);
  const args = ["send", src.path, "--to", match[1] as string, "--limit-rate", "2M", "--no-progress"];
  const sender = new Cli("sender", args, ["env", `XDG_STATE_HOME=${state}`, ...PARLEY, ...args]);
  const part = join(dir, "cut.bin.part");
  for (let i = 0; i < 1000 && !(existsSync(part) && statSync(part).size > 0); i++) await Bun.sleep(10);
  expect(existsSync(part), receiver.describe()).toBe(true);
  receiver.kill("SIGKILL");
  expect(await sender.exitCode(), sender.describe()).toBe(3);
  const [line] = sender.linesMatching(/^Sending #1 cut\.bin failed/);
  return line ?? sender.describe();
}

test(
  "send: a receiver that vanishes mid-file gets the resume hint only where the resume secret is stored (else a later run cannot resume)",
  async () => {
    // Stored (a state folder of our own): sending it again resumes it, as it says.
    expect(await receiverVanishes(makeTempDir())).toMatch(
      /^Sending #1 cut\.bin failed: connection lost: .*; sending it again resumes it\. \d+ of its \d+ bytes were sent, \d+ of them confirmed by the receiver\.$/,
    );
    // A file where the state folder should be: the secret is this run's alone (a warning says so at the start).
    const blocked = join(makeTempDir(), "not-a-folder");
    writeFileSync(blocked, "");
    const line = await receiverVanishes(blocked);
    expect(line).toMatch(/^Sending #1 cut\.bin failed: connection lost: /);
    expect(line).not.toContain("resumes it");
  },
  TEST_MS,
);

/** The JSON events of a --json run's stdout. */
function jsonEvents(cli: Cli): Array<Record<string, unknown> & { type: string }> {
  return cli.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { type: string });
}

test(
  "one close, one word: send/receive end with the same 'Connection closed (...)' word on both sides (done, or the signal's)",
  async () => {
    // The sender is done: both said "done" (the sender) and "exit" (the receiver, the BYE's word).
    const dir = makeTempDir();
    const receiver = startCli("receiver", ["receive", "--no-progress", "--dir", dir]);
    const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const small = randomFile("small.bin", 1000);
    const sender = startCli("sender", ["send", small.path, "--to", match[1] as string, "--no-progress"]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.exitCode(), receiver.describe()).toBe(0);
    expect(sender.lines.at(-1), sender.describe()).toBe("Connection closed (done).");
    expect(receiver.lines.at(-1), receiver.describe()).toBe("Connection closed (done).");

    // SIGTERM mid-file: the sender said "interrupted", its receiver "terminated". Under --json, the bye events.
    const receiver2 = startCli("receiver", ["receive", "--json", "--dir", makeTempDir()]);
    const { line } = await receiver2.waitForLine(/"type":"listening"/);
    const code = (JSON.parse(line) as { code: string }).code;
    const big = randomFile("cut.bin", 16 * MIB);
    const args = ["send", big.path, "--to", code, "--limit-rate", "2M", "--no-progress"];
    const sender2 = startCli("sender", args);
    await sender2.waitForLine(/^Sending #1 cut\.bin/);
    await receiver2.waitForLine(/"type":"progress"/);
    sender2.kill("SIGTERM");
    expect(await sender2.exitCode(), sender2.describe()).toBe(143);
    expect(await receiver2.exitCode(), receiver2.describe()).toBe(3);
    expect(sender2.lines.at(-1), sender2.describe()).toBe("Connection closed (terminated).");
    expect(jsonEvents(receiver2).filter((e) => e.type === "bye")).toEqual([{ type: "bye", reason: "terminated" }]);
  },
  TEST_MS,
);

test(
  "a folder cut while receive --ask still asks about it: both sides say it is incomplete, and promise no continuing (nothing of it is kept)",
  async () => {
    const dir = makeTempDir();
    const root = join(makeTempDir(), "album");
    mkdirSync(root);
    for (let i = 0; i < 20; i++) writeFileSync(join(root, `${String(i).padStart(2, "0")}.txt`), `photo ${i}`);
    const receiver = startCli("receiver", ["receive", "--ask", "--no-progress", "--dir", dir]);
    const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const sender = startCli("sender", ["send", root, "--to", match[1] as string, "--no-progress"]);
    // 16 of its 20 entries are offered while the question waits; 4 never are.
    await receiver.waitForStderr(/Accept folder album \(20 entries, 150 bytes\)\? \[y\/N\] /);
    sender.kill("SIGINT");
    expect(await sender.exitCode(), sender.describe()).toBe(130);
    expect(await receiver.exitCode(), receiver.describe()).toBe(3);
    // Before: "... 0 of its 150 bytes arrived. The sender sending the folder again continues it.", of a folder never made.
    expect(receiver.linesMatching(/^Folder album/), receiver.describe()).toEqual([
      "Folder album is incomplete: 0 of 20 entries arrived, 16 failed, 4 never came; 0 of its 150 bytes arrived.",
    ]);
    expect(sender.linesMatching(/^Folder album/), sender.describe()).toEqual([
      "Folder album is incomplete: 0 of 20 entries were sent, 16 failed, 4 never came; 0 of its 150 bytes were sent.",
    ]);
    expect(readdirSync(dir)).toEqual([]);
  },
  TEST_MS,
);
