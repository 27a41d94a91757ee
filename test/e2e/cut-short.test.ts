/**
 * Transfers cut short by a Ctrl-C, real processes on both sides: a single file or folder says
 * how many of its bytes had moved (the receiver's figure is what its `.part` files hold), a
 * command of several says it after its total of what was saved, and under --json a command of
 * several cut short is an event on both sides (E_COMMAND_INCOMPLETE), as its human line "The
 * transfer command is incomplete: ..." is.
 */

import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Cli,
  cleanup,
  jsonReceiver,
  makeTempDir,
  randomFile,
  seededBytes,
  startCli,
  startPeer,
} from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 40_000;
const MIB = 1024 * 1024;

/** A folder of `entries` files of 1 MiB: more than the 16 offers in flight, so some never come. */
function folderOf(entries: number): string {
  const src = join(makeTempDir(), "album");
  mkdirSync(src);
  for (let i = 0; i < entries; i++) writeFileSync(join(src, `p${10 + i}.bin`), seededBytes(MIB, i + 1));
  return src;
}

/** A folder `album` of three files of 10 MiB, p0.bin to p2.bin. */
function albumOfThree(): string {
  const src = join(makeTempDir(), "album");
  mkdirSync(src);
  for (let i = 0; i < 3; i++) writeFileSync(join(src, `p${i}.bin`), seededBytes(10 * MIB, i + 1));
  return src;
}

/** Bytes in the `.part` files of `folder` (0 while it is not there). */
function partBytes(folder: string): number {
  if (!existsSync(folder)) return 0;
  let sum = 0;
  for (const name of readdirSync(folder)) if (name.endsWith(".part")) sum += statSync(join(folder, name)).size;
  return sum;
}

/** The size of `path`, 0 while it is not there. */
function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/**
 * The sender's '... N of its M bytes were sent, K of them confirmed by the receiver' (`said`'s
 * groups 1 to 3) for what the receiver `kept`: it sent at least that, M is `size`, and of it the
 * receiver confirmed no more than it kept, and not nothing.
 */
function expectSentAndConfirmed(sender: Cli, said: RegExpMatchArray | null | undefined, kept: number, size: number) {
  expect(said, sender.describe()).not.toBeNull();
  expect(Number(said?.[1])).toBeGreaterThanOrEqual(kept);
  expect(Number(said?.[2])).toBe(size);
  expect(Number(said?.[3]), sender.describe()).toBeLessThanOrEqual(kept);
  expect(Number(said?.[3]), sender.describe()).toBeGreaterThan(0);
}

/** A receiver into `dir` (human lines, no bars) and a sender of `what` to its code with `args`. */
async function receiverAndSender(
  dir: string,
  what: string,
  args: readonly string[],
): Promise<{ receiver: Cli; sender: Cli }> {
  const receiver = startCli("receiver", ["receive", "--no-progress", "--dir", dir]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  return { receiver, sender: startCli("sender", ["send", what, "--to", match[1] as string, ...args]) };
}

/** Waits until `path` holds more than `bytes`, then interrupts `cli` (exit 130). */
async function interruptOnceHeld(cli: Cli, path: string, bytes: number): Promise<void> {
  for (let i = 0; i < 1500 && sizeOf(path) <= bytes; i++) await Bun.sleep(10);
  expect(sizeOf(path), cli.describe()).toBeGreaterThan(bytes);
  cli.kill("SIGINT");
  expect(await cli.exitCode(), cli.describe()).toBe(130);
}

/**
 * Stops `cli` (SIGSTOP) and waits until the kernel has every thread of it stopped (state T): a
 * signal lands at the process's next turn on a CPU, so a .part read right after kill() could
 * still grow (the receiver took the bytes in flight: the sender had sent no more than it held).
 */
async function stopped(cli: Cli): Promise<void> {
  cli.kill("SIGSTOP");
  const dir = `/proc/${cli.proc.pid}/task`;
  const allStopped = () =>
    readdirSync(dir).every((t) => {
      const stat = readFileSync(`${dir}/${t}/stat`, "utf8");
      return stat[stat.lastIndexOf(")") + 2] === "T";
    });
  for (let i = 0; i < 1000 && !allStopped(); i++) await Bun.sleep(2);
  expect(allStopped(), cli.describe()).toBe(true);
}

/** Waits until `folder`'s `.part` files hold more than `bytes` (`cli`'s output shown if they never do). */
async function untilArrived(folder: string, bytes: number, cli: Cli): Promise<void> {
  for (let i = 0; i < 1500 && partBytes(folder) <= bytes; i++) await Bun.sleep(10);
  expect(partBytes(folder), cli.describe()).toBeGreaterThan(bytes);
}

/** Waits until `folder`'s `.part` files hold more than `bytes`, then interrupts `sender` (exit 130). */
async function interruptOnceArrived(sender: Cli, folder: string, bytes: number): Promise<void> {
  await untilArrived(folder, bytes, sender);
  sender.kill("SIGINT");
  expect(await sender.exitCode(), sender.describe()).toBe(130);
}

test(
  "one file cut by the sender's Ctrl-C: each side's failed line says how far it got; the receiver's figure is its .part's",
  async () => {
    const dir = makeTempDir();
    const size = 20 * MIB;
    const file = randomFile("big.bin", size);
    const { receiver, sender } = await receiverAndSender(dir, file.path, ["--limit-rate", "2M", "--no-progress"]);
    await interruptOnceHeld(sender, join(dir, "big.bin.part"), MIB);
    expect(await receiver.exitCode(), receiver.describe()).toBe(3);
    const kept = sizeOf(join(dir, "big.bin.part"));
    expect(receiver.linesMatching(/^Receiving #1 big\.bin failed/), receiver.describe()).toEqual([
      `Receiving #1 big.bin failed: the peer left (interrupted); the sender sending it again resumes it. ${kept} of its ${size} bytes arrived.`,
    ]);
    const [sent] = sender.linesMatching(/^Sending #1 big\.bin failed/);
    const said = sent?.match(
      /^Sending #1 big\.bin failed: interrupted; sending it again resumes it\. (\d+) of its (\d+) bytes were sent, (\d+) of them confirmed by the receiver\.$/,
    );
    // The sender has sent at least what arrived, and not the whole file; of that, the receiver
    // confirmed (ACKed) no more than what its .part holds (what was sent can be more by the
    // send window: said kept before, it claimed bytes the receiver never held).
    expectSentAndConfirmed(sender, said, kept, size);
    expect(Number(said?.[1])).toBeLessThan(size);
  },
  TEST_MS,
);

test(
  "--json: one file cut by the sender's Ctrl-C: each side's error event has how far it got (bytes, size); the receiver's is its .part's",
  async () => {
    const dir = makeTempDir();
    const size = 20 * MIB;
    const file = randomFile("big.bin", size);
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", file.path, "--json", "--to", receiver.code, "--limit-rate", "2M"]);
    await interruptOnceHeld(sender, join(dir, "big.bin.part"), MIB);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(3);
    const kept = sizeOf(join(dir, "big.bin.part"));
    const cutEvent = (cli: Cli) => {
      const events = cli.linesMatching(/^\{/).map((l) => JSON.parse(l) as Record<string, unknown>);
      const errors = events.filter((e) => e.type === "error" && e.id === 1);
      expect(errors, cli.describe()).toHaveLength(1);
      return errors[0] as Record<string, unknown>;
    };
    const received = cutEvent(receiver.cli);
    expect(received, receiver.cli.describe()).toMatchObject({
      direction: "receive",
      name: "big.bin",
      bytes: kept,
      size,
    });
    const sent = cutEvent(sender);
    expect(sent, sender.describe()).toMatchObject({ direction: "send", name: "big.bin", size });
    // The sender has sent at least what arrived, and not the whole file; its bytes is what the
    // receiver confirmed, no more than its .part holds (before: what was sent, up to the send
    // window more).
    expect(sent.sent as number).toBeGreaterThanOrEqual(kept);
    expect(sent.sent as number).toBeLessThan(size);
    expect(sent.bytes as number, sender.describe()).toBeLessThanOrEqual(kept);
    expect(sent.bytes as number).toBeGreaterThan(0);
  },
  TEST_MS,
);

test(
  "a receiver stopped, then killed, with the sender's window in flight: the sender's figure kept to resume is what the receiver confirmed, not what it had sent",
  async () => {
    // Before: the sender's error event (and its failed line, and its command's totals) said
    // what it had sent, the bytes handed to the connection: up to the send window more than the
    // receiver ever held, said kept to resume.
    const dir = makeTempDir();
    const size = 20 * MIB;
    const file = randomFile("big.bin", size);
    const { receiver, sender } = await receiverAndSender(dir, file.path, ["--json", "--limit-rate", "4M"]);
    const part = join(dir, "big.bin.part");
    for (let i = 0; i < 1500 && sizeOf(part) <= MIB; i++) await Bun.sleep(10);
    expect(sizeOf(part), receiver.describe()).toBeGreaterThan(MIB);
    await stopped(receiver);
    // The receiver reads nothing now: wait until the sender has sent past what the .part holds.
    const progress = () =>
      sender
        .linesMatching(/^\{"type":"progress"/)
        .map((l) => (JSON.parse(l) as { bytes: number }).bytes)
        .at(-1) ?? 0;
    const held = sizeOf(part);
    for (let i = 0; i < 1500 && progress() <= held; i++) await Bun.sleep(10);
    expect(progress(), sender.describe()).toBeGreaterThan(held);
    receiver.kill("SIGKILL");
    expect(await sender.exitCode(), sender.describe()).toBe(3);
    const kept = sizeOf(part);
    const events = sender.linesMatching(/^\{/).map((l) => JSON.parse(l) as Record<string, unknown>);
    const cut = events.filter((e) => e.type === "error" && e.id === 1);
    expect(cut, sender.describe()).toHaveLength(1);
    const event = cut[0] as Record<string, unknown>;
    expect(event).toMatchObject({ direction: "send", name: "big.bin", size });
    // The case reached: it had sent more than the receiver holds.
    expect(event.sent as number, sender.describe()).toBeGreaterThan(kept);
    expect(event.bytes as number, sender.describe()).toBeLessThanOrEqual(kept);
  },
  TEST_MS,
);

test(
  "chat: a command of two cut by the receiver's Ctrl-C says, after its total of what was saved, what the cut file had moved",
  async () => {
    const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "2M"]), startPeer("bob")]);
    a.cli.send(b.code);
    await Promise.all([a.cli.waitForLine(/^Connected to bob/), b.cli.waitForLine(/^Connected to alice/)]);
    const size = 20 * MIB;
    const big = randomFile("big.bin", size);
    const small = randomFile("small.txt", 10);
    a.cli.send(`transfer ${small.path} ${big.path}`);
    await b.cli.waitForLine(/^Saved .*small\.txt; /);
    const part = join(b.dir, "big.bin.part");
    await interruptOnceHeld(b.cli, part, MIB);
    expect(await a.cli.exitCode(), a.cli.describe()).toBe(0);
    const kept = sizeOf(part);
    const [failed] = b.cli.linesMatching(/^Receiving #\d+ big\.bin failed/);
    expect(failed, b.cli.describe()).toEndWith(
      `; the sender sending it again resumes it. ${kept} of its ${size} bytes arrived.`,
    );
    expect(b.cli.linesMatching(/^The transfer command/), b.cli.describe()).toEqual([
      `The transfer command ended: 1 of 2 transfers saved by the receiver, 1 failed; the receiver has received a total of 10 bytes from the sender; ${kept} bytes more of what was cut short arrived, kept to resume.`,
    ]);
    const [totals] = a.cli.linesMatching(/^The transfer command/);
    const said = totals?.match(
      /^The transfer command ended: 1 of 2 transfers saved by the receiver, 1 failed; the sender has sent a total of 10 bytes to the receiver; (\d+) bytes more of what was cut short were confirmed by the receiver, kept to resume\.$/,
    );
    expect(said, a.cli.describe()).not.toBeNull();
    // What the receiver had confirmed when it left: no more than it kept (what had been sent
    // can be more by the send window, bytes it never held: said kept before).
    expect(Number(said?.[1]), a.cli.describe()).toBeLessThanOrEqual(kept);
    expect(Number(said?.[1])).toBeGreaterThan(0);
  },
  TEST_MS,
);

test(
  "a single folder cut short says on both sides how many of its bytes moved; the receiver's are its .part files'",
  async () => {
    const dir = makeTempDir();
    const src = folderOf(20);
    const { receiver, sender } = await receiverAndSender(dir, src, ["--limit-rate", "2M", "--no-progress"]);
    await interruptOnceArrived(sender, join(dir, "album"), MIB);
    expect(await receiver.exitCode(), receiver.describe()).toBe(3);
    const total = 20 * MIB;
    const [received] = receiver.linesMatching(/^Folder album is incomplete/);
    const kept = partBytes(join(dir, "album"));
    expect(received, receiver.describe()).toBe(
      `Folder album is incomplete: 0 of 20 entries arrived, 16 failed, 4 never came; ${kept} of its ${total} bytes arrived. The sender sending the folder again continues it.`,
    );
    const [sent] = sender.linesMatching(/^Folder album is incomplete/);
    const said = sent?.match(
      /; (\d+) of its (\d+) bytes were sent, (\d+) of them confirmed by the receiver\. Sending the folder again continues it\.$/,
    );
    expectSentAndConfirmed(sender, said, kept, total);
    // Not more than the 16 entries it offered.
    expect(Number(said?.[1])).toBeLessThanOrEqual(16 * MIB);
  },
  TEST_MS,
);

test(
  "--json: a command of several cut short is one E_COMMAND_INCOMPLETE event on each side, with its counts and total",
  async () => {
    const dir = makeTempDir();
    const src = folderOf(20);
    const small = join(makeTempDir(), "small.txt");
    writeFileSync(small, "0123456789");
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", small, src, "--json", "--to", receiver.code, "--limit-rate", "2M"]);
    await receiver.cli.waitForLine(/"type":"done".*"name":"small\.txt"/);
    // The sender counts it saved once the receiver's word is back: interrupted before that (a
    // loaded host, two test files at once), its event said 0 of 21 saved.
    await sender.waitForLine(/"type":"done".*"name":"small\.txt"/);
    await interruptOnceArrived(sender, join(dir, "album"), MIB);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(3);
    for (const [cli, direction] of [
      [sender, "send"],
      [receiver.cli, "receive"],
    ] as const) {
      const events = cli.linesMatching(/^\{/).map((l) => JSON.parse(l) as Record<string, unknown>);
      const incomplete = events.filter((e) => e.code === "E_COMMAND_INCOMPLETE");
      expect(incomplete, cli.describe()).toHaveLength(1);
      const total =
        direction === "send"
          ? "the sender has sent a total of 10 bytes to the receiver"
          : "the receiver has received a total of 10 bytes from the sender";
      expect(incomplete[0]).toEqual({
        type: "error",
        code: "E_COMMAND_INCOMPLETE",
        message: `transfer command 1: 1 of 21 transfers saved by the receiver, 16 failed, 4 never came; ${total}`,
        direction,
        command: { seq: 1, transfers: 21, saved: 1, failed: 16, cancelled: 0, bytes: 10 },
      });
      // It comes after the folder's own event, before bye: the session's end says both.
      const types = events.map((e) => (e.type === "error" ? e.code : e.type));
      expect(types.slice(-3)).toEqual(["E_FOLDER_INCOMPLETE", "E_COMMAND_INCOMPLETE", "bye"]);
      // Each offer names its command as the wire's Offer.command does.
      const offers = events.filter((e) => e.type === "offer");
      expect(offers.length).toBeGreaterThanOrEqual(17);
      for (const offer of offers) expect(offer.command).toEqual({ seq: 1, transfers: 21 });
    }
  },
  TEST_MS,
);

test(
  "a folder of three files cut by the receiver's Ctrl-C: the sender's summary says what it sent and what the receiver confirmed of it",
  async () => {
    // Its entries take turns frame by frame: each one's bytes not ACKed are its own, not all
    // the connection's (those were more than each entry had sent: 0 confirmed of each).
    const dir = makeTempDir();
    const { receiver, sender } = await receiverAndSender(dir, albumOfThree(), ["--limit-rate", "4M", "--no-progress"]);
    const album = join(dir, "album");
    await untilArrived(album, 2 * MIB, receiver);
    receiver.kill("SIGINT");
    expect(await receiver.exitCode(), receiver.describe()).toBe(130);
    expect(await sender.exitCode(), sender.describe()).toBe(3);
    const kept = partBytes(album);
    const [sent] = sender.linesMatching(/^Folder album: nothing was saved/);
    const said = sent?.match(
      /^Folder album: nothing was saved\. 3 of 3 entries failed \(see above; 2 more for the same reason\)\. (\d+) of its (\d+) bytes were sent, (\d+) of them confirmed by the receiver\. Sending the folder again continues it\.$/,
    );
    expectSentAndConfirmed(sender, said, kept, 30 * MIB);
  },
  TEST_MS,
);

test(
  "--json: a folder whose receiver was stopped, then killed, with the sender's window in flight: E_FOLDER_INCOMPLETE's bytes is what the receiver confirmed, sent beside it",
  async () => {
    // Before: the sender's E_FOLDER_INCOMPLETE bytes (and its human summary) counted what it had
    // sent, up to the send window more than the receiver ever held.
    const dir = makeTempDir();
    const src = folderOf(20);
    const { receiver, sender } = await receiverAndSender(dir, src, ["--json", "--limit-rate", "4M"]);
    const album = join(dir, "album");
    await untilArrived(album, MIB, receiver);
    await stopped(receiver);
    // The receiver reads nothing now: wait until the sender has sent past what the .part files
    // hold (its entries' last progress events, summed).
    const sentSoFar = () => {
      const last = new Map<number, number>();
      for (const l of sender.linesMatching(/^\{"type":"progress"/)) {
        const p = JSON.parse(l) as { id: number; bytes: number };
        last.set(p.id, p.bytes);
      }
      return [...last.values()].reduce((a, b) => a + b, 0);
    };
    const held = partBytes(album);
    for (let i = 0; i < 1500 && sentSoFar() <= held; i++) await Bun.sleep(10);
    expect(sentSoFar(), sender.describe()).toBeGreaterThan(held);
    receiver.kill("SIGKILL");
    expect(await sender.exitCode(), sender.describe()).toBe(3);
    const kept = partBytes(album);
    const events = sender.linesMatching(/^\{/).map((l) => JSON.parse(l) as Record<string, unknown>);
    const incomplete = events.filter((e) => e.code === "E_FOLDER_INCOMPLETE");
    expect(incomplete, sender.describe()).toHaveLength(1);
    const event = incomplete[0] as { message: string; folder: Record<string, number> };
    expect(event.folder, sender.describe()).toMatchObject({ entries: 20, done: 0, failed: 16 });
    // The case reached: it had sent more than the receiver holds; its bytes is no more than that,
    // and not nothing (each entry's own bytes not ACKed, not all the connection's, are taken off).
    expect(event.folder.sent as number, sender.describe()).toBeGreaterThan(kept);
    expect(event.folder.bytes as number, sender.describe()).toBeLessThanOrEqual(kept);
    expect(event.folder.bytes as number, sender.describe()).toBeGreaterThan(0);
    expect(event.message).toEndWith(
      `; ${event.folder.sent} of its ${20 * MIB} bytes were sent, ${event.folder.bytes} of them confirmed by the receiver`,
    );
  },
  TEST_MS,
);

/** `cli`'s error events of a folder's entries, by the entry's file name (`p0.bin`). */
function entryErrors(cli: Cli): Map<string, Record<string, unknown>> {
  const events = cli.linesMatching(/^\{/).map((l) => JSON.parse(l) as Record<string, unknown>);
  const errors = events.filter((e) => e.type === "error" && e.id !== undefined);
  return new Map(errors.map((e) => [String(e.name).split("/").at(-1) as string, e]));
}

test(
  "--json: a folder all of whose entries were cut (the receiver killed): each entry's error event has how far it got (bytes, sent, size), the receiver's figure its .part's",
  async () => {
    // Before: three E_CONNECTION errors with no figure, and no folder event (every entry had
    // ended, so no E_FOLDER_INCOMPLETE): what moved was said only in the human summary.
    const dir = makeTempDir();
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", albumOfThree(), "--json", "--to", receiver.code, "--limit-rate", "4M"]);
    const album = join(dir, "album");
    await untilArrived(album, 2 * MIB, receiver.cli);
    receiver.cli.kill("SIGKILL");
    expect(await sender.exitCode(), sender.describe()).toBe(3);
    const errors = entryErrors(sender);
    expect([...errors.keys()].sort(), sender.describe()).toEqual(["p0.bin", "p1.bin", "p2.bin"]);
    let confirmed = 0;
    for (const [name, event] of errors) {
      const held = sizeOf(join(album, `${name}.part`));
      if (held === 0) continue; // nothing of it arrived: it may have sent nothing either
      // What it sent, at least what arrived; of that, what the receiver confirmed, no more than arrived.
      expect(event, sender.describe()).toMatchObject({ direction: "send", size: 10 * MIB });
      expect(event.sent as number, sender.describe()).toBeGreaterThanOrEqual(held);
      expect(event.bytes as number, sender.describe()).toBeLessThanOrEqual(held);
      confirmed += event.bytes as number;
    }
    expect(confirmed, sender.describe()).toBeGreaterThan(0);
  },
  TEST_MS,
);

test(
  "--json: a folder all of whose entries were cut (the sender killed): each entry's error event has what its .part holds (bytes, size)",
  async () => {
    const dir = makeTempDir();
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", albumOfThree(), "--json", "--to", receiver.code, "--limit-rate", "4M"]);
    const album = join(dir, "album");
    await untilArrived(album, 2 * MIB, sender);
    sender.kill("SIGKILL");
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(3);
    const errors = entryErrors(receiver.cli);
    expect([...errors.keys()].sort(), receiver.cli.describe()).toEqual(["p0.bin", "p1.bin", "p2.bin"]);
    for (const [name, event] of errors) {
      const held = sizeOf(join(album, `${name}.part`));
      if (held === 0) expect(event.bytes, receiver.cli.describe()).toBeUndefined();
      else expect(event, receiver.cli.describe()).toMatchObject({ direction: "receive", bytes: held, size: 10 * MIB });
    }
    // The folder's figure, the human summary's, is their sum.
    const sum = [...errors.values()].reduce((a, e) => a + ((e.bytes as number | undefined) ?? 0), 0);
    expect(sum, receiver.cli.describe()).toBe(partBytes(album));
    expect(sum).toBeGreaterThan(2 * MIB);
  },
  TEST_MS,
);
