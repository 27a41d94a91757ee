/**
 * A reader slower than the CLI (`parley receive --json | slow-consumer`) still gets every line:
 * the process waits for what the OS has not taken yet before it exits (src/cli/held-output.ts).
 * Before, `process.exit` threw away what Bun held for a full pipe, and the consumer lost the
 * run's last events, `bye` among them.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, makeTempDir, PARLEY, readUntil, startCli } from "./helpers.ts";

afterEach(cleanup);

const FILES = 600; // ~290 KB of events (~480 bytes a file): over four 64 KiB pipes, checked below

test("receive --json read only after the sender is done: every event arrives, the last one bye", async () => {
  const folder = join(makeTempDir(), "many");
  mkdirSync(folder);
  for (let i = 0; i < FILES; i++) writeFileSync(join(folder, `f${i}.txt`), `file ${i}\n`);
  const receiver = Bun.spawn([...PARLEY, "receive", "--json", "--dir", makeTempDir()], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  // Read up to the code, then nothing until the sender is done: the pipe fills, the rest is held.
  const reader = receiver.stdout.getReader();
  let text = await readUntil(reader, /"type":"listening".*\n/);
  const code = (JSON.parse(text.split("\n").find((l) => l.includes('"listening"')) as string) as { code: string }).code;
  const sender = startCli("sender", ["send", folder, "--to", code, "--no-progress"]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  await Bun.sleep(300); // the receiver has had its time to exit, if it does not wait for the reader
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  expect(await receiver.exited).toBe(0);
  const events = text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; direction?: string });
  expect(text.length).toBeGreaterThan(65_536 * 2); // more than a pipe holds: the case this is about
  expect(events.filter((e) => e.type === "done").length).toBe(FILES);
  expect(events.at(-1)?.type).toBe("bye");
}, 60_000);
