/**
 * The real CLI as two processes with piped stdio (plain mode: one line per event), talking
 * over 127.0.0.1: connect, chat, transfers, errors, leaving, signals, strangers on the port.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanup,
  closedPort,
  connectedPair,
  makeTempDir,
  type Peer,
  randomFile,
  startCli,
  startPeer,
} from "./helpers.ts";

afterEach(cleanup);

const STACK_FRAME = "    at ";
const MIB = 1024 * 1024;
/** Per-test bound: each wait inside is bounded too, so a hang fails with the output instead. */
const TEST_MS = 30_000;

/** The bytes in `path`, 0 while it is not there. */
function partBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const receiverTotal = (n: number): string =>
  `The transfer command is done. The receiver has received a total of ${n} bytes from the sender.`;
const senderTotal = (n: number): string =>
  `The transfer command is done. The sender has sent a total of ${n} bytes to the receiver.`;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function exactLine(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/** Lines that mean a transfer will not finish: fail at once instead of waiting for the timeout. */
const TRANSFER_FAILED = /^(Sending|Receiving) #\d+ .* failed|^Error: |^Connection lost/;

/** Sends `path` from `from` to `to`, waits for both totals, returns where `to` saved it. */
async function transfer(from: Peer, to: Peer, command: string, size: number): Promise<string> {
  const fromStart = from.cli.lines.length;
  const toStart = to.cli.lines.length;
  from.cli.send(command);
  await Promise.all([
    to.cli.waitForLine(exactLine(receiverTotal(size)), 15_000, toStart, TRANSFER_FAILED),
    from.cli.waitForLine(exactLine(senderTotal(size)), 15_000, fromStart, TRANSFER_FAILED),
  ]);
  const [saved, senderCheck] = await Promise.all([
    to.cli.waitForLine(/^Saved (.+); .*checksum matched/, 5_000, toStart),
    from.cli.waitForLine(/checksum matched/, 5_000, fromStart),
  ]);
  expect(senderCheck.line).toContain("the receiver saved it");
  return saved.match[1] as string;
}

/** Chat from `from` arrives at `to` as `<name> text`. */
async function chat(from: Peer, to: Peer, fromName: string, text: string): Promise<void> {
  const start = to.cli.lines.length;
  from.cli.send(text);
  await to.cli.waitForLine(exactLine(`<${fromName}> ${text}`), undefined, start);
}

function expectNoStackTrace(peer: Peer): void {
  expect(peer.cli.stdout).not.toContain(STACK_FRAME);
  expect(peer.cli.stderr).not.toContain(STACK_FRAME);
  expect(peer.cli.stderr).toBe("");
}

describe("parley chat over pipes", () => {
  test(
    "connect, chat both ways, 3 MiB transfer, exit: both exit 0",
    async () => {
      const { a, b } = await connectedPair();

      await chat(a, b, "alice", "hello bob, this is alice");
      await chat(b, a, "bob", "hi alice! ünïcødé ✓");

      const src = join(makeTempDir(), "random.bin");
      const bytes = randomBytes(3 * MIB);
      writeFileSync(src, bytes);
      const saved = await transfer(a, b, `transfer ${src}`, 3_145_728);

      expect(saved).toBe(join(b.dir, "random.bin"));
      const got = readFileSync(saved);
      expect(got.length).toBe(bytes.length);
      expect(sha256(got)).toBe(sha256(bytes));
      expect(got.equals(bytes)).toBe(true);
      expect(readdirSync(b.dir)).toEqual(["random.bin"]); // no .part left behind

      // Chat still works after the transfer.
      await chat(b, a, "bob", "got it");

      a.cli.send("exit");
      const [codeA, codeB] = await Promise.all([a.cli.exitCode(), b.cli.exitCode()]);
      expect(codeA).toBe(0);
      expect(codeB).toBe(0);
      expect(a.cli.lines).toContain("Connection closed (exit). Bye.");
      expect(b.cli.lines).toContain("alice left (exit). Connection closed.");
      expectNoStackTrace(a);
      expectNoStackTrace(b);
    },
    TEST_MS,
  );

  test(
    "transfer DIR/*.jpg in the chat sends the files that match, as a shell would name them",
    async () => {
      const { a, b } = await connectedPair();
      const src = makeTempDir();
      for (const name of ["b.jpg", "a.jpg", "c.png"]) writeFileSync(join(src, name), name);
      a.cli.send(`transfer ${src}/*.jpg`);
      // It was "Error: no such file: /dir/*.jpg (nothing matched the wildcard; ...)", with two files there.
      await b.cli.waitForLine(/^The transfer command is done\. The receiver has received a total of 10 bytes/);
      expect(readdirSync(b.dir).sort()).toEqual(["a.jpg", "b.jpg"]);
      expect(readFileSync(join(b.dir, "a.jpg"), "utf8")).toBe("a.jpg");
      expect(a.cli.linesMatching(/^Error: /)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    "the chat's wildcard as a shell takes it: quoted it is a name; a command typed after one waits its turn",
    async () => {
      const { a, b } = await connectedPair();
      const src = makeTempDir();
      for (const name of ["b.jpg", "a.jpg", "c.png"]) writeFileSync(join(src, name), name);
      // Before: expanded all the same, and both files went.
      a.cli.send(`transfer "${src}/*.jpg"`);
      await a.cli.waitForLine(/^Error: no such file: /);
      // The folder quoted, the wildcard not: expanded (its folder read off the chat's turn), and
      // the command typed after it is offered after its files.
      a.cli.send(`transfer "${src}"/*.jpg`);
      a.cli.send(`transfer ${src}/c.png`);
      // Offered in that order, but the three run at once: c.png may be saved before a.jpg and b.jpg.
      await Promise.all(["a.jpg", "b.jpg", "c.png"].map((name) => b.cli.waitForLine(new RegExp(`^Saved .*${name};`))));
      expect(a.cli.linesMatching(/^Error: /)).toEqual([
        `Error: no such file: ${src}/*.jpg (nothing matched the wildcard; the chat expands *, ? and [...] in the last name of a path only, and not inside quotes)`,
      ]);
      expect(b.cli.linesMatching(/^Receiving #/)).toEqual([
        "Receiving #1 a.jpg (5 bytes).",
        "Receiving #3 b.jpg (5 bytes).",
        "Receiving #5 c.png (5 bytes).",
      ]);
      expect(readdirSync(b.dir).sort()).toEqual(["a.jpg", "b.jpg", "c.png"]);
    },
    TEST_MS,
  );

  test(
    "transfer DIR/*a*a*a*a*a*a*b beside a long name of a's: the file that matches goes, and the chat goes on",
    async () => {
      const { a, b } = await connectedPair();
      const src = makeTempDir();
      // Another user's name in /tmp, say. The wildcard was a RegExp, ^.*a.*a.*a.*a.*a.*a.*b$, whose
      // backtracking over these 200 a's took hours: the chat stood still, Ctrl-C too, and the
      // peer said "Connection lost: no word from the peer for 30 s".
      writeFileSync(join(src, "a".repeat(200)), "");
      writeFileSync(join(src, "xaaaaaab"), "match");
      a.cli.send(`transfer ${src}/*a*a*a*a*a*a*b`);
      a.cli.send("still here");
      await b.cli.waitForLine(/^<alice> still here$/);
      await b.cli.waitForLine(/^The transfer command is done\. The receiver has received a total of 5 bytes/);
      expect(readdirSync(b.dir)).toEqual(["xaaaaaab"]);
    },
    TEST_MS,
  );

  test(
    "Ctrl-C in a connected chat: its own close line has the word the peer's has (interrupted)",
    async () => {
      const { a, b } = await connectedPair();
      a.cli.proc.kill("SIGINT");
      await b.cli.waitForLine(/^alice left \(interrupted\)\. Connection closed\.$/);
      expect(await a.cli.exitCode()).toBe(130);
      // It was "Connection closed. Bye." whatever the peer was told.
      expect(a.cli.lines.slice(-2), a.cli.describe()).toEqual([
        "Interrupted (Ctrl-C): telling the peer and closing the connection.",
        "Connection closed (interrupted). Bye.",
      ]);
    },
    TEST_MS,
  );

  test(
    "a file that exists in the receiver's dir is not overwritten: saved as 'name (1).ext'",
    async () => {
      const { a, b } = await connectedPair();
      const original = join(b.dir, "report.txt");
      writeFileSync(original, "bob's original report\n");
      const src = join(makeTempDir(), "report.txt");
      const content = randomBytes(10_000);
      writeFileSync(src, content);

      const saved = await transfer(a, b, `transfer ${src}`, content.length);

      expect(saved).toBe(join(b.dir, "report (1).txt"));
      expect(readFileSync(original, "utf8")).toBe("bob's original report\n");
      expect(readFileSync(saved).equals(content)).toBe(true);
      expect(readdirSync(b.dir).sort()).toEqual(["report (1).txt", "report.txt"]);

      // Again: the next free name.
      const again = await transfer(a, b, `transfer ${src}`, content.length);
      expect(again).toBe(join(b.dir, "report (2).txt"));
      expect(readFileSync(original, "utf8")).toBe("bob's original report\n");
    },
    TEST_MS,
  );

  test(
    "a 0-byte file arrives as an empty file (N=0)",
    async () => {
      const { a, b } = await connectedPair();
      const src = join(makeTempDir(), "empty.dat");
      writeFileSync(src, "");

      const saved = await transfer(a, b, `transfer ${src}`, 0);

      expect(saved).toBe(join(b.dir, "empty.dat"));
      expect(readFileSync(saved).length).toBe(0);
      expect(readdirSync(b.dir)).toEqual(["empty.dat"]);
    },
    TEST_MS,
  );

  test(
    "paths with spaces work unquoted and quoted, in both directions",
    async () => {
      const { a, b } = await connectedPair();
      const folder = join(makeTempDir(), "my documents");
      mkdirSync(folder);
      const plain = join(folder, "holiday photo.jpg");
      const quoted = join(folder, "tax return 2024.pdf");
      const plainBytes = randomBytes(50_000);
      const quotedBytes = randomBytes(70_000);
      writeFileSync(plain, plainBytes);
      writeFileSync(quoted, quotedBytes);

      const savedPlain = await transfer(a, b, `transfer ${plain}`, plainBytes.length);
      expect(savedPlain).toBe(join(b.dir, "holiday photo.jpg"));
      expect(readFileSync(savedPlain).equals(plainBytes)).toBe(true);

      const savedQuoted = await transfer(a, b, `transfer "${quoted}"`, quotedBytes.length);
      expect(savedQuoted).toBe(join(b.dir, "tax return 2024.pdf"));
      expect(readFileSync(savedQuoted).equals(quotedBytes)).toBe(true);

      // Single quotes, from the side that accepted the connection.
      const savedBack = await transfer(b, a, `transfer '${plain}'`, plainBytes.length);
      expect(savedBack).toBe(join(a.dir, "holiday photo.jpg"));
      expect(readFileSync(savedBack).equals(plainBytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "errors: missing file, a FIFO, unknown command are one-line messages and the chat goes on",
    async () => {
      const { a, b } = await connectedPair();

      a.cli.send("transfer /nonexistent");
      await a.cli.waitForLine(/no such file/);
      const fifo = join(makeTempDir(), "pipe");
      expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
      a.cli.send(`transfer ${fifo}`);
      await a.cli.waitForLine(/is not a regular file/);
      // One command naming a file that exists and two that cannot be sent: each problem is
      // said, and so is that the existing file was not sent either (all or nothing).
      const real = join(makeTempDir(), "real.txt");
      writeFileSync(real, "real");
      a.cli.send(`transfer ${real} /nonexistent2 ${fifo}`);
      await a.cli.waitForLine(/^Nothing was sent/);
      a.cli.send("/bogus");
      await a.cli.waitForLine(/Unknown command/);
      // A quote left open is a typo, not the end of the chat.
      a.cli.send('transfer "my file.txt');
      await a.cli.waitForLine(/^Error: .*quote/);
      // A later chat line is still delivered, so the process survived all of them.
      await chat(a, b, "alice", "still here");

      expect(a.cli.linesMatching(/no such file/)).toEqual([
        "Error: no such file: /nonexistent",
        "Error: no such file: /nonexistent2",
      ]);
      expect(a.cli.linesMatching(/is not a regular file/)).toHaveLength(2);
      expect(a.cli.linesMatching(/^Nothing was sent/)).toEqual([
        "Nothing was sent: a command sends all of its paths or none (fix the ones above and try again).",
      ]);
      expect(a.cli.linesMatching(/real\.txt|Sending/)).toEqual([]);
      expect(a.cli.linesMatching(/Unknown command/)).toHaveLength(1);
      expect(a.cli.linesMatching(/Unknown command/)[0]).toStartWith("Unknown command /bogus");
      // Nothing of the failed commands reached the peer, and nothing was offered.
      expect(b.cli.linesMatching(/^<alice>/)).toEqual(["<alice> still here"]);
      expect(b.cli.linesMatching(/Receiving|bogus|nonexistent|real/)).toEqual([]);
      expect(readdirSync(b.dir)).toEqual([]);
      expectNoStackTrace(a);
      expectNoStackTrace(b);
    },
    TEST_MS,
  );

  test(
    "dialing a port where nothing listens says 'connection refused' and keeps asking",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      const dead = closedPort();

      a.cli.send(`${dead}-ribbon-walnut`);
      const refused = await a.cli.waitForLine(/connection refused/i);
      expect(refused.line).toContain(`127.0.0.1:${dead}`);
      expect(a.cli.linesMatching(/connection refused/i)).toHaveLength(1);

      a.cli.send(b.code);
      await Promise.all([
        a.cli.waitForLine(/^Connected to bob at 127\.0\.0\.1:\d+\. /),
        b.cli.waitForLine(/^Connected to alice at 127\.0\.0\.1\. /), // dialed by alice: the host alone
      ]);
      await chat(a, b, "alice", "second try worked");
      expectNoStackTrace(a);
    },
    TEST_MS,
  );

  test(
    "SIGINT while connected: exits 130 with 'Interrupted'; the peer sees 'left (interrupted)' and exits 0",
    async () => {
      const { a, b } = await connectedPair();

      a.cli.kill("SIGINT");
      const [codeA, codeB] = await Promise.all([a.cli.exitCode(), b.cli.exitCode()]);

      expect(codeA).toBe(130);
      expect(codeB).toBe(0);
      expect(a.cli.linesMatching(/Interrupted/)).toHaveLength(1);
      expect(b.cli.lines).toContain("alice left (interrupted). Connection closed.");
      expectNoStackTrace(a);
      expectNoStackTrace(b);
    },
    TEST_MS,
  );

  test(
    "SIGTERM while connected: exits 143; the peer sees that it left and exits 0",
    async () => {
      const { a, b } = await connectedPair();

      a.cli.kill("SIGTERM");
      const [codeA, codeB] = await Promise.all([a.cli.exitCode(), b.cli.exitCode()]);

      expect(codeA).toBe(143);
      expect(codeB).toBe(0);
      expect(b.cli.linesMatching(/^alice left \(.+\)\. Connection closed\.$/)).toHaveLength(1);
      expectNoStackTrace(a);
      expectNoStackTrace(b);
    },
    TEST_MS,
  );

  test(
    "EOF on stdin behaves like exit: both exit 0",
    async () => {
      const { a, b } = await connectedPair();
      await chat(a, b, "alice", "last words");

      a.cli.endInput();
      const [codeA, codeB] = await Promise.all([a.cli.exitCode(), b.cli.exitCode()]);

      expect(codeA).toBe(0);
      expect(codeB).toBe(0);
      expect(a.cli.lines).toContain("Connection closed (exit). Bye.");
      expect(b.cli.lines).toContain("alice left (exit). Connection closed.");
    },
    TEST_MS,
  );

  test(
    "exit waits for a transfer in progress, then both exit 0 with the file complete",
    async () => {
      const { a, b } = await connectedPair();
      const src = join(makeTempDir(), "big.bin");
      const bytes = randomBytes(8 * MIB);
      writeFileSync(src, bytes);

      a.cli.send(`transfer ${src}`);
      a.cli.send("exit");
      const [codeA, codeB] = await Promise.all([a.cli.exitCode(15_000), b.cli.exitCode(15_000)]);

      expect(codeA).toBe(0);
      expect(codeB).toBe(0);
      expect(b.cli.lines).toContain(receiverTotal(bytes.length));
      expect(a.cli.lines).toContain(senderTotal(bytes.length));
      expect(readFileSync(join(b.dir, "big.bin")).equals(bytes)).toBe(true);
    },
    TEST_MS,
  );
});

describe("leaving while a transfer runs", () => {
  test(
    "exit during a transfer says it waits, and that Ctrl-C leaves at once",
    async () => {
      // Before: "Waiting for 1 transfer to finish before leaving..." and nothing on how not to wait
      // (a big file over a slow link can take hours).
      // At 1 MiB/s the 4 MiB file is surely still on its way when exit is typed.
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "1M"]), startPeer("bob")]);
      a.cli.send(b.code);
      await b.cli.waitForLine(/^Connected to alice /);
      const src = join(makeTempDir(), "slow.bin");
      writeFileSync(src, randomBytes(4 * MIB));
      a.cli.send(`transfer ${src}`);
      await a.cli.waitForLine(/^Sending #\d+ slow\.bin/);
      await b.cli.waitForLine(/^Receiving #\d+ slow\.bin/);
      a.cli.send("exit");
      await a.cli.waitForLine(
        /^Waiting for 1 transfer to finish before leaving \(Ctrl-C leaves at once, cancelling it\)\.\.\.$/,
      );
      a.cli.kill("SIGINT");
      expect(await a.cli.exitCode()).toBe(130);
      expect(await b.cli.exitCode()).toBe(0);
    },
    TEST_MS,
  );
});

describe("a script's exit and then the end of its input", () => {
  test(
    "say what leaving waits for once",
    async () => {
      // Before: `printf 'transfer X\nexit\n' | parley ...` printed "Waiting for 1 transfer ..."
      // twice: once for exit, once more for the end of input after it.
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "1M"]), startPeer("bob")]);
      a.cli.send(b.code);
      await b.cli.waitForLine(/^Connected to alice /);
      const src = join(makeTempDir(), "slow.bin");
      writeFileSync(src, randomBytes(2 * MIB));
      a.cli.send(`transfer ${src}`);
      await b.cli.waitForLine(/^Receiving #\d+ slow\.bin/);
      a.cli.send("exit");
      a.cli.endInput();
      expect(await a.cli.exitCode()).toBe(0);
      expect(await b.cli.exitCode()).toBe(0);
      expect(a.cli.linesMatching(/^Waiting for /), a.cli.describe()).toEqual([
        "Waiting for 1 transfer to finish before leaving (Ctrl-C leaves at once, cancelling it)...",
      ]);
    },
    TEST_MS,
  );
});

describe("leaving while a folder runs", () => {
  test(
    "exit during a folder says it waits for the folder, not for its entries in flight",
    async () => {
      // Before: "Waiting for 16 transfers to finish ..." of one folder (its entries in flight).
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "1M"]), startPeer("bob")]);
      a.cli.send(b.code);
      await b.cli.waitForLine(/^Connected to alice /);
      const root = join(makeTempDir(), "album");
      mkdirSync(root);
      for (let i = 0; i < 20; i++) writeFileSync(join(root, `${i}.bin`), randomBytes(256 * 1024));
      a.cli.send(`transfer ${root}`);
      await b.cli.waitForLine(/^Receiving folder album: /);
      a.cli.send("exit");
      await a.cli.waitForLine(
        /^Waiting for the folder album to finish before leaving \(Ctrl-C leaves at once, cancelling it\)\.\.\.$/,
      );
      a.cli.kill("SIGINT");
      expect(await a.cli.exitCode()).toBe(130);
      expect(await b.cli.exitCode()).toBe(0);
    },
    TEST_MS,
  );
});

describe("scripted use", () => {
  test(
    "--connect with the commands piped in at once: they wait for the connection, then EOF exits 0",
    async () => {
      const b = await startPeer("bob");
      const srcDir = makeTempDir();
      const src = join(srcDir, "scripted.bin");
      const bytes = randomBytes(2 * 1024 * 1024 + 7);
      writeFileSync(src, bytes);
      const a = startCli("alice", ["--connect", b.code, "--dir", srcDir, "--no-progress"]);
      // Written before the connection exists, as a script does.
      a.send("hello from a script");
      a.send(`transfer ${src}`);
      a.endInput();
      await b.cli.waitForLine(/^<peer> hello from a script$/);
      await b.cli.waitForLine(
        /^The transfer command is done\. The receiver has received a total of 2097159 bytes from the sender\.$/,
      );
      await a.waitForLine(
        /^The transfer command is done\. The sender has sent a total of 2097159 bytes to the receiver\.$/,
      );
      expect(await a.exitCode()).toBe(0);
      expect(await b.cli.exitCode()).toBe(0);
      expect(readFileSync(join(b.dir, "scripted.bin")).equals(bytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "the code and the commands piped in at once, ending with an exit line: the lines before it go first",
    async () => {
      // `printf 'CODE\nhi\ntransfer f\nexit\n' | parley`: the exit line came while the dial ran and
      // ended the run at once ("Bye.", exit 0), dropping the chat line and the transfer held before it.
      const b = await startPeer("bob");
      const srcDir = makeTempDir();
      const src = join(srcDir, "piped.bin");
      const bytes = randomBytes(100_000);
      writeFileSync(src, bytes);
      const a = startCli("alice", ["--dir", srcDir, "--no-progress"]);
      await a.waitForLine(/^Listening on /);
      // One write: the lines after the code are read while its dial runs.
      a.send(`${b.code}\nhi from a pipe\ntransfer ${src}\nexit`);
      await b.cli.waitForLine(/^<peer> hi from a pipe$/);
      await b.cli.waitForLine(/^The transfer command is done\. The receiver has received a total of 100000 bytes/);
      expect(await a.exitCode(), a.describe()).toBe(0);
      expect(await b.cli.exitCode()).toBe(0);
      expect(a.lines).toContain("Connection closed (exit). Bye.");
      expect(readFileSync(join(b.dir, "piped.bin")).equals(bytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "--connect to a port where nothing listens, with input ended: one line, exit 1",
    async () => {
      const a = startCli("alice", [
        "--connect",
        `${closedPort()}-ribbon-walnut`,
        "--dir",
        makeTempDir(),
        "--no-progress",
      ]);
      a.endInput();
      expect(await a.exitCode()).toBe(1);
      expect(a.linesMatching(/connection refused/)).toHaveLength(1);
    },
    TEST_MS,
  );

  test(
    "--connect to a port where nothing listens, input ending only after the refusal was said: exit 1 all the same",
    async () => {
      // The exit code of `parley --connect CODE < commands` did not depend on the code but on
      // whether the input ended before the refusal came back (0 when after).
      const a = startCli("alice", ["--connect", `${closedPort()}-ribbon-walnut`, "--dir", makeTempDir()]);
      await a.waitForLine(/connection refused/);
      a.endInput();
      expect(await a.exitCode(), a.describe()).toBe(1);
      expect(a.linesMatching(/^End of input before a peer connected/)).toHaveLength(1);
    },
    TEST_MS,
  );

  test(
    "--host 0.0.0.0 shows the addresses a peer can use",
    async () => {
      const a = startCli("alice", ["--host", "0.0.0.0", "--dir", makeTempDir(), "--no-progress"]);
      const { match } = await a.waitForLine(/^Listening on 0\.0\.0\.0:(\d+) \(a peer can use: (.+)\) · code (.+)$/);
      expect(match[2]).toContain(`127.0.0.1:${match[1]}`);
      a.send("exit");
      expect(await a.exitCode()).toBe(0);
    },
    TEST_MS,
  );
});

describe("leaving in other ways", () => {
  test(
    "before connecting: exit says Bye and exits 0; Ctrl-C exits 130",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      a.cli.send("exit");
      b.cli.kill("SIGINT");
      const [codeA, codeB] = await Promise.all([a.cli.exitCode(), b.cli.exitCode()]);
      expect(codeA).toBe(0);
      expect(a.cli.lines).toContain("Bye.");
      expect(codeB).toBe(130);
      expect(b.cli.linesMatching(/Interrupted/)).toHaveLength(1);
      expectNoStackTrace(a);
      expectNoStackTrace(b);
    },
    TEST_MS,
  );

  test(
    "a sender that vanishes mid-transfer: the receiver's line says that sending it again resumes it, and it does",
    async () => {
      const src = randomFile("cut.bin", 16 * MIB);
      const [a, b] = await Promise.all([startPeer("alice", ["--limit-rate", "4M"]), startPeer("bob")]);
      a.cli.send(b.code);
      await b.cli.waitForLine(/^Connected to alice/);
      a.cli.send(`transfer ${src.path}`);
      await b.cli.waitForLine(/^Receiving #1 cut\.bin/);
      // Some bytes in the .part first (with none, there is nothing to resume from).
      const part = join(b.dir, "cut.bin.part");
      for (let i = 0; i < 500 && !(existsSync(part) && statSync(part).size > 0); i++) await Bun.sleep(10);
      a.cli.kill("SIGKILL");
      const { line } = await b.cli.waitForLine(/^Receiving #1 cut\.bin failed/);
      // The socket may end with a FIN or a reset (ECONNRESET): either way in words, never the runtime's text.
      expect(line).toMatch(
        /^Receiving #1 cut\.bin failed: connection lost: (the peer closed the connection without saying goodbye|the peer's side reset it \(its program ended without closing it, or something on the way cut it\)); the sender sending it again resumes it\. \d+ of its \d+ bytes arrived\.$/,
      );
      // As it says: a new alice (the same user, the same file) goes on from the .part.
      const again = await startPeer("alice");
      const bob = startCli("bob", ["--host", "127.0.0.1", "--dir", b.dir, "--name", "bob", "--no-progress"]);
      const { match } = await bob.waitForLine(/ · code (\d+-[a-z]+-[a-z]+)$/);
      again.cli.send(match[1] as string);
      await bob.waitForLine(/^Connected to alice/);
      again.cli.send(`transfer ${src.path}`);
      // Said as it starts, both sides (before: only bob's "Resumed" line at its end).
      const resuming =
        /^Resuming #1 cut\.bin from [\d.]+ [KM]iB \(of 16\.0 MiB\): an earlier attempt had delivered that much\.$/;
      const said = await bob.waitForLine(resuming);
      await again.cli.waitForLine(resuming);
      const resumed = await bob.waitForLine(/^Resumed cut\.bin: [1-9]\d* bytes were there from an earlier attempt/);
      expect(said.index).toBeLessThan(resumed.index);
      await bob.waitForLine(/^Saved /);
      expect(readFileSync(join(b.dir, "cut.bin")).equals(src.bytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "a peer that vanishes (SIGKILL) is reported as a lost connection",
    async () => {
      const { a, b } = await connectedPair();
      a.cli.kill("SIGKILL");
      expect(await a.cli.exitCode()).toBe(137);
      const code = await b.cli.exitCode();
      expect(b.cli.linesMatching(/^Connection lost/)).toHaveLength(1);
      expect(b.cli.linesMatching(/connection lost: connection lost/i)).toHaveLength(0); // said once
      expect(code).not.toBe(0);
      expectNoStackTrace(b);
    },
    TEST_MS,
  );

  test(
    "Ctrl-C during a transfer: the peer is told (left (interrupted), exit 0) and no partial file takes the name",
    async () => {
      // Big enough that the transfer is still running when the signal lands (it takes > 100 ms here).
      const src = join(makeTempDir(), "huge.bin");
      writeFileSync(src, Buffer.alloc(256 * MIB, "parley"));
      // The way this goes wrong is a race with the peer's ACKs, so try a few times (each < 1 s).
      for (let round = 1; round <= 3; round++) {
        const { a, b } = await connectedPair();
        a.cli.send(`transfer ${src}`);
        await b.cli.waitForLine(/^Receiving #1 huge\.bin/);
        // Until bytes reach bob's .part, alice may not have read bob's ACCEPT (bob prints its line
        // once the ACCEPT is sent): a Ctrl-C handled first, as on a busy machine, rightly promises
        // the resume only "if the receiver kept part of it". DATA flows only after the ACCEPT.
        const part = join(b.dir, "huge.bin.part");
        for (const deadline = Date.now() + 10_000; partBytes(part) === 0; await Bun.sleep(2)) {
          expect(Date.now(), "no bytes reached bob's .part").toBeLessThan(deadline);
        }
        a.cli.kill("SIGINT");
        const [codeA, codeB] = await Promise.all([a.cli.exitCode(), b.cli.exitCode()]);

        expect(codeA).toBe(130);
        // Plain sentences (newuser20): not "cancelled: interrupted (sending ...)", nor "(interrupted) (the sender ...)".
        expect(a.cli.linesMatching(/^Sending #1 huge\.bin failed/)).toEqual([
          expect.stringMatching(
            /^Sending #1 huge\.bin failed: interrupted; sending it again resumes it\. \d+ of its 268435456 bytes were sent, \d+ of them confirmed by the receiver\.$/,
          ),
        ]);
        // The peer's Ctrl-C: its line says that the same file sent again goes on from here, and how far it got.
        expect(b.cli.linesMatching(/^Receiving #1 huge\.bin failed/)).toEqual([
          `Receiving #1 huge.bin failed: the peer left (interrupted); the sender sending it again resumes it. ${partBytes(part)} of its 268435456 bytes arrived.`,
        ]);
        expect(readdirSync(b.dir)).not.toContain("huge.bin");
        // DESIGN: "Ctrl-C sends BYE with a reason and closes at once"; the peer prints that the other side left.
        expect({ round, lost: b.cli.linesMatching(/^Connection lost/) }).toEqual({ round, lost: [] });
        expect(b.cli.lines).toContain("alice left (interrupted). Connection closed.");
        expect(codeB).toBe(0);
      }
    },
    TEST_MS,
  );
});

describe("chat edge cases", () => {
  test(
    "terminal escape codes from the peer are shown inert",
    async () => {
      const { a, b } = await connectedPair();
      const start = b.cli.lines.length;
      a.cli.send("red \x1b[31mX\x1b[0m bell\x07 title\x1b]0;pwned\x07 end");
      const { line } = await b.cli.waitForLine(/^<alice> red .* end$/, undefined, start);
      expect(line).not.toContain("\x1b");
      expect(line).not.toContain("\x07");
      expect(b.cli.stdout).not.toContain("\x1b");
    },
    TEST_MS,
  );

  test(
    "a line that starts with a backslash is sent as chat without it",
    async () => {
      const { a, b } = await connectedPair();
      const start = b.cli.lines.length;
      a.cli.send("\\exit");
      a.cli.send("\\/bogus is not a command");
      await b.cli.waitForLine(/^<alice> exit$/, undefined, start);
      await b.cli.waitForLine(/^<alice> \/bogus is not a command$/, undefined, start);
      expect(a.cli.linesMatching(/Unknown command/)).toEqual([]);
      await chat(a, b, "alice", "still connected");
    },
    TEST_MS,
  );

  test(
    "a chat line longer than the 64 KiB limit does not break the connection",
    async () => {
      const { a, b } = await connectedPair();
      a.cli.send("x".repeat(100_000));
      // The session must survive whatever the CLI does with the long line (refuse it or split it).
      await chat(a, b, "alice", "after the long line");
      await chat(b, a, "bob", "and back");
      expect(a.cli.linesMatching(/^Connection lost/)).toEqual([]);
      expect(b.cli.linesMatching(/^Connection lost/)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    "256 MiB piped in without a line break is dropped with one line, in bounded memory; chat goes on",
    async () => {
      const { a, b } = await connectedPair();
      const start = a.cli.lines.length;
      const piece = "x".repeat(MIB);
      for (let i = 0; i < 256; i++) {
        a.cli.proc.stdin.write(piece);
        await a.cli.proc.stdin.flush();
      }
      a.cli.send("");
      await a.cli.waitForLine(/^Not read: an input line longer than 256 Ki characters/, undefined, start);
      const status = readFileSync(`/proc/${a.cli.proc.pid}/status`, "utf8");
      const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
      // Holding the line costs 256 MiB or more; reading and dropping it, a few chunks.
      expect(peakKiB).toBeGreaterThan(0);
      expect(peakKiB).toBeLessThan(200 * 1024);
      expect(a.cli.linesMatching(/^Not read/)).toHaveLength(1);
      await chat(a, b, "alice", "after the endless line");
      expect(b.cli.linesMatching(/x{100}/)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    "a long chat line from the peer is shown bounded, with the rest counted",
    async () => {
      const { a, b } = await connectedPair();
      a.cli.send("y".repeat(10_000));
      const { line } = await b.cli.waitForLine(/^<alice> y+ … \(6000 more characters not shown\)$/);
      expect(line.length).toBeLessThan(4100);
    },
    TEST_MS,
  );

  test(
    "transfers both ways at once, several paths in one command, chat in between",
    async () => {
      const { a, b } = await connectedPair();
      const folder = makeTempDir();
      const one = randomBytes(5 * MIB);
      const two = randomBytes(4 * MIB);
      writeFileSync(join(folder, "one.bin"), one);
      writeFileSync(join(folder, "two.bin"), two);

      a.cli.send(`transfer ${join(folder, "one.bin")} ${join(folder, "two.bin")}`);
      b.cli.send(`transfer ${join(folder, "two.bin")}`);
      await chat(a, b, "alice", "chat while files fly");
      // Each command's totals once, with its total: alice's two files, bob's one.
      await Promise.all([
        b.cli.waitForLine(exactLine(receiverTotal(one.length + two.length))),
        a.cli.waitForLine(exactLine(receiverTotal(two.length))),
        a.cli.waitForLine(exactLine(senderTotal(one.length + two.length))),
        b.cli.waitForLine(exactLine(senderTotal(two.length))),
      ]);
      expect(b.cli.linesMatching(/^The transfer command is done\. The receiver/)).toHaveLength(1);
      expect(a.cli.linesMatching(/^The transfer command is done\. The sender/)).toHaveLength(1);
      expect(readFileSync(join(b.dir, "one.bin")).equals(one)).toBe(true);
      expect(readFileSync(join(b.dir, "two.bin")).equals(two)).toBe(true);
      expect(readFileSync(join(a.dir, "two.bin")).equals(two)).toBe(true);

      a.cli.send("exit");
      expect(await a.cli.exitCode()).toBe(0);
      expect(await b.cli.exitCode()).toBe(0);
    },
    TEST_MS,
  );

  test(
    "dialing its own port is refused and the CLI keeps asking",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      // Its own code is said before any dial (tmux.test.ts); its port with other words is dialed.
      a.cli.send(`${a.port}-${a.code.endsWith("-ribbon-walnut") ? "acid-acid" : "ribbon-walnut"}`);
      await a.cli.waitForLine(/own port/);
      a.cli.send(b.code);
      await Promise.all([
        a.cli.waitForLine(/^Connected to bob at 127\.0\.0\.1:\d+\. /),
        b.cli.waitForLine(/^Connected to alice at 127\.0\.0\.1\. /), // dialed by alice: the host alone
      ]);
      expect(a.cli.linesMatching(/^Connected to/)).toHaveLength(1);
      expectNoStackTrace(a);
    },
    TEST_MS,
  );
});

describe("parley flags", () => {
  test(
    "--help exits 0 and prints Usage",
    async () => {
      const cli = startCli("help", ["--help"]);
      expect(await cli.exitCode()).toBe(0);
      expect(cli.stdout).toContain("Usage");
      expect(cli.stderr).toBe("");
    },
    TEST_MS,
  );

  test(
    "--version prints 'parley <version>'",
    async () => {
      const cli = startCli("version", ["--version"]);
      expect(await cli.exitCode()).toBe(0);
      expect(cli.lines[0]).toMatch(/^parley \d+\.\d+\.\d+/);
    },
    TEST_MS,
  );

  test(
    "--port abc exits 1 with a one-line error on stderr and no stack trace",
    async () => {
      const cli = startCli("bad-port", ["--port", "abc"]);
      expect(await cli.exitCode()).toBe(1);
      expect(cli.stdout).toBe("");
      const lines = cli.stderr.trimEnd().split("\n");
      // The error itself is one line naming the flag and the value; a usage hint may follow.
      expect(lines[0]).toMatch(/^parley: .*--port.*abc/);
      expect(lines.filter((l) => l.includes("--port"))).toHaveLength(1);
      expect(lines.slice(1).every((l) => /--help/.test(l))).toBe(true);
      expect(cli.stderr).not.toContain(STACK_FRAME);
    },
    TEST_MS,
  );

  test(
    "an unknown flag exits 1 without a stack trace",
    async () => {
      const cli = startCli("bad-flag", ["--frobnicate"]);
      expect(await cli.exitCode()).toBe(1);
      expect(cli.stderr).toMatch(/^parley: .*frobnicate/);
      expect(cli.stderr).not.toContain(STACK_FRAME);
    },
    TEST_MS,
  );
});

describe("strangers on the port", () => {
  /** Opens a raw TCP connection to `port`, writes `bytes`, and resolves when the peer closes it. */
  async function rawClient(port: number, bytes: Uint8Array): Promise<void> {
    const { promise: closed, resolve } = Promise.withResolvers<void>();
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: { data() {}, close: () => resolve(), error: () => resolve(), end: () => resolve() },
    });
    socket.write(bytes);
    socket.flush();
    try {
      await closed;
    } finally {
      socket.end();
    }
  }

  test(
    "an HTTP request, random bytes and an unknown frame are each dropped in one line; a peer still connects",
    async () => {
      // The unknown frame is no greeting: it is dropped as silent, here after 500 ms, not the 2 s
      // default (PARLEY_FIRST_HELLO_MS only shortens it; the default is handshake-clock.test.ts's).
      const [a, b] = await Promise.all([startPeer("alice", [], { PARLEY_FIRST_HELLO_MS: "500" }), startPeer("bob")]);
      const dropped = /^Dropped a connection from 127\.0\.0\.1:\d+: .+/;

      await rawClient(a.port, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      await a.cli.waitForLine(dropped);
      expect(a.cli.linesMatching(/^Dropped/)).toHaveLength(1);

      // 64 KiB of noise: almost always a bad length or type at once; at worst the HELLO timeout (5 s).
      const first = a.cli.lines.length;
      await rawClient(a.port, randomBytes(64 * 1024));
      await a.cli.waitForLine(dropped, 10_000, first);

      // A well-formed frame header with a type no Parley speaks.
      const second = a.cli.lines.length;
      await rawClient(a.port, Uint8Array.of(0, 0, 0, 3, 0xee, 0x68, 0x69));
      const silent = await a.cli.waitForLine(dropped, undefined, second);
      expect(silent.line).toEndWith(": not a Parley peer (no greeting).");
      expect(a.cli.linesMatching(/^Dropped/)).toHaveLength(3);

      // Bob dials alice, who is still listening and still asking for a peer.
      b.cli.send(a.code);
      await Promise.all([
        a.cli.waitForLine(/^Connected to bob at 127\.0\.0\.1\. /), // dialed by bob: the host alone
        b.cli.waitForLine(/^Connected to alice at 127\.0\.0\.1:\d+\. /),
      ]);
      await chat(b, a, "bob", "hello through the noise");
      expectNoStackTrace(a);
    },
    TEST_MS,
  );

  test(
    "a third Parley is refused while two are connected (the listener has closed), and the session carries on",
    async () => {
      const { a, b } = await connectedPair();
      const c = await startPeer("carol");

      c.cli.send(a.code);
      await c.cli.waitForLine(/connection refused/);
      await chat(a, b, "alice", "still just us");
      expect(a.cli.linesMatching(/^Connected to/)).toEqual([expect.stringMatching(/^Connected to bob/)]);
    },
    TEST_MS,
  );
});
