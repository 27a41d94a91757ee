/**
 * A download folder other users can change (mode 0777, no sticky bit): `parley receive` and the
 * chat say so in one warning line on stderr at start, and go on (README: warn, not refuse);
 * with --json a `warning` event follows the first event (`listening`, which scripts read first).
 * A folder only we can write to (0700) gets no line. Before, nothing was said. A folder of ours
 * inside a 0777 one gets the line for the folder above it (they could swap ours for another
 * before it is opened): before session 15, none.
 */

import { afterEach, expect, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Cli, cleanup, jsonReceiver, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);

const TEST_MS = 30_000;

/** A new folder `name` of mode `mode` (chmod: not cut by the umask) in a fresh temp dir. */
function folderOfMode(mode: number): string {
  const dir = join(makeTempDir(), "dl");
  mkdirSync(dir);
  chmodSync(dir, mode);
  return dir;
}

/** Stops `cli` (SIGTERM) and resolves with its warning lines on stderr. */
async function warningsOf(cli: Cli): Promise<string[]> {
  cli.proc.kill("SIGTERM");
  await cli.exited;
  return cli.stderr.split("\n").filter((line) => line.startsWith("Warning:"));
}

const LINE = (dir: string) =>
  `Warning: other users can change ${dir} (mode 0777, no sticky bit): files received there could be swapped before they are stored; use a folder only you can write to.`;

test(
  "parley receive --json into a 0777 folder: one warning line on stderr, and a warning event after listening; 0700: none",
  async () => {
    const shared = folderOfMode(0o777);
    const receiver = await jsonReceiver(shared);
    await receiver.cli.waitForLine(/"type":"warning"/);
    expect(await warningsOf(receiver.cli), receiver.cli.describe()).toEqual([LINE(shared)]);
    const events = receiver.cli.lines.map((line) => JSON.parse(line) as { type: string });
    expect(events[0]?.type).toBe("listening");
    const warningEvents: unknown[] = events.filter((e) => e.type === "warning");
    expect(warningEvents).toEqual([{ type: "warning", code: "W_SHARED_DIR", message: LINE(shared) }]);
    const own = await jsonReceiver(folderOfMode(0o700));
    expect(await warningsOf(own.cli), own.cli.describe()).toEqual([]);
    expect(own.cli.stdout).not.toContain('"warning"');
  },
  TEST_MS,
);

test(
  "parley receive (human) and the chat into a 0777 folder: the warning once on stderr; into a 0700 one: none",
  async () => {
    for (const args of [["receive", "--no-progress"], ["--no-progress"]]) {
      for (const [mode, expected] of [
        [0o777, 1],
        [0o700, 0],
      ] as const) {
        const dir = folderOfMode(mode);
        const cli = startCli(args[0] as string, [...args, "--host", "127.0.0.1", "--dir", dir]);
        await cli.waitForLine(/^Listening on 127\.0\.0\.1:\d+/);
        const warnings = await warningsOf(cli);
        expect(warnings, cli.describe()).toEqual(expected === 1 ? [LINE(dir)] : []);
        expect(cli.stdout).not.toContain("Warning:");
      }
    }
  },
  TEST_MS,
);

test(
  "parley receive into a folder of ours inside a 0777 one: the warning names the folder above; the chat's too",
  async () => {
    const open = folderOfMode(0o777);
    const dir = join(open, "mine");
    mkdirSync(dir, { mode: 0o700 });
    const line = `Warning: other users can change ${open} (mode 0777, no sticky bit), a folder above the download folder ${dir}: the download folder could be swapped for another (or a link to one of yours) before it is opened; use a folder only you can write to.`;
    for (const args of [["receive", "--no-progress"], ["--no-progress"]]) {
      const cli = startCli(args[0] as string, [...args, "--host", "127.0.0.1", "--dir", dir]);
      await cli.waitForLine(/^Listening on 127\.0\.0\.1:\d+/);
      expect(await warningsOf(cli), cli.describe()).toEqual([line]);
    }
  },
  TEST_MS,
);
