/**
 * Every option a command's `--help` lists is named in README.md's "Flags" section, where a user
 * looks for it: the chat's in its table, `parley send`'s and `parley receive`'s own at least by name
 * there (newuser33: `--to`, `--text`, `--stdout`, `--ask` and `--yes` were only in the Scripts
 * section's examples, and `-h` / `-v` nowhere). Each command's help is made from these specs
 * (formatOptions), so an option added to one fails here until the README names it.
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CHAT_OPTIONS, chatHelp } from "../../src/cli/args.ts";
import { RECEIVE_OPTIONS, receiveHelp, SEND_OPTIONS, sendHelp } from "../../src/cli/command-args.ts";

/** README.md's "## Flags" section, up to the next heading of that level. */
function flagsSection(): string {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  const start = readme.indexOf("\n## Flags\n");
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The long options a help text lists (`  --port N  ...`), and its short ones (`-h, --help`). */
function helpOptions(help: string): string[] {
  const names = [...help.matchAll(/^ {2}(?:(-[a-z]), )?(--[a-z-]+)/gm)].flatMap((m) => (m[1] ? [m[1], m[2]] : [m[2]]));
  return names.filter((name): name is string => name !== undefined);
}

const COMMANDS = [
  ["parley chat", chatHelp(), CHAT_OPTIONS],
  ["parley send", sendHelp(), SEND_OPTIONS],
  ["parley receive", receiveHelp(), RECEIVE_OPTIONS],
] as const;

for (const [command, help, specs] of COMMANDS) {
  test(`every option ${command} --help lists is named in README.md's Flags section`, () => {
    const listed = helpOptions(help);
    // The help is read, not assumed: it lists options of the command's own specs, --help among them.
    expect(listed).toContain("--help");
    expect(listed.filter((name) => name.startsWith("--")).every((name) => name.slice(2) in specs)).toBe(true);
    const section = flagsSection();
    const missing = listed.filter((name) => !new RegExp(`\`${name}(?![a-z-])`).test(section));
    expect(missing).toEqual([]);
  });
}
