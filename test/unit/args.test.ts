/** parseChatArgs: flags of `parley chat`, defaults, and UsageError for anything else. */

import { describe, expect, test } from "bun:test";
import { type ChatOptions, parseChatArgs, UsageError } from "../../src/cli/args.ts";
import { CHECKSUM_ALGOS, DEFAULT_CHECKSUM } from "../../src/transfer/index.ts";
import { thrownBy } from "./helpers.ts";

function usageErrorOf(argv: readonly string[]): UsageError {
  const err = thrownBy(() => parseChatArgs(argv));
  expect(err, JSON.stringify(argv)).toBeInstanceOf(UsageError);
  return err as UsageError;
}

function optionsOf(argv: readonly string[]): ChatOptions {
  const parsed = parseChatArgs(argv);
  if (parsed.kind !== "chat") throw new Error(`expected chat options for ${JSON.stringify(argv)}, got ${parsed.kind}`);
  return parsed.options;
}

const defaults = {
  host: "127.0.0.1",
  insecurePortOnly: false,
  port: 0,
  dir: process.cwd(),
  progress: true,
  checksum: DEFAULT_CHECKSUM,
};

describe("parseChatArgs", () => {
  test("no flags give the defaults: 127.0.0.1, any port, progress bars, no peer, no name", () => {
    const parsed = parseChatArgs([]);
    expect(parsed.kind).toBe("chat");
    expect(optionsOf([])).toStrictEqual(defaults);
    expect("connect" in optionsOf([])).toBe(false);
    expect("name" in optionsOf([])).toBe(false);
  });

  test.each<[string[], Partial<ChatOptions>]>([
    [["--port", "5000"], { port: 5000 }],
    [["--port=5000"], { port: 5000 }],
    [["--port", "0"], { port: 0 }],
    [["--port", "65535"], { port: 65535 }],
    [["--port", "08080"], { port: 8080 }],
    [["--host", "0.0.0.0"], { host: "0.0.0.0" }],
    [["--host", "::"], { host: "::" }],
    [["--no-progress"], { progress: false }],
    [["--connect", "localhost:40123"], { connect: "localhost:40123" }],
    [["--connect", "40123", "--name", "alice"], { connect: "40123", name: "alice" }],
    [["--name", "n".repeat(64)], { name: "n".repeat(64) }],
    [["--dir", "/tmp/incoming"], { dir: "/tmp/incoming" }],
    [["--insecure-port-only"], { insecurePortOnly: true }],
    ...CHECKSUM_ALGOS.map((algo): [string[], Partial<ChatOptions>] => [["--checksum", algo], { checksum: algo }]),
  ])("%p sets %p", (argv, expected) => {
    expect(optionsOf(argv)).toStrictEqual({ ...defaults, ...expected });
  });

  test.each<[string[], string]>([
    [["--help"], "help"],
    [["-h"], "help"],
    [["--version"], "version"],
    [["-v"], "version"],
    [["--port", "5000", "--help"], "help"],
    [["--help", "--version"], "help"],
  ])("%p is %p", (argv, kind) => {
    expect(parseChatArgs(argv)).toStrictEqual({ kind } as ReturnType<typeof parseChatArgs>);
  });

  const bad: string[][] = [
    ["--port=abc"],
    ["--port", "abc"],
    ["--port", "70000"],
    ["--port", "65536"],
    ["--port=-1"],
    ["--port", "1.5"],
    ["--port", "0x10"],
    ["--port="],
    ["--port"],
    ["--bogus"],
    ["-x"],
    ["positional"],
    ["--no-progress=yes"],
    ["--name", ""],
    ["--name", "n".repeat(65)],
    ["--host", " "],
    ["--dir", ""],
    ["--dir", " "],
    ["--checksum", "md5"],
    ["--insecure-port-only", "--host", "0.0.0.0"],
  ];

  test.each(bad.map((argv): [string[]] => [argv]))("%p is a UsageError", (argv) => {
    const err = usageErrorOf(argv);
    expect(err.code).toBe("E_USAGE");
    expect(err.message.length).toBeGreaterThan(0);
    expect(err.message).not.toContain("\n");
  });

  test("a negative number as a value is explained, not called 'ambiguous'", () => {
    expect(usageErrorOf(["--port", "-5"]).message).toBe('--port needs a value, and it cannot start with "-"');
    expect(usageErrorOf(["--limit-rate", "-1"]).message).toBe(
      '--limit-rate needs a value, and it cannot start with "-"',
    );
  });

  test("a bad port names the value it refused", () => {
    expect(usageErrorOf(["--port", "70000"]).message).toContain("70000");
    expect(usageErrorOf(["--port=abc"]).message).toContain("abc");
  });
});

test("the chat's --help gives the chat's own exit codes: 1 is a lost connection too, 0 the peer leaving", async () => {
  // It showed the one-shot commands' line ('1 usage, ... 3 a transfer failed or was rejected'):
  // the chat's most common failure (the connection lost) was under none of them, and a failed
  // transfer in a Parley chat does not end it with 3 (newuser24, --help beside the README).
  const { chatHelp } = await import("../../src/cli/args.ts");
  const help = chatHelp();
  expect(help).toContain("0 after exit or the peer leaving");
  expect(help).toContain("1 usage or a lost connection");
  expect(help).toContain("3 or 4 only with a plain wormhole peer");
});
