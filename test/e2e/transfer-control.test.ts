/**
 * Real processes in the real world: `transfers` and `cancel`, a receiver whose disk is full
 * (a file's `.part` stays, a stream's goes), a receiver stopped with SIGSTOP (the sender's memory must stay flat), a connection cut by a
 * proxy mid-stream (both report it; the next attempt resumes), metadata kept.
 */

import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { startRelay } from "../relay.ts";
import {
  Cli,
  cleanup,
  connectedPair,
  makeTempDir,
  PARLEY_SHELL,
  type Peer,
  randomFile,
  startCli,
  startCliWithFileLimit,
  startPeer,
} from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 60_000;

async function connect(a: Peer, b: Peer): Promise<void> {
  a.cli.send(b.code);
  await Promise.all([a.cli.waitForLine(/^Connected to/), b.cli.waitForLine(/^Connected to/)]);
}

describe("transfers and cancel", () => {
  test(
    "transfers lists what moves; cancel stops one, both sides say so, the session goes on",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "4M"]), startPeer("bob")]);
      await connect(a, b);
      const file = randomFile("slow.bin", 32 * 1024 * 1024);
      a.cli.send(`transfer ${file.path}`);
      await b.cli.waitForLine(/^Receiving #1 slow\.bin/);
      a.cli.send("transfers");
      await a.cli.waitForLine(/^#1 sending slow\.bin: .+ of 32\.0 MiB \(\d+%\)$/);
      b.cli.send("transfers");
      await b.cli.waitForLine(/^#1 receiving slow\.bin: /);
      b.cli.send("cancel 1");
      await b.cli.waitForLine(/^Receiving #1 slow\.bin failed: cancelled by the receiver\.$/);
      await a.cli.waitForLine(/^Sending #1 slow\.bin failed: the peer cancelled it: cancelled by the receiver\.$/);
      a.cli.send("transfers");
      await a.cli.waitForLine(/^No transfers in progress\.$/);
      a.cli.send("still talking");
      await b.cli.waitForLine(/^<alice> still talking$/);
      b.cli.send("cancel 99");
      await b.cli.waitForLine(/^No transfer #99 in progress/);
      expect(readdirSync(b.dir)).toEqual([]); // a cancelled transfer leaves nothing, not even a .part
    },
    TEST_MS,
  );
});

describe("a cancel's command: its totals line does not say done", () => {
  // Before, both sides ended the command with "The transfer command is done. ... a total of N
  // bytes ...", the words of a command all of which was saved, a cancelled transfer lines above.
  test(
    "transfer small.bin slow.bin, the slow one cancelled: both sides say the command ended with 1 cancelled",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "4M"]), startPeer("bob")]);
      await connect(a, b);
      const small = randomFile("small.bin", 1000);
      const slow = randomFile("slow.bin", 32 * 1024 * 1024);
      a.cli.send(`transfer ${small.path} ${slow.path}`);
      const { match } = await b.cli.waitForLine(/^Receiving #(\d+) slow\.bin/);
      await a.cli.waitForLine(/^#\d+ small\.bin: the receiver saved it/);
      b.cli.send(`cancel ${match[1]}`);
      await b.cli.waitForLine(/^The transfer command /);
      await a.cli.waitForLine(/^The transfer command /);
      expect(b.cli.linesMatching(/^The transfer command /), b.cli.describe()).toEqual([
        "The transfer command ended: 1 of 2 transfers saved by the receiver, 1 cancelled; the receiver has received a total of 1000 bytes from the sender.",
      ]);
      expect(a.cli.linesMatching(/^All \d+ transfers|^The transfer command /), a.cli.describe()).toEqual([
        "All 2 transfers of this command have ended: 1 saved by the receiver, 1 cancelled.",
        "The transfer command ended: 1 of 2 transfers saved by the receiver, 1 cancelled; the sender has sent a total of 1000 bytes to the receiver.",
      ]);
      expect(readFileSync(join(b.dir, "small.bin")).equals(small.bytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "a folder cancelled after three of its four entries were saved: both sides say the folder was cancelled, 3 of 4 saved",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "4M"]), startPeer("bob")]);
      await connect(a, b);
      const album = join(makeTempDir(), "album");
      mkdirSync(album);
      for (const name of ["a.bin", "b.bin", "c.bin"]) writeFileSync(join(album, name), Buffer.alloc(1000, name));
      writeFileSync(join(album, "z.bin"), Buffer.alloc(32 * 1024 * 1024, 7));
      a.cli.send(`transfer ${album}`);
      await b.cli.waitForLine(/^Receiving folder album: /);
      // Its entries are offered in order: once the first three are saved, z.bin (8 s at 4M) is under way.
      await waitForFiles(join(b.dir, "album"), ["a.bin", "b.bin", "c.bin"]);
      b.cli.send("transfers");
      const { match } = await b.cli.waitForLine(/^#(\d+) receiving album\/z\.bin: /);
      b.cli.send(`cancel ${match[1]}`);
      await b.cli.waitForLine(/^The transfer command /);
      await a.cli.waitForLine(/^The transfer command /);
      expect(b.cli.linesMatching(/^The transfer command /), b.cli.describe()).toEqual([
        "The transfer command ended: the folder was cancelled, 3 of its 4 entries saved by the receiver; the receiver has received a total of 3000 bytes from the sender.",
      ]);
      expect(a.cli.linesMatching(/^The transfer command /), a.cli.describe()).toEqual([
        "The transfer command ended: the folder was cancelled, 3 of its 4 entries saved by the receiver; the sender has sent a total of 3000 bytes to the receiver.",
      ]);
    },
    TEST_MS,
  );

  test(
    "transfer small.bin album, the folder cancelled after three of its four entries: both sides say its entries cancelled, not failed",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "4M"]), startPeer("bob")]);
      await connect(a, b);
      const small = randomFile("small.bin", 1000);
      const album = join(makeTempDir(), "album");
      mkdirSync(album);
      for (const name of ["a.bin", "b.bin", "c.bin"]) writeFileSync(join(album, name), Buffer.alloc(1000, name));
      writeFileSync(join(album, "z.bin"), Buffer.alloc(32 * 1024 * 1024, 7));
      a.cli.send(`transfer ${small.path} ${album}`);
      await waitForFiles(join(b.dir, "album"), ["a.bin", "b.bin", "c.bin"]);
      await waitForFiles(b.dir, ["small.bin"]);
      b.cli.send("transfers");
      const { match } = await b.cli.waitForLine(/^#(\d+) receiving album\/z\.bin: /);
      b.cli.send(`cancel ${match[1]}`);
      await b.cli.waitForLine(/^The transfer command /);
      await a.cli.waitForLine(/^The transfer command /);
      expect(b.cli.linesMatching(/^The transfer command /), b.cli.describe()).toEqual([
        "The transfer command ended: 4 of 5 transfers saved by the receiver, 1 cancelled; the receiver has received a total of 4000 bytes from the sender.",
      ]);
      expect(a.cli.linesMatching(/^All \d+ transfers|^The transfer command /), a.cli.describe()).toEqual([
        "All 5 transfers of this command (4 of them entries of folders) have ended: 4 saved by the receiver, 1 cancelled.",
        "The transfer command ended: 4 of 5 transfers saved by the receiver, 1 cancelled; the sender has sent a total of 4000 bytes to the receiver.",
      ]);
      // The folder's own line (a command's folder has no totals line of its own): cancelled, not failed.
      expect(b.cli.linesMatching(/^Saved folder /), b.cli.describe()).toEqual([
        expect.stringMatching(
          /^Saved folder .*album: 3 entries, each XXH3-64 checksum matched\. 1 of 4 entries cancelled \(see above\)\.$/,
        ),
      ]);
      expect(a.cli.linesMatching(/^Folder album: /), a.cli.describe()).toEqual([
        "Folder album: the receiver saved 3 entries, each XXH3-64 checksum matched. 1 of 4 entries cancelled (see above).",
      ]);
      expect(readFileSync(join(b.dir, "small.bin")).equals(small.bytes)).toBe(true);
    },
    TEST_MS,
  );
});

/** Waits (up to 20 s) until `names` are in `dir` (files saved: no .part left of them). */
async function waitForFiles(dir: string, names: readonly string[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const there = existsSync(dir) ? readdirSync(dir) : [];
    if (names.every((n) => there.includes(n))) return;
    await Bun.sleep(100);
  }
  throw new Error(`${names.join(", ")} not saved in ${dir} within 20 s`);
}

describe("faults", () => {
  test(
    "the receiver's disk fills up: both sides say why at once, no final file, the session goes on",
    async () => {
      const dir = makeTempDir();
      const b = startCliWithFileLimit("bob", ["--dir", dir, "--name", "bob", "--no-progress"], 1024 * 1024);
      const { match } = await b.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\d+-[a-z]+-[a-z]+)$/);
      const a = await startPeer("alice");
      a.cli.send(match[1] as string);
      await Promise.all([a.cli.waitForLine(/^Connected to/), b.waitForLine(/^Connected to/)]);
      const file = randomFile("large.bin", 4 * 1024 * 1024);
      a.cli.send(`transfer ${file.path}`);
      await b.waitForLine(/^Receiving #1 large\.bin failed: cannot write large\.bin: file too large\.$/);
      await a.cli.waitForLine(
        /^Sending #1 large\.bin failed: the peer cancelled it: the receiver could not write the file \(file too large\)\.$/,
      );
      expect(existsSync(join(dir, "large.bin"))).toBe(false);
      a.cli.send("after the failure");
      await b.waitForLine(/^<alice> after the failure$/);
      a.cli.send("exit");
      expect(await a.cli.exitCode()).toBe(0);
      expect(await b.exitCode()).toBe(0);
      expect(a.cli.stderr + b.stderr).not.toContain("    at ");
    },
    TEST_MS,
  );

  test(
    "a stream (send -) cut by a full disk: its .part is removed (it can never resume) and the line says so",
    async () => {
      const dir = makeTempDir();
      const b = startCliWithFileLimit("receiver", ["receive", "--dir", dir, "--no-progress"], 1024 * 1024);
      const { match } = await b.waitForLine(/^Listening on 127\.0\.0\.1:(\d+) · code (\d+-[a-z]+-[a-z]+)$/);
      const file = randomFile("source.bin", 4 * 1024 * 1024);
      const send = `PARLEY_CODE=${match[2]} exec ${PARLEY_SHELL} send - --name s.bin --no-progress --to ${match[1]}`;
      const a = new Cli("sender", [], ["bash", "-c", `${send} < '${file.path}'`]);
      await b.waitForLine(
        /^Receiving #1 s\.bin failed: cannot write s\.bin: file too large; a stream cannot resume, so what arrived was removed\.$/,
      );
      expect(await a.exitCode()).toBe(3);
      expect(await b.exitCode()).toBe(3);
      expect(readdirSync(dir)).toEqual([]); // no s.bin, no s.bin.part
      expect(a.stderr + b.stderr).not.toContain("    at ");
    },
    TEST_MS,
  );

  test(
    "an offer bigger than the free space is declined before anything is written",
    async () => {
      const { a, b } = await connectedPair();
      const src = join(makeTempDir(), "huge.img");
      const fd = openSync(src, "w");
      ftruncateSync(fd, 2 ** 43); // 8 TiB, sparse (ext4's limit is 16 TiB)
      closeSync(fd);
      a.cli.send(`transfer ${src}`);
      await a.cli.waitForLine(
        /^Sending #1 huge\.img failed: the peer declined: not enough space at the receiver: 8796093022208 bytes offered\.$/,
      );
      await b.cli.waitForLine(/^Receiving #1 huge\.img failed: declined: not enough space/);
      expect(readdirSync(b.dir)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    "a receiver stopped with SIGSTOP: the sender's memory stays flat once it stops reading; after SIGCONT it completes",
    async () => {
      const { a, b } = await connectedPair();
      const src = join(makeTempDir(), "stream.img");
      const fd = openSync(src, "w");
      // 256 MiB, sparse (reads are cheap): twice the bound below, so a sender that read it all
      // into memory while the receiver is stopped fails the test.
      ftruncateSync(fd, 256 * 1024 * 1024);
      closeSync(fd);
      a.cli.send(`transfer ${src}`);
      await b.cli.waitForLine(/^Receiving #1 stream\.img/);
      b.cli.proc.kill("SIGSTOP");
      const proc = (file: string, field: RegExp) =>
        Number(field.exec(readFileSync(`/proc/${a.cli.proc.pid}/${file}`, "utf8"))?.[1] ?? 0);
      const rss = () => proc("status", /VmRSS:\s+(\d+) kB/) * 1024;
      const readBytes = () => proc("io", /rchar:\s+(\d+)/); // file and socket reads alike
      // Sampled until the sender has read less than a chunk (256 KiB) in a whole second: its window
      // is full and it waits, so its memory can only grow through a defect; for at most 5 s (a
      // sender that keeps reading is sampled that long).
      const reads: number[] = [];
      let peak = 0;
      for (let i = 0; i < 50; i++) {
        peak = Math.max(peak, rss());
        reads.push(readBytes());
        if (i >= 10 && (reads.at(-1) as number) - (reads.at(-11) as number) < 256 * 1024) break;
        await Bun.sleep(100);
      }
      b.cli.proc.kill("SIGCONT");
      await b.cli.waitForLine(
        /^The transfer command is done\. The receiver has received a total of 268435456 bytes/,
        40_000,
      );
      await a.cli.waitForLine(/^The transfer command is done\. The sender has sent a total of 268435456 bytes/, 40_000);
      expect(peak).toBeGreaterThan(0);
      expect(peak, `sender peak RSS ${peak >> 20} MiB while the receiver was stopped`).toBeLessThan(128 * 1024 * 1024);
    },
    TEST_MS,
  );

  test(
    "a proxy cuts the connection mid-stream: both sides report it, the next attempt resumes",
    async () => {
      const dir = makeTempDir();
      const receiver = startCli("receiver", ["receive", "--dir", dir, "--json"]);
      const { line } = await receiver.waitForLine(/"type":"listening"/);
      const { port, code } = JSON.parse(line) as { port: number; code: string };
      // A TCP proxy in this test process, to cut the stream at a moment of our choosing.
      let forwarded = 0;
      const proxy = await startRelay(port, (chunk) => {
        forwarded += chunk.length;
        return chunk;
      });
      const cut = () => proxy.cut();
      const file = randomFile("cut.bin", 16 * 1024 * 1024);
      const sender = startCli("sender", [
        "send",
        file.path,
        "--to",
        `${proxy.port}-${code.replace(/^\d+-/, "")}`,
        "--json",
        "--limit-rate",
        "8M",
      ]);
      await receiver.waitForLine(/"type":"progress".*"bytes":[1-9]/);
      await Bun.sleep(200);
      cut();
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      expect(sender.lines.some((l) => l.includes('"code":"E_CONNECTION"'))).toBe(true);
      expect(receiver.lines.some((l) => l.includes('"code":"E_CONNECTION"'))).toBe(true);
      expect(forwarded).toBeGreaterThan(0);
      proxy.stop();
      // The next attempt, direct, resumes from what got through.
      const again = startCli("receiver", ["receive", "--dir", dir, "--json"]);
      const listening = await again.waitForLine(/"type":"listening"/);
      const code2 = (JSON.parse(listening.line) as { code: string }).code;
      const retry = startCli("sender", ["send", file.path, "--to", code2, "--json"]);
      expect(await retry.exitCode()).toBe(0);
      expect(await again.exitCode()).toBe(0);
      const done = JSON.parse(again.lines.find((l) => l.includes('"type":"done"')) as string);
      expect(done.resumedFrom).toBeGreaterThan(0);
      expect(readFileSync(join(dir, "cut.bin")).equals(file.bytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "a received file keeps the sender's modification time and executable bit",
    async () => {
      const { a, b } = await connectedPair();
      const file = randomFile("tool.sh", 100);
      chmodSync(file.path, 0o755);
      const mtime = new Date("2024-02-03T04:05:06.789Z");
      utimesSync(file.path, mtime, mtime);
      a.cli.send(`transfer ${file.path}`);
      await b.cli.waitForLine(/^The transfer command is done\. The receiver/);
      const stored = statSync(join(b.dir, "tool.sh"));
      expect(stored.mtimeMs).toBe(mtime.getTime());
      expect(stored.mode & 0o111).toBe(0o111);
    },
    TEST_MS,
  );
});
