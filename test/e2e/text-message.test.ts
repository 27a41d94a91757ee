/**
 * `parley send --text` into `parley receive`: the text is what the receive run is for, so its
 * human output shows all of it (made safe, as every peer text is), not cut at the chat's 4,000
 * characters with the rest lost. The chat keeps its bound (a flood of lines while typing).
 */

import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);

test("a 20,000-character --text arrives whole on the receiver's terminal", async () => {
  const receiver = startCli("receiver", ["receive", "--dir", makeTempDir()]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const text = `${"0123456789".repeat(2000)}\x1b[31mend`;
  const sender = startCli("sender", ["send", "--text", text, "--to", match[1] as string]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.exitCode(), receiver.describe()).toBe(0);
  const [line] = receiver.linesMatching(/^<peer> /);
  expect(line).toBe(`<peer> ${"0123456789".repeat(2000)}^[[31mend`);
});

test("send --text into receive --stdout: the text is its standard output, as a plain wormhole sender's is", async () => {
  // It went to stderr as '<peer> build 1234 is green' and stdout stayed empty (newuser24:
  // `parley receive --stdout > msg.txt` got an empty msg.txt), while `wormhole send --text`'s
  // text is what --stdout writes (mailbox-cli). A file offered after it is refused: stdout is taken.
  const receiver = startCli("receiver", ["receive", "--stdout", "--no-progress"]);
  await receiver.waitForStderr(/· code \d+-[a-z]+-[a-z]+$/m);
  const code = (/· code (\d+-[a-z]+-[a-z]+)$/m.exec(receiver.stderr) as RegExpExecArray)[1] as string;
  const sender = startCli("sender", ["send", "--text", "build 1234 is green", "--to", code]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.exitCode(), receiver.describe()).toBe(0);
  expect(receiver.stdout).toBe("build 1234 is green\n");
  expect(receiver.stderr).not.toContain("<peer>");
});

test("receive --stdout holds what comes first: a chat's line, then its file is declined and a later line goes to stderr", async () => {
  const receiver = startCli("receiver", ["receive", "--stdout", "--no-progress"]);
  await receiver.waitForStderr(/· code \d+-[a-z]+-[a-z]+$/m);
  const code = (/· code (\d+-[a-z]+-[a-z]+)$/m.exec(receiver.stderr) as RegExpExecArray)[1] as string;
  const dir = makeTempDir();
  writeFileSync(join(dir, "f.bin"), "file bytes");
  const chat = startCli("chat", ["--connect", code, "--name", "chat", "--no-progress", "--dir", dir]);
  await chat.waitForLine(/^Connected to /);
  chat.send("first line");
  chat.send(`transfer ${join(dir, "f.bin")}`);
  const { line } = await chat.waitForLine(/^Sending #1 f\.bin failed/);
  expect(line, chat.describe()).toContain("--stdout takes one file or text message, and has one already");
  chat.send("second line");
  await receiver.waitForStderr(/^<peer> second line$/m);
  chat.send("exit");
  expect(await chat.exitCode(), chat.describe()).toBe(0);
  expect(await receiver.exitCode(), receiver.describe()).toBe(3); // the file it declined
  expect(receiver.stdout).toBe("first line\n");
}, 20_000);
