/**
 * A mistyped command line, as a new user (or one used to croc or magic-wormhole) types it: the
 * one line says what was probably meant, and nothing listens or dials (exit 1). Before, each of
 * these said only "unknown option --dri" / "unknown command "sned"", and `receive a b` spoke of
 * a PEER the usage line does not name.
 */

import { afterEach, expect, test } from "bun:test";
import { Cli, cleanup, closedPort, WAIT_MS } from "./helpers.ts";

afterEach(cleanup);

async function firstLineOf(args: readonly string[]): Promise<{ code: number; line: string; stderr: string }> {
  const cli = new Cli("parley", args);
  const timer = setTimeout(() => cli.proc.kill("SIGKILL"), WAIT_MS);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, line: cli.stderr.split("\n")[0] as string, stderr: cli.stderr };
}

const CASES: readonly (readonly [string[], string])[] = [
  // A typo of the command's own option.
  [["receive", "--dri", "in"], "parley: unknown option --dri (did you mean --dir?)"],
  [["send", "a.txt", "--no-progres"], "parley: unknown option --no-progres (did you mean --no-progress?)"],
  [["--conect", "40123-ribbon-walnut"], "parley: unknown option --conect (did you mean --connect?)"],
  // A long option after one dash (Go's flag style): not read as -d, -i, -r.
  [["receive", "-dir", "in"], "parley: unknown option -dir (did you mean --dir?)"],
  [["send", "a.txt", "-json"], "parley: unknown option -json (did you mean --json?)"],
  // Another command's option.
  [
    ["send", "a.txt", "--dir", "in"],
    "parley: unknown option --dir (an option of parley chat and parley receive, not of parley send)",
  ],
  [
    ["receive", "--limit-rate", "1M"],
    "parley: unknown option --limit-rate (an option of parley chat and parley send, not of parley receive)",
  ],
  // Where the peer's code goes, for each command.
  [
    ["receive", "--to", "40123-ribbon-walnut"],
    "parley: unknown option --to (the sender's code goes alone after receive: parley receive CODE)",
  ],
  [
    ["send", "a.txt", "--code", "7-crossover-clockwork"],
    "parley: unknown option --code (the receiver's code goes after --to: parley send PATHS --to CODE; without --to, send shows a code of its own)",
  ],
  [
    ["--to", "40123-ribbon-walnut"],
    "parley: unknown option --to (the peer's code goes after --connect: parley --connect CODE)",
  ],
  // The command word.
  [["sned", "a.txt"], 'parley: unknown command "sned" (parley --help lists the commands; did you mean parley send?)'],
  [["recv"], 'parley: unknown command "recv" (parley --help lists the commands; did you mean parley receive?)'],
  [
    ["40123-ribbon-walnut"],
    'parley: unknown command "40123-ribbon-walnut" (parley --help lists the commands; to receive from the peer with that code: parley receive 40123-ribbon-walnut; to chat: parley --connect 40123-ribbon-walnut)',
  ],
  // A mailbox code as the command: the commands named take it only with the peer's mailbox
  // (`parley receive 7-crossover-clockwork` alone is refused: "a mailbox code like this one needs ...").
  [
    ["7-crossover-clockwork"],
    'parley: unknown command "7-crossover-clockwork" (parley --help lists the commands; to receive from the peer with that mailbox code: parley receive 7-crossover-clockwork --relay; to chat: parley --connect 7-crossover-clockwork --relay; or --relay-url URL instead of --relay, for the peer\'s own mailbox server)',
  ],
  // The usage line names CODE; the message did not. A code typed with spaces is shown joined.
  [
    ["receive", "40123", "ribbon-walnut"],
    "parley: receive takes one CODE (the sender's), not 2 arguments (a code is one word, joined by dashes: 40123-ribbon-walnut)",
  ],
  [
    ["receive", "3", "inertia", "fallout"],
    "parley: receive takes one CODE (the sender's), not 3 arguments (a code is one word, joined by dashes: 3-inertia-fallout)",
  ],
  [["receive", "a.txt", "b.txt"], "parley: receive takes one CODE (the sender's), not 2 arguments"],
  // Nothing near: the line stays as it was.
  [["send", "a.txt", "--frobnicate"], "parley: unknown option --frobnicate"],
];

test("a mistyped option or command: one line saying what was probably meant, exit 1", async () => {
  const results = await Promise.all(CASES.map(([args]) => firstLineOf(args)));
  CASES.forEach(([args, expected], i) => {
    const result = results[i] as { code: number; line: string; stderr: string };
    expect(result.line, `parley ${args.join(" ")}: ${result.stderr}`).toBe(expected);
    expect(result.code, `parley ${args.join(" ")}`).toBe(1);
  });
}, 30_000);

test("under --json the hint is in the E_USAGE event's message too", async () => {
  const cli = new Cli("parley", ["receive", "--json", "--dri", "in"]);
  expect(await cli.exited).toBe(1);
  expect(cli.lines).toEqual([
    '{"type":"error","code":"E_USAGE","message":"unknown option --dri (did you mean --dir?)"}',
  ]);
}, 20_000);

test("a port (a mailbox number) alone with standard input a pipe: no code prompt, the usage error at once; the pipe is not read as the code", async () => {
  // At a terminal the code is asked for (tmux.test.ts); a script's pipe must not be waited on,
  // nor its first line taken as the code: here it holds words that would be dialed.
  const port = closedPort();
  const runs = [
    ["receive", String(port)],
    ["send", "README.md", "--to", String(port)],
    ["receive", "7", "--relay-url", "ws://127.0.0.1:9/v1"],
  ].map((args) => {
    const cli = new Cli("parley", args);
    cli.send("ribbon-walnut"); // stdin stays open
    return cli;
  });
  const codes = await Promise.all(runs.map((cli) => cli.exitCode()));
  expect(codes).toEqual([1, 1, 1]);
  // A script that gave the port alone is told both ways, as the mailbox's number alone is (newuser33).
  for (const cli of runs.slice(0, 2)) {
    expect(cli.stderr).toStartWith(
      `parley: ${port} is only a port: give the whole code the peer's Parley shows, like 40123-ribbon-walnut (it begins with the port), or put the code in PARLEY_CODE or a --code-file\n`,
    );
  }
  expect(runs[2]?.stderr).toStartWith(`parley: "7" is only a mailbox code's number: give the whole code`);
  for (const cli of runs) expect(cli.stderr, cli.stderr).not.toContain("Enter the code");
}, 30_000);
