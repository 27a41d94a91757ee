/**
 * `npx bun run chat` started in a folder of the user's (here the checkout's docs/): the start-up
 * line says relative paths resolve from that folder, `transfer NAME` sends that folder's file,
 * and "no such file" names the absolute path looked for (issue 11 item 25). Real processes:
 * npx, then bun's script runner, then Parley.
 */

import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, makeTempDir, ROOT, startPeer } from "./helpers.ts";

/** npx and bun run each start a child: every process under `pid`, deepest first. */
function descendants(pid: number): number[] {
  const r = Bun.spawnSync(["ps", "-o", "pid=", "--ppid", String(pid)], { stdout: "pipe" });
  const children = r.stdout
    .toString()
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
  return children.flatMap((child) => [...descendants(child), child]);
}

const wrappers: Cli[] = [];
afterEach(async () => {
  for (const cli of wrappers.splice(0)) {
    for (const pid of descendants(cli.proc.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  await cleanup();
});

test("npx bun run chat in docs/: relative paths are docs/'s, said at start-up and in errors", async () => {
  const docs = join(ROOT, "docs");
  const b = await startPeer("bob");
  const a = new Cli(
    "npx-chat",
    [],
    ["npx", "--no-install", "bun", "run", "chat", "--name", "alice", "--dir", makeTempDir(), "--no-progress"],
    docs,
  );
  wrappers.push(a);
  await a.waitForLine(new RegExp(`^Relative paths \\(transfer, --dir\\) are resolved from ${docs}\\.$`), 20_000);
  a.send(b.code);
  await a.waitForLine(/^Connected to bob/);
  a.send("transfer DESIGN-NOTES.md");
  await b.cli.waitForLine(/^Saved .*DESIGN-NOTES\.md; /);
  expect(readFileSync(join(b.dir, "DESIGN-NOTES.md")).equals(readFileSync(join(docs, "DESIGN-NOTES.md")))).toBe(true);
  a.send("transfer no-such-file.txt");
  const { line } = await a.waitForLine(/no such file/);
  expect(line).toBe(`Error: no such file: ${join(docs, "no-such-file.txt")}`);
  a.send("exit");
  expect(await a.exitCode(20_000)).toBe(0);
}, 40_000);
