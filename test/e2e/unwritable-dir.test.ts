/**
 * A download folder nobody can write to (`--dir` on a read-only mount, or a folder without
 * write permission for this user) ends `parley receive` and the chat at start, with one line
 * and exit 1, instead of listening and failing when the first file arrives. An empty `--dir ""`
 * (a variable left unset) is wrong usage too, not the current folder.
 */

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NormalUser, normalUser } from "../normal-user.ts";
import { Cli, cleanup, WAIT_MS } from "./helpers.ts";
import { type Mounted, mountTmpfs } from "./tmpfs.ts";

afterEach(cleanup);

/** A folder this process cannot create files in: a read-only tmpfs as root, else mode 0555. */
let unwritable: Mounted | undefined;

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    const path = mkdtempSync(join(tmpdir(), "parley-unwritable-"));
    chmodSync(path, 0o555);
    unwritable = {
      path,
      release: () => {
        chmodSync(path, 0o755);
        rmSync(path, { recursive: true, force: true });
      },
    };
    return;
  }
  // Root writes through any mode bits: only a read-only mount is unwritable for it.
  const mount = mountTmpfs("parley-unwritable-", "ro,size=64k");
  if (typeof mount === "string") {
    if (process.env.PARLEY_REQUIRE_WORMHOLE === "1") throw new Error(`cannot mount a read-only tmpfs: ${mount}`);
    console.warn("\n*** SKIPPED: unwritable --dir: root here cannot mount a read-only tmpfs ***\n");
    return;
  }
  unwritable = mount;
});

afterAll(() => unwritable?.release());

/** Runs the CLI with `args` (stdin left open; as `user` when given) and waits for its exit, at most WAIT_MS. */
async function exitOf(args: readonly string[], user?: NormalUser): Promise<{ code: number; cli: Cli }> {
  const cli = user
    ? new Cli("parley", args, [user.bun(), join(user.root(), "src/cli/main.ts"), ...args], user.root(), {
        ...user.ids,
        env: user.env(),
      })
    : new Cli("parley", args);
  const timer = setTimeout(() => cli.proc.kill("SIGKILL"), WAIT_MS);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, cli };
}

test("receive --dir UNWRITABLE: one line, exit 1, never listens", async () => {
  if (!unwritable) return;
  const { code, cli } = await exitOf(["receive", "--dir", unwritable.path]);
  expect(code, cli.stdout + cli.stderr).toBe(1);
  expect(cli.stderr).toContain(`parley: cannot save received files in ${unwritable.path}: `);
  expect(cli.stdout).not.toContain("Listening on");
}, 20_000);

test("chat --dir UNWRITABLE: an error line, exit 1, before any peer can come", async () => {
  if (!unwritable) return;
  const { code, cli } = await exitOf(["--dir", unwritable.path, "--no-progress"]);
  expect(code, cli.stdout + cli.stderr).toBe(1);
  expect(cli.stdout + cli.stderr).toMatch(new RegExp(`cannot save received files in ${unwritable.path}: `));
  expect(cli.stdout).not.toContain("Enter the code");
}, 20_000);

test("chat in the mailbox flow with --dir UNWRITABLE: exit 1 before the mailbox is asked", async () => {
  if (!unwritable) return;
  const { code, cli } = await exitOf(["--dir", unwritable.path, "--relay-url", "ws://127.0.0.1:9/v1"]);
  expect(code, cli.stdout + cli.stderr).toBe(1);
  expect(cli.stdout + cli.stderr).toMatch(new RegExp(`cannot save received files in ${unwritable.path}: `));
  expect(cli.stdout + cli.stderr).not.toContain("mailbox server");
}, 20_000);

test.each([["receive"], ["chat"]])(
  '%s --dir "" (a variable left unset): one line, exit 1, never listens; it is not the current folder',
  async (command) => {
    const { code, cli } = await exitOf([command, "--dir", "", "--no-progress"]);
    expect(code, cli.stdout + cli.stderr).toBe(1);
    expect(cli.stderr).toStartWith("parley: --dir must not be empty (leave it out for the current folder)\n");
    expect(cli.stdout).not.toContain("Listening on");
  },
  20_000,
);

test("a usage error quoting what was typed shows its escape sequences and line breaks, never runs them", async () => {
  const typed = "/proc/parley-no-such\x1b[2J\nsecond line";
  const { code, cli } = await exitOf(["receive", "--dir", typed]);
  expect(code, cli.stderr).toBe(1);
  expect(cli.stderr).not.toContain("\x1b");
  const [first, second] = cli.stderr.split("\n");
  expect(first).toStartWith("parley: cannot create --dir /proc/parley-no-such^[[2J^Jsecond line: ");
  expect(second).toStartWith("Usage: parley receive ");
  const unknown = await exitOf(["\x1b[31mred"]);
  expect(unknown.code).toBe(1);
  expect(unknown.cli.stderr).toBe('parley: unknown command "^[[31mred" (parley --help lists the commands)\n');
}, 20_000);

const user = normalUser("parley-write-only-");

user.test.each([["receive"], ["chat"]])(
  "%s --dir WRITE-ONLY (0300: files could be made, but the receiver opens the folder): one line, exit 1, never listens; as a normal user (nobody, when the tests run as root)",
  async (command) => {
    const dir = user.folder(0o300);
    const { code, cli } = await exitOf([command, "--dir", dir, "--no-progress"], user);
    expect(code, cli.stdout + cli.stderr).toBe(1);
    expect(cli.stderr).toStartWith(
      `parley: cannot save received files in ${dir}: this user may create files in it but not read it (permission denied), and Parley opens the folder it saves into (--dir chooses another folder)\n`,
    );
    expect(cli.stdout).not.toContain("Listening on");
  },
  20_000,
);
