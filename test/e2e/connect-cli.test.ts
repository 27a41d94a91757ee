/**
 * How the CLI reaches the peer, through real processes: a code on argv is warned about (issue
 * 11.12), an invalid --connect with piped input is a usage error (11.19), a failed dial says
 * so in its own words (11.26), `transfer` alone shows its usage (11.27), the end of input at
 * the code prompt says something (11.31), and `receive --ask` asks one offer at a time (11.17).
 */

import { afterEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, closedPort, connectedPair, makeTempDir, startCli, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const ARGV_NOTE = /Note: the code is on this command line, which other users of this machine can see \(ps\)/;

test(
  "send --to CODE and receive CODE warn that the code is visible to other users; PARLEY_CODE does not",
  async () => {
    const dir = makeTempDir();
    const file = join(makeTempDir(), "a.bin");
    writeFileSync(file, randomBytes(1000));
    const receiver = startCli("receiver", ["receive", "--dir", dir, "--json"]);
    const { line } = await receiver.waitForLine(/"type":"listening"/);
    const { code } = JSON.parse(line) as { code: string };
    const sender = startCli("sender", ["send", file, "--to", code, "--json"]);
    expect(await sender.exitCode()).toBe(0);
    expect(sender.stderr).toMatch(ARGV_NOTE);
    expect(await receiver.exitCode()).toBe(0);

    const listeningSender = startCli("sender2", ["send", file]);
    const listening = await listeningSender.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const dialer = startCli("receiver2", ["receive", listening.match[1] as string, "--dir", makeTempDir()]);
    expect(await dialer.exitCode()).toBe(0);
    expect(dialer.lines.some((l) => ARGV_NOTE.test(l))).toBe(true);
    expect(await listeningSender.exitCode()).toBe(0);
    expect(listeningSender.lines.some((l) => ARGV_NOTE.test(l))).toBe(false); // it was given no code
  },
  TEST_MS,
);

test(
  "send --to PORT with --code-file holding another port's code: exit 1 saying so, the listener at PORT is not dialed",
  async () => {
    const file = join(makeTempDir(), "a.bin");
    writeFileSync(file, randomBytes(1000));
    const receiver = startCli("receiver", ["receive", "--dir", makeTempDir(), "--no-progress"]);
    const { match } = await receiver.waitForLine(/· code ((\d+)-[a-z]+-[a-z]+)$/);
    const port = Number(match[2]);
    const codeFile = join(makeTempDir(), "code.txt");
    // The code of a listener at another port, and a typo in --to: before, this listener was dialed
    // with that code's words, counted a wrong code (1 of 3), and the sender said "wrong code".
    const otherPort = port === 65535 ? port - 1 : port + 1;
    const otherWords = (match[1] as string).endsWith("-ribbon-walnut") ? "oyster-velvet" : "ribbon-walnut";
    writeFileSync(codeFile, `${otherPort}-${otherWords}\n`, { mode: 0o600 });
    const typo = startCli("sender", ["send", file, "--to", String(port), "--code-file", codeFile]);
    expect(await typo.exitCode(), typo.describe()).toBe(1);
    expect(typo.stderr).toContain(`is for port ${otherPort}, not ${port}`);
    // The listener heard nothing: the right code afterwards is its first and only handshake.
    writeFileSync(codeFile, `${match[1]}\n`);
    const sender = startCli("sender2", ["send", file, "--to", String(port), "--code-file", codeFile]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.exitCode()).toBe(0);
    expect(receiver.lines.filter((l) => /wrong code/i.test(l))).toEqual([]);
  },
  TEST_MS,
);

test(
  "--connect with something that is not a code, input piped: exit 1 with the usage error, nothing else",
  async () => {
    for (const bad of ["not-a-code!", "40123", "40123-foo-bar"]) {
      const cli = startCli("alice", ["--connect", bad, "--dir", makeTempDir()]);
      cli.endInput();
      expect(await cli.exitCode()).toBe(1);
      expect(cli.stderr).toMatch(/^parley: --connect: /);
      expect(cli.stderr).toContain("Usage: parley [chat] [options]");
      expect(cli.lines.filter((l) => /^Listening on/.test(l))).toEqual([]);
    }
  },
  TEST_MS,
);

test(
  "a failed dial says 'Could not connect to HOST:PORT: reason', never 'Dropped a connection'",
  async () => {
    const a = await startPeer("alice");
    const dead = closedPort();
    a.cli.send(`${dead}-ribbon-walnut`);
    await a.cli.waitForLine(new RegExp(`^Could not connect to 127\\.0\\.0\\.1:${dead}: connection refused\\.`));
    // Its own port with other words (its own code is said before any dial): the handshake fails on the dialing side.
    a.cli.send(`${a.port}-${a.code.endsWith("-ribbon-walnut") ? "acid-acid" : "ribbon-walnut"}`);
    await a.cli.waitForLine(/^Could not connect to 127\.0\.0\.1:\d+: that is this Parley's own port/);
    expect(a.cli.linesMatching(/^Dropped a connection/)).toEqual([]);

    const json = startCli("json", ["send", "/etc/hostname", "--to", `${dead}-ribbon-walnut`, "--json"]);
    expect(await json.exitCode()).toBe(2);
    // Lower case after "Error:" (as every other error line) and in the event; the chat's own sentence above capitalises it.
    expect(json.lines.join("\n")).toContain(
      `"message":"could not connect to 127.0.0.1:${dead}: connection refused (nothing`,
    );
  },
  TEST_MS,
);

test(
  "a second receive of a code already used says what to do: the sender took its peer and stopped listening",
  async () => {
    const file = join(makeTempDir(), "a.bin");
    writeFileSync(file, randomBytes(1000));
    const sender = startCli("sender", ["send", file, "--no-progress"]);
    const { match } = await sender.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const code = match[1] as string;
    const first = startCli("first", ["receive", code, "--dir", makeTempDir()]);
    expect(await first.exitCode()).toBe(0);
    expect(await sender.exitCode()).toBe(0);
    const second = startCli("second", ["receive", code, "--dir", makeTempDir()]);
    expect(await second.exitCode()).toBe(2);
    // Before: "Error: could not connect to 127.0.0.1:PORT: connection refused." and nothing to try.
    const port = code.split("-")[0];
    expect(second.stderr + second.stdout).toContain(
      `Error: could not connect to 127.0.0.1:${port}: connection refused (nothing listens there): check the port with the peer; its Parley may have ended, or taken its peer already (a code serves one connection: start it again for a new code).\n`,
    );
  },
  TEST_MS,
);

test(
  "a dial whose listener closes before its greeting says what to do next, as the chat does",
  async () => {
    // What a receiver killed while the sender dialed it looks like: the port takes the
    // connection and closes it at once (newuser31 met it with SIGKILL; here a socket that closes).
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (socket) => {
          socket.end();
        },
        data: () => {},
      },
    });
    try {
      const file = join(makeTempDir(), "a.bin");
      writeFileSync(file, "a");
      const sender = new Cli("sender", ["send", file, "--to", String(server.port)], undefined, undefined, {
        env: { PARLEY_CODE: `${server.port}-ribbon-walnut` },
      });
      expect(await sender.exitCode(), sender.describe()).toBe(2);
      // Before: "Error: could not connect to 127.0.0.1:PORT: closed before the greeting." and nothing to try.
      expect(sender.stderr + sender.stdout).toContain(
        `Error: could not connect to 127.0.0.1:${server.port}: closed before the greeting; check the code with the peer, and that its Parley is still running (started again, it has a new code).\n`,
      );
    } finally {
      server.stop(true);
    }
  },
  TEST_MS,
);

test(
  "`transfer` alone shows its usage and sends nothing as chat",
  async () => {
    const { a, b } = await connectedPair();
    a.cli.send("transfer");
    await a.cli.waitForLine(/^Usage: transfer <path>\.\.\./);
    a.cli.send("after the usage");
    await b.cli.waitForLine(/^<alice> after the usage$/);
    expect(b.cli.linesMatching(/^<alice> transfer$/)).toEqual([]);
  },
  TEST_MS,
);

test(
  "the end of input at the code prompt (Ctrl-D) says so and exits 0",
  async () => {
    const a = await startPeer("alice");
    a.cli.endInput();
    expect(await a.cli.exitCode()).toBe(0);
    expect(a.cli.lines.at(-1)).toBe("End of input before a peer connected: nothing was sent. Bye.");
  },
  TEST_MS,
);

test(
  "receive --ask with three files offered at once: one question at a time, each answer to the file it names",
  async () => {
    const src = makeTempDir();
    const names = ["mid50.bin", "big300.bin", "small.txt"];
    for (const name of names) writeFileSync(join(src, name), randomBytes(2000));
    const dir = makeTempDir();
    const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
    const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
    const sender = startCli("sender", ["send", ...names.map((n) => join(src, n)), "--to", match[1] as string]);
    const answers: Record<string, string> = { "mid50.bin": "y", "big300.bin": "n", "small.txt": "y" };
    for (let asked = 1; asked <= 3; asked++) {
      // Each earlier question ends with the piped answer echoed after it; this one waits.
      await receiver.waitForStderr(
        new RegExp(`((Accept .*\\? \\[y/N\\] [yn]\\n)[^]*){${asked - 1}}Accept .*\\? \\[y/N\\] $`),
      );
      const questions = receiver.stderr.match(/Accept (\S+) \(/g) ?? [];
      expect(questions).toHaveLength(asked); // the next question only after the answer
      const name = /Accept (\S+) \(/.exec(questions.at(-1) as string)?.[1] as string;
      // "Receiving" for this file only after a yes.
      expect(receiver.lines.some((l) => l.startsWith(`Receiving ${name}`))).toBe(false);
      receiver.send(answers[name] as string);
    }
    expect(await sender.exitCode()).toBe(3); // one declined: 3 on both sides
    expect(await receiver.exitCode()).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(["mid50.bin", "small.txt"]);
    expect(existsSync(join(dir, "big300.bin"))).toBe(false);
    expect(receiver.lines.filter((l) => l.startsWith("Receiving")).map((l) => l.split(" ")[1])).not.toContain(
      "big300.bin",
    );
  },
  TEST_MS,
);

test("a mailbox code given to a command without a mailbox: exit 1, the line says to give the peer's mailbox", async () => {
  const cli = startCli("receive", ["receive", "7-crossover-clockwork", "--dir", makeTempDir()]);
  expect(await cli.exitCode()).toBe(1);
  expect(cli.stderr.split("\n")[0]).toBe(
    `parley: "7-crossover-clockwork" is not a valid code (port-word-word, as the peer's Parley shows it); a mailbox code like this one needs the peer's mailbox: --relay, or --relay-url URL`,
  );
}, 30_000);

test("--connect with a word mistyped: exit 1, the line names the word and the one meant", async () => {
  const cli = startCli("chat", ["--connect", "40123-ribbon-walnot", "--dir", makeTempDir()]);
  expect(await cli.exitCode()).toBe(1);
  expect(cli.stderr, cli.describe()).toContain(
    `"40123-ribbon-walnot" is not a valid code: "walnot" is not one of the words codes are made of (did you mean "walnut"?)`,
  );
}, 30_000);

test("a line at the code prompt that is not a code is quoted with its escapes made visible", async () => {
  const cli = startCli("chat", ["--dir", makeTempDir()]);
  await cli.waitForLine(/^Enter the code the peer's Parley shows/);
  // Pasted from a message, say: it was quoted as it came, and cleared the screen.
  cli.send("40123-ribbon\x1b[2J\x1b]0;PWNED\x07-walnut");
  await cli.waitForLine(/^Error: .* Enter the peer's code, e\.g\. 40123-ribbon-walnut\.$/);
  cli.endInput();
  await cli.exitCode();
  expect(cli.stdout).not.toContain("\x1b");
  expect(cli.linesMatching(/^Error: /)).toEqual([
    `Error: "40123-ribbon^[[2J^[]0;PWNED^G-walnut" is not a code, a port or host:port. Enter the peer's code, e.g. 40123-ribbon-walnut.`,
  ]);
}, 30_000);

test("a host name that does not resolve is said in words, dialing (exit 2) and listening (exit 2)", async () => {
  // .invalid never resolves (RFC 2606); offline, the resolver's "no answer" is worded too.
  const file = join(makeTempDir(), "a.txt");
  writeFileSync(file, "a");
  const sender = startCli("sender", ["send", file, "--to", "nosuch.invalid:40123-arena-surface", "--no-progress"]);
  expect(await sender.exitCode(), sender.describe()).toBe(2);
  expect(sender.linesMatching(/^Error: /), sender.describe()).toEqual([
    expect.stringMatching(
      /^Error: could not connect to nosuch\.invalid:40123: (no such host \(the name does not resolve\)|the host name could not be resolved now \(no answer from DNS\)); check the code with the peer, and that its Parley is still running \(started again, it has a new code\)\.$/,
    ),
  ]);
  const receiver = startCli("receiver", ["receive", "--host", "nosuch.invalid"]);
  expect(await receiver.exitCode(), receiver.describe()).toBe(2);
  expect(receiver.stdout + receiver.stderr).toContain(
    "cannot listen on nosuch.invalid:0: no such address on this machine (or a host name that does not resolve)",
  );
  expect(receiver.stdout + receiver.stderr + sender.stdout).not.toMatch(/getaddrinfo|ENOTFOUND|Failed to listen/);
}, 30_000);

test("a connected chat's commands typed at the code prompt (transfer, transfers, cancel N) say they need a peer; cancel with words is a code's error", async () => {
  const chat = startCli("chat", ["--dir", makeTempDir()]);
  await chat.waitForLine(/^Listening on /);
  for (const line of ["transfer notes.txt", "transfers", "cancel 3", "cancel the meeting"]) chat.send(line);
  await chat.waitForLine(/^Error: "cancel the meeting"/);
  chat.endInput();
  expect(await chat.exitCode()).toBe(0);
  // Before: "transfers" and "cancel 3" read `"transfers" is not a code, a port or host:port`.
  expect(chat.lines.filter((l) => l.startsWith("Error"))).toEqual([
    'Error: not connected yet: "transfer" works once the peer is connected. Enter the peer\'s code, e.g. 40123-ribbon-walnut.',
    'Error: not connected yet: "transfers" works once the peer is connected. Enter the peer\'s code, e.g. 40123-ribbon-walnut.',
    'Error: not connected yet: "cancel" works once the peer is connected. Enter the peer\'s code, e.g. 40123-ribbon-walnut.',
    'Error: "cancel the meeting" is not a code, a port or host:port. Enter the peer\'s code, e.g. 40123-ribbon-walnut.',
  ]);
}, 20_000);
