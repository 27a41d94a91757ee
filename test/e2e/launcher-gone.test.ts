/**
 * `npx bun run chat` killed by a script (`kill -TERM $!`: npm's pid): npm passes no signal on, its
 * shell dies with it, and the chat went on with nobody to end it (listening, or connected to a
 * peer that waited on it). Measured with the real launchers: `npx bun run chat`, `npm run chat`
 * and `npx bun src/cli/main.ts` each left Bun running; `bun run chat` from a shell does not
 * (Bun passes SIGTERM on). Now a chat started by npm for the `chat` or `parley` script watches
 * its launchers (src/cli/launcher-watch.ts) and ends as on SIGTERM once one is gone: the peer is
 * told. Here the launcher is a bash that runs the chat as its child, with npm's variables, and
 * is SIGKILLed (it passes nothing on, as npm does not), which npx itself would take seconds to
 * start.
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { launchedByNpm, parentOf } from "../../src/cli/launcher-watch.ts";
import { BUN, Cli, cleanup, MAIN, makeTempDir, startPeer } from "./helpers.ts";

afterEach(cleanup);

const TEST_MS = 20_000;

/** The first child of `pid` (/proc's children list), once there is one. */
async function childOf(pid: number): Promise<number> {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await Bun.sleep(10)) {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0];
    if (first) return Number(first);
  }
  throw new Error(`no child of ${pid} within 5 s`);
}

test.skipIf(process.platform !== "linux")(
  "the chat's launcher killed without passing a signal on (as npm does): the chat tells the peer and ends",
  async () => {
    const alice = await startPeer("alice");
    // The chat's input: a fifo this test holds open (the launcher's pipe closes with it).
    const dir = makeTempDir();
    const input = join(dir, "input");
    Bun.spawnSync(["mkfifo", input]);
    const held = openSync(input, "r+");
    // `; :` keeps bash as the chat's parent (alone, the command would replace bash).
    const launcher = new Cli(
      "launcher",
      [],
      [
        "bash",
        "-c",
        `"$0" "$1" --connect "$2" --name bob --dir "$3" --no-progress < "$4"; :`,
        BUN,
        MAIN,
        alice.code,
        dir,
        input,
      ],
      undefined,
      { env: { npm_command: "exec", npm_lifecycle_event: "chat" } },
    );
    await alice.cli.waitForLine(/^Connected to bob at /);
    let bob: number | undefined;
    // Seen gone: its pid is free then (another process may get it), so it is not killed after.
    let bobGone = false;
    try {
      bob = await childOf(launcher.proc.pid);
      launcher.kill("SIGKILL");
      await alice.cli.waitForLine(/^bob left \(terminated\)\. Connection closed\.$/, 3_000);
      for (const deadline = Date.now() + 3_000; (await parentOf(bob as number)) !== undefined; await Bun.sleep(10)) {
        expect(Date.now(), "the chat is still running").toBeLessThan(deadline);
      }
      bobGone = true;
    } finally {
      closeSync(held);
      try {
        if (bob !== undefined && !bobGone) process.kill(bob, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
  },
  TEST_MS,
);

test("only npm's launchers of Parley's own scripts are watched (a test run's CLIs, `bun run chat` from a shell are not)", () => {
  expect(launchedByNpm({ npm_command: "exec", npm_lifecycle_event: "chat" })).toBe(true);
  expect(launchedByNpm({ npm_command: "run-script", npm_lifecycle_event: "parley" })).toBe(true);
  expect(launchedByNpm({ npm_command: "exec", npm_lifecycle_event: "test" })).toBe(false);
  expect(launchedByNpm({ npm_lifecycle_event: "chat" })).toBe(false); // `bun run chat`: Bun passes signals on
});
