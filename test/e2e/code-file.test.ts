/**
 * `--code-file` given something that is not a small code file (`/dev/zero`, a big file): a
 * one-line usage error and exit 1, read no further than a code file could be. Before, the
 * whole file was read into memory: `/dev/zero` grew the process without end (210 MB in 7 s).
 *
 * A code file, or the resume secret, that other users can read or change: one warning line on
 * stderr, and the run goes on (README: warn, not refuse). Before, nothing was said.
 */

import { afterEach, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, jsonReceiver, makeTempDir, PARLEY, startCli } from "./helpers.ts";

afterEach(cleanup);

const TEST_MS = 30_000;

const COMMANDS: Record<string, readonly string[]> = {
  send: ["send", "--text", "hi", "--to", "1"],
  receive: ["receive", "--relay-url", "ws://127.0.0.1:1/v1"],
};

test.each(Object.keys(COMMANDS))(
  "%s with --code-file /dev/zero or a 1 MiB file: exit 1, one line saying it is not a code file",
  async (command) => {
    const args = COMMANDS[command] as readonly string[];
    const big = join(makeTempDir(), "big.txt");
    writeFileSync(big, `${"40123-ribbon-walnut\n".repeat(50_000)}`);
    for (const file of ["/dev/zero", big]) {
      const cli = startCli("cli", [...args, "--code-file", file]);
      const ended = await Promise.race([cli.exited, Bun.sleep(10_000).then(() => "still running after 10 s")]);
      expect(ended).toBe(1);
      expect(cli.stderr).toStartWith(`parley: --code-file ${file} holds more than 4096 bytes: not a code file\n`);
      expect(cli.stderr).not.toContain("    at ");
    }
  },
  TEST_MS,
);

/** `parley send --text hi` to a fresh receiver, the code in `codeFile` (mode `mode`); resolves with the sender, exited 0. */
async function sendWithCodeFile(mode: number, env: readonly string[] = []): Promise<Cli> {
  const receiver = await jsonReceiver(makeTempDir());
  const codeFile = join(makeTempDir(), "code.txt");
  writeFileSync(codeFile, `${receiver.code}\n`);
  chmodSync(codeFile, mode);
  const args = ["send", "--text", "hi", "--to", String(receiver.port), "--code-file", codeFile];
  const sender = new Cli("sender", args, ["env", ...env, ...PARLEY, ...args]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
  return sender;
}

test(
  "a code file other users can read gets one warning line on stderr, and the code is used all the same; a private one none",
  async () => {
    const open = await sendWithCodeFile(0o644);
    const warnings = open.stderr.split("\n").filter((l) => l.startsWith("Warning:"));
    expect(warnings, open.describe()).toEqual([
      expect.stringMatching(
        /^Warning: --code-file \S+code\.txt can be read by other users of this machine \(mode 0644\): chmod 600 \S+code\.txt$/,
      ),
    ]);
    const private_ = await sendWithCodeFile(0o600);
    expect(private_.stderr, private_.describe()).not.toContain("Warning:");
  },
  TEST_MS,
);

/** `send FILE` to a new receiver with XDG_STATE_HOME=`state`, both exiting 0: the sender's Warning lines. */
async function sendWarnings(state: string, file: string): Promise<{ warnings: string[]; describe: string }> {
  const receiver = await jsonReceiver(makeTempDir());
  const args = ["send", file, "--to", receiver.code, "--no-progress"];
  const sender = new Cli("sender", args, ["env", `XDG_STATE_HOME=${state}`, ...PARLEY, ...args]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.cli.exitCode()).toBe(0);
  return { warnings: sender.lines.filter((l) => l.startsWith("Warning:")), describe: sender.describe() };
}

test(
  "a file sent with a resume secret other users can read gets one warning line naming it; a private one none",
  async () => {
    const state = makeTempDir();
    mkdirSync(join(state, "parley"), { mode: 0o700 });
    const secret = join(state, "parley", "resume-secret");
    writeFileSync(secret, Buffer.alloc(32, 7));
    chmodSync(secret, 0o644);
    const file = join(makeTempDir(), "a.txt");
    writeFileSync(file, "resumable");
    for (const [mode, said] of [
      [
        0o644,
        [
          `Warning: the resume secret ${secret} can be read by other users of this machine (mode 0644): chmod 600 ${secret}`,
        ],
      ],
      [0o600, []],
    ] as const) {
      chmodSync(secret, mode);
      const { warnings, describe } = await sendWarnings(state, file);
      expect(warnings, describe).toEqual([...said]);
    }
  },
  TEST_MS,
);

test(
  "a file sent where the resume secret can be neither read nor stored (a state folder not this user's) gets one warning line saying resuming lasts this run only",
  async () => {
    // A file in the way fails for root too; for a normal user a read-only home, or a state
    // folder one `sudo parley` left root's, does the same (unit test: resume-secret.test.ts).
    const state = join(makeTempDir(), "not-a-folder");
    writeFileSync(state, "");
    const file = join(makeTempDir(), "a.txt");
    writeFileSync(file, "resumable");
    const { warnings, describe } = await sendWarnings(state, file);
    expect(warnings, describe).toEqual([
      `Warning: the resume secret cannot be read or stored in ${state}/parley (a part of the path is not a directory): a file cut short resumes only if sent again before this run ends; make that folder yours and writable, or set XDG_STATE_HOME to a folder of your own.`,
    ]);
  },
  TEST_MS,
);

test(
  "a listener's code printed into a file other users can read (receive --json > recv.jsonl, umask 022) is warned about on stderr; a private file (umask 077) is not",
  async () => {
    for (const [umask, warned] of [
      ["022", true],
      ["077", false],
    ] as const) {
      const out = join(makeTempDir(), "recv.jsonl");
      const dir = makeTempDir();
      const cli = new Cli(
        "receiver",
        [],
        ["bash", "-c", `umask ${umask}; exec "$0" "$@" > '${out}'`, ...PARLEY, "receive", "--json", "--dir", dir],
      );
      const { existsSync, readFileSync } = await import("node:fs");
      // bash makes the file first, then Parley writes its listening line into it.
      const listening = () => existsSync(out) && readFileSync(out, "utf8").includes('"listening"');
      for (let i = 0; i < 500 && !listening(); i++) await Bun.sleep(10);
      expect(readFileSync(out, "utf8")).toContain('"listening"');
      cli.kill("SIGTERM");
      expect(await cli.exitCode()).toBe(143);
      const lines = cli.stderr.split("\n").filter((l) => l.startsWith("Warning:"));
      expect(lines, cli.describe()).toEqual(
        warned
          ? [
              "Warning: the code goes to a file other users of this machine can read (mode 0644): one of them could dial with it before your peer does; make the file private first (umask 077).",
            ]
          : [],
      );
    }
  },
  TEST_MS,
);

test.each([
  [["send", "--text", "hi"], "--to 40123", "send"],
  [["receive"], "parley receive 40123 --code-file F", "receive"],
] as const)(
  "%p with --code-file but not the port: exit 1 at once, never listening with a code of its own",
  async (args, withPort, command) => {
    // Before: the file went unread and the command listened and showed a new code, without a
    // word, while the peer waited to be dialed with the code in the file.
    const codeFile = join(makeTempDir(), "code.txt");
    writeFileSync(codeFile, "40123-ribbon-walnut\n");
    chmodSync(codeFile, 0o600);
    const cli = startCli("cli", [...args, "--code-file", codeFile]);
    const ended = await Promise.race([cli.exited, Bun.sleep(10_000).then(() => "still running after 10 s")]);
    expect(ended, cli.describe()).toBe(1);
    expect(cli.lines, cli.describe()).toEqual([]);
    expect(cli.stderr.split("\n")[0]).toBe(
      `parley: --code-file is read to dial the peer: give the code's port too (${withPort}); without it, ${command} listens and shows a code of its own`,
    );
  },
  TEST_MS,
);

test
  .skipIf(process.getuid?.() !== 0)
  .each([
    [["receive", "40123"]],
    [["receive", "--relay-url", "ws://127.0.0.1:1/v1"]],
    [["send", "--text", "hi", "--to", "40123"]],
  ] as const)(
  "%p: a named pipe of another user at the code file's name is refused at once (exit 1), not waited on",
  async (args) => {
    // `mkfifo /tmp/code` by another user, where the code file was to be. Its open waited for that
    // user to open it for writing: the run stood still, Ctrl-C too (SIGINT changed nothing; only
    // SIGTERM or SIGKILL from elsewhere ended it), and whatever that user wrote was the code.
    const folder = makeTempDir();
    chmodSync(folder, 0o1777);
    const fifo = join(folder, "code");
    const made = Bun.spawnSync(["mkfifo", "-m", "0666", fifo]);
    expect(made.exitCode).toBe(0);
    chownSync(fifo, 65534, 65534); // nobody's
    const cli = startCli("cli", [...args, "--code-file", fifo]);
    const ended = await Promise.race([cli.exited, Bun.sleep(10_000).then(() => "still running after 10 s")]);
    if (ended !== 1) cli.kill("SIGKILL");
    expect(ended, cli.describe()).toBe(1);
    expect(cli.stderr.split("\n")[0]).toBe(
      `parley: --code-file ${fifo} is not a file but a named pipe of another user (uid 65534), who chooses what is read from it (and whether anything ever is): not read; keep the code in a file of your own (chmod 600)`,
    );
  },
  TEST_MS,
);

test("a code file that is a pipe of our own (bash's <(...)) is read as its writer writes it", async () => {
  const receiver = await jsonReceiver(makeTempDir());
  const args = ["send", "--text", "hi", "--to", String(receiver.port)];
  // The writer waits a moment first: the pipe is open, with nothing in it yet, when Parley reads.
  const script = `exec "$0" "$@" --code-file <(sleep 0.5; echo '${receiver.code}')`;
  const sender = new Cli("sender", args, ["bash", "-c", script, ...PARLEY, ...args]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
  expect(sender.stderr, sender.describe()).not.toContain("Warning:");
});
