/**
 * `--code-file` given something that is not a small code file (`/dev/zero`, a big file): a
 * one-line usage error and exit 1, read no further than a code file could be. Before, the
 * whole file was read into memory: `/dev/zero` grew the process without end (210 MB in 7 s).
 */

import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";

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
