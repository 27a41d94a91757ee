/**
 * Shared set-up of the end-to-end tests that meet through magic-wormhole's servers: the
 * mailbox server and transit relay the test files share (WormholeServers.shared, asked for in
 * beforeAll; skipped loudly where the Debian packages are missing, a failure with PARLEY_REQUIRE_WORMHOLE=1),
 * the CLI flags that point at them, the `wormhole` client as a process, and the `--json` events.
 * The in-process wormhole peer that tests make misbehave is test/wormhole-peer-kit.ts.
 */

import { beforeAll } from "bun:test";
import { type WormholePair, WormholeServers, wormholeServersAvailable } from "../wormhole-servers.ts";
import { Cli, makeTempDir, startCli } from "./helpers.ts";

export interface WormholeTestServers {
  /** True when the tests may run (servers, and the client when asked for). */
  readonly available: boolean;
  /** The running servers (inside tests only). */
  servers(): WormholePair;
  /** `--relay-url URL --transit-helper tcp:HOST:PORT` for the CLI (and the wormhole client). */
  mailbox(): string[];
}

/**
 * Registers a beforeAll that gets the shared servers for this test file. `what` names the tests
 * in the skip notice; `client: true` also needs the `wormhole` client (Debian magic-wormhole).
 */
export function useWormholeServers(what: string, options: { client?: boolean } = {}): WormholeTestServers {
  let available = wormholeServersAvailable(what);
  if (available && options.client && Bun.which("wormhole") === null) {
    if (process.env.PARLEY_REQUIRE_WORMHOLE === "1")
      throw new Error(`PARLEY_REQUIRE_WORMHOLE=1 but no wormhole client: ${what}`);
    console.warn(`\n*** SKIPPED: ${what}: the wormhole client (Debian magic-wormhole) is missing ***\n`);
    available = false;
  }
  let running: WormholePair | undefined;
  beforeAll(async () => {
    if (available) running = await WormholeServers.shared();
  }, 90_000);
  const servers = (): WormholePair => {
    if (!running) throw new Error("the wormhole servers are not running");
    return running;
  };
  return {
    available,
    servers,
    mailbox: () => ["--relay-url", servers().mailboxUrl, "--transit-helper", servers().transitHelper],
  };
}

export type JsonEvent = Record<string, unknown> & { type: string };

/** The `--json` events a CLI printed so far. */
export const events = (cli: Cli): JsonEvent[] =>
  cli.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as JsonEvent);

/** The code a `parley send|receive --json` is waiting with. */
export async function parleyCode(cli: Cli): Promise<string> {
  const { line } = await cli.waitForLine(/"type":"code"/, 30_000);
  return (JSON.parse(line) as { code: string }).code;
}

/** The wormhole client (`wormhole --relay-url ... --transit-helper ... ARGS`) as a process in `cwd`. */
export function wormholeCli(kit: WormholeTestServers, label: string, args: string[], cwd: string): Cli {
  return new Cli(label, [], ["wormhole", ...kit.mailbox(), ...args], cwd);
}

/** Its stderr says `Wormhole code is: CODE`. */
export async function wormholeCode(w: Cli): Promise<string> {
  await w.waitForStderr(/Wormhole code is: \S+/, 30_000);
  return (/Wormhole code is: (\S+)/.exec(w.stderr) as RegExpExecArray)[1] as string;
}

/**
 * `bun run chat` through the test mailbox (alice, no progress), joined by `wormhole receive
 * ARGS CODE` (its input ended) in a folder of its own: both as processes, once the chat says a
 * plain wormhole client joined.
 */
export async function chatJoinedByWormholeReceive(
  kit: WormholeTestServers,
  receiveArgs: string[] = [],
  chatArgs: string[] = [],
): Promise<{ chat: Cli; receiver: Cli; dir: string }> {
  const chat = startCli("alice", [...kit.mailbox(), "--no-progress", "--dir", makeTempDir(), ...chatArgs]);
  const { match } = await chat.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
  const dir = makeTempDir();
  const receiver = wormholeCli(kit, "wormhole-receive", ["receive", ...receiveArgs, match[1] as string], dir);
  receiver.endInput();
  await chat.waitForLine(/^A plain wormhole client \(not Parley\) joined/, 30_000);
  return { chat, receiver, dir };
}
