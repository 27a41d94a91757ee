/**
 * `receive --ask` at a terminal (a pty through script(1)) when its question is still waiting and
 * the run ends: the lines after it end cleanly. Before, the receiver's own Ctrl-C left an empty
 * line after "Connection closed" (the question's line was ended twice), and the sender's Ctrl-C
 * showed the dead question again below each line, "Connection closed" included.
 */

import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, makeTempDir, PARLEY_SHELL, startCli } from "./helpers.ts";

afterEach(cleanup);

/** A receiver with --ask at a terminal, its question on screen for a 6-byte file; and the sender. */
async function askedAtTerminal(): Promise<{ receiver: Cli; sender: Cli; screen: () => string }> {
  const dir = makeTempDir();
  const src = join(makeTempDir(), "f.txt");
  writeFileSync(src, "hello\n");
  const command = `cd '${dir}' && exec ${PARLEY_SHELL} receive --ask --no-progress`;
  const receiver = new Cli("receiver", [], ["script", "-qec", command, "/dev/null"]);
  const screen = () => receiver.stdout.replace(/\r/g, "");
  for (let i = 0; i < 1000 && !/· code \d+-[a-z]+-[a-z]+/.test(screen()); i++) await Bun.sleep(10);
  const code = /· code (\d+-[a-z]+-[a-z]+)/.exec(screen())?.[1] as string;
  const sender = startCli("sender", ["send", src, "--to", code, "--no-progress"]);
  for (let i = 0; i < 1000 && !screen().includes("? [y/N] "); i++) await Bun.sleep(10);
  return { receiver, sender, screen };
}

test("the receiver's Ctrl-C at its question: no empty line after 'Connection closed'", async () => {
  const { receiver, screen } = await askedAtTerminal();
  receiver.proc.stdin.write("\x03"); // the terminal's Ctrl-C: SIGINT to the receiver
  receiver.proc.stdin.flush();
  await receiver.exitCode();
  const text = screen();
  expect(text).toContain("Connection closed (interrupted).\n");
  expect(text, text).not.toContain("\n\n");
  expect(text.endsWith("Connection closed (interrupted).\n"), text).toBe(true);
}, 30_000);

test("the sender's Ctrl-C while the question waits: the dead question is not shown again, nor an empty line", async () => {
  const { receiver, sender, screen } = await askedAtTerminal();
  await sender.waitForLine(/^Sending #1 f\.txt/);
  sender.kill("SIGINT");
  await receiver.exitCode();
  const text = screen();
  expect(text).toContain("Receiving #1 f.txt failed: the peer left (interrupted).\n");
  expect(text.match(/\? \[y\/N\]/g), text).toHaveLength(1);
  expect(text, text).not.toContain("\n\n");
  expect(text.endsWith("Connection closed (interrupted).\n"), text).toBe(true);
}, 30_000);
