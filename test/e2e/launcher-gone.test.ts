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
import { Cli, cleanup, MAIN, makeTempDir, NODE, PARLEY_SHELL, startPeer } from "./helpers.ts";

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

/**
 * The chat's input: a fifo in a new folder (also its --dir), held open by this test (the
 * launcher's pipe closes with it): close `held` to end the input.
 */
function heldInput(): { dir: string; input: string; held: number } {
  const dir = makeTempDir();
  const input = join(dir, "input");
  Bun.spawnSync(["mkfifo", input]);
  return { dir, input, held: openSync(input, "r+") };
}

test.skipIf(process.platform !== "linux")(
  "the chat's launcher killed without passing a signal on (as npm does): the chat tells the peer and ends",
  async () => {
    const alice = await startPeer("alice");
    const { dir, input, held } = heldInput();
    // `; :` keeps bash as the chat's parent (alone, the command would replace bash).
    const launcher = new Cli(
      "launcher",
      [],
      [
        "bash",
        "-c",
        `${PARLEY_SHELL} --connect "$0" --name bob --dir "$1" --no-progress < "$2"; :`,

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

/**
 * `npx parley`: npm runs the bin (bin.cjs, under Node) through `sh -c`, and bin.cjs runs Bun. npm
 * killed by SIGTERM ends that shell, which bin.cjs sees (its parent changes); killed otherwise
 * (`kill -HUP`, `kill -KILL` of npx's pid: a supervisor's) npm left the shell, bin.cjs and Bun
 * running, listening or sending, while the script's `wait` said 129 or 137. Here a bash that
 * stands for npm (SIGKILLed: it passes nothing on, as npm does not) runs `sh -c 'node bin.cjs
 * ...; :'` with the variables npm sets for `npx parley`.
 */
test.skipIf(process.platform !== "linux" || !NODE)(
  "`npx parley`'s npm killed by a signal it passes nothing on for: the chat tells the peer and ends",
  async () => {
    const alice = await startPeer("alice");
    const { dir, input, held } = heldInput();
    const bin = MAIN.replace(/main\.ts$/, "bin.cjs");
    const npm = new Cli(
      "npm",
      [],
      [
        "bash",
        "-c",
        // `; :` keeps each shell as its command's parent (alone, the command would replace it).
        `exec < "$0"; sh -c '"$0" "$@"; :' "$@"; :`,
        input,
        NODE as string,
        bin,
        "--connect",
        alice.code,
        "--name",
        "bob",
        "--dir",
        dir,
        "--no-progress",
      ],
      undefined,
      { env: { npm_command: "exec", npm_lifecycle_event: "npx", npm_lifecycle_script: "'parley'" } },
    );
    await alice.cli.waitForLine(/^Connected to bob at /);
    const chain: number[] = [];
    let left = false;
    try {
      const shell = await childOf(npm.proc.pid);
      const node = await childOf(shell);
      chain.push(shell, node, await childOf(node));
      npm.kill("SIGKILL");
      await alice.cli.waitForLine(/^bob left \(terminated\)\. Connection closed\.$/, 3_000);
      // The shell, bin.cjs and Bun all end (bin.cjs with Bun's exit, the shell with bin.cjs's).
      for (const deadline = Date.now() + 3_000; ; await Bun.sleep(10)) {
        const parents = await Promise.all(chain.map((pid) => parentOf(pid)));
        if (parents.every((parent) => parent === undefined)) break;
        expect(Date.now(), "a launcher or the chat is still running").toBeLessThan(deadline);
      }
      left = true;
    } finally {
      closeSync(held);
      // Not seen gone: killed here (a pid seen gone may be another process's by now).
      if (!left) {
        for (const pid of chain.reverse()) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // Gone meanwhile.
          }
        }
      }
    }
  },
  TEST_MS,
);

/**
 * npm killed in the run's first moments, before Bun has noted its launchers (a loaded machine's
 * npx took seconds to start the bin, and a `kill` 3 s after `npx parley ... &` met that window
 * twice in a row): the shell npm started is init's by then, and the chain read from /proc ended
 * there, never to break, so `parley receive` went on listening. Here the bash that stands for npm
 * leaves as soon as it has started `sh -c`, which starts bin.cjs only once it is init's.
 */
test.skipIf(process.platform !== "linux" || !NODE)(
  "`npx parley`'s npm gone before Bun noted its launchers: the run ends as on SIGTERM",
  async () => {
    const dir = makeTempDir();
    const bin = MAIN.replace(/main\.ts$/, "bin.cjs");
    const npm = new Cli(
      "npm",
      [],
      [
        "bash",
        "-c",
        `sh -c 'while [ "$(cut -d" " -f4 /proc/$$/stat)" != 1 ]; do sleep 0.01; done; "$0" "$@"; :' "$@" & exit`,
        NODE as string,
        bin,
        "receive",
        "--dir",
        dir,
        "--no-progress",
      ],
      undefined,
      { env: { npm_command: "exec", npm_lifecycle_event: "npx", npm_lifecycle_script: "'parley'" } },
    );
    // The pipes close once the shell, bin.cjs and Bun have all ended.
    const ended = await Promise.race([npm.exited.then(() => true), Bun.sleep(8_000).then(() => false)]);
    if (!ended) {
      for (const pid of Bun.spawnSync(["pgrep", "-f", dir]).stdout.toString().trim().split("\n").filter(Boolean)) {
        process.kill(Number(pid), "SIGKILL");
      }
    }
    expect(npm.lines[0]).toMatch(/^Listening on /);
    expect(ended, "still listening 8 s after its npm was gone").toBe(true);
    expect(npm.lines).toContain("Terminated (SIGTERM).");
  },
  TEST_MS,
);

test("only npm's launchers of Parley's own scripts are watched (a test run's CLIs, `bun run chat` from a shell are not)", () => {
  expect(launchedByNpm({ npm_command: "exec", npm_lifecycle_event: "chat" })).toBe(true);
  expect(launchedByNpm({ npm_command: "run-script", npm_lifecycle_event: "parley" })).toBe(true);
  expect(launchedByNpm({ npm_command: "exec", npm_lifecycle_event: "test" })).toBe(false);
  expect(launchedByNpm({ npm_lifecycle_event: "chat" })).toBe(false); // `bun run chat`: Bun passes signals on
  // `npx parley` (npm's exec runs the bin through `sh -c 'parley' ...`), not `npx bun ...` (a test run's CLIs).
  expect(launchedByNpm({ npm_command: "exec", npm_lifecycle_event: "npx", npm_lifecycle_script: "'parley'" })).toBe(
    true,
  );
  expect(launchedByNpm({ npm_command: "exec", npm_lifecycle_event: "npx", npm_lifecycle_script: "'bun'" })).toBe(false);
});
