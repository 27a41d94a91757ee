/**
 * `parley send -` whose standard input is closed (`<&-`) or a folder (`< dir`): a usage error at
 * start (one line, exit 1), nothing contacted. Before, a closed stdin (the runtime's /dev/null)
 * was sent as an empty file reported verified, and a folder ended in "internal error: EISDIR"
 * (exit 70) after the connection was made. A shell's `< /dev/null` (chosen) still sends.
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, jsonReceiver, makeTempDir, PARLEY, WAIT_MS } from "./helpers.ts";

afterEach(cleanup);

/** `parley send - ARGS` with its stdin as the shell `redirect` leaves it; resolves once it exits. */
async function sendWithStdin(redirect: string, args: readonly string[]): Promise<{ code: number; cli: Cli }> {
  const cli = new Cli("sender", [], ["bash", "-c", `exec "$0" "$@" ${redirect}`, ...PARLEY, "send", "-", ...args]);
  const timer = setTimeout(() => cli.proc.kill("SIGKILL"), WAIT_MS);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, cli };
}

test.each([
  ["<&-", "- (standard input) is closed (<&-): there is nothing to send (for an empty file: < /dev/null)"],
  ["< /", "- (standard input) is a folder: send the folder by its path instead"],
])(
  "send - %s: one line, exit 1, the receiver never hears from it",
  async (redirect, said) => {
    const receiver = await jsonReceiver(makeTempDir());
    const { code, cli } = await sendWithStdin(redirect, ["--name", "s.bin", "--to", receiver.code]);
    expect(code, cli.describe()).toBe(1);
    expect(cli.stderr).toStartWith(`parley: ${said}\n`);
    expect(cli.stdout + cli.stderr).not.toMatch(/internal error|Connected to/);
    expect(receiver.cli.lines.filter((l) => l.includes('"connected"'))).toEqual([]);
  },
  20_000,
);

test("send - < /dev/null (chosen): an empty file is sent and saved", async () => {
  const dir = makeTempDir();
  const receiver = await jsonReceiver(dir);
  const { code, cli } = await sendWithStdin("< /dev/null", ["--name", "empty.bin", "--to", receiver.code]);
  expect(code, cli.describe()).toBe(0);
  expect(await receiver.cli.exitCode()).toBe(0);
  expect(readFileSync(join(dir, "empty.bin")).length).toBe(0);
}, 20_000);
