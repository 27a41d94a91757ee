/**
 * The bench measures Parley as its launchers start it: every bench part starts the CLI through
 * bench/lib/parley-command.ts (no other bench file names the CLI's entry point), what that starts
 * is what src/cli/launch.sh chooses (the build when fresh, else the source: /proc/PID/exe) and
 * has the launch environment (src/cli/launch-env.cjs, read from /proc/PID/environ, Linux).
 */

import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { LAUNCH_ENV, LAUNCHED, spawnParley } from "../../bench/lib/parley-command.ts";
import { startParley, startSource, stopAll } from "../../bench/lib/procs.ts";

const BENCH = resolve(import.meta.dir, "../../bench");
const HELPER = "lib/parley-command.ts";

function benchSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? benchSources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

test("no bench file but the helper names the CLI's entry point (src/cli/main.ts)", () => {
  const naming = benchSources(BENCH)
    .filter((file) => /cli\/main\.ts|["'`]main\.ts/.test(readFileSync(file, "utf8")))
    .map((file) => relative(BENCH, file));
  expect(naming).toEqual([HELPER]);
});

/** The environment of a running process, by pid. */
function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return new Map(entries.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

async function untilListening(stdout: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stdout.getReader();
  let seen = "";
  while (!seen.includes("Listening on")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`parley ended before listening: ${seen}`);
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
}

test.skipIf(process.platform !== "linux")(
  "spawnParley and startParley start what src/cli/launch.sh chooses, startSource the source, all with the launch environment",
  async () => {
    const which = Bun.spawnSync(["sh", resolve(BENCH, "../src/cli/launch.sh")], {
      env: { ...process.env, PARLEY_LAUNCH_WHICH: "1" },
    });
    const choice = which.stdout.toString().split("\n").filter(Boolean);
    const launched = choice[0] === "bun" ? process.execPath : (choice[0] as string);
    expect(LAUNCHED).toBe(choice[0] === "bun" ? "source" : "built");
    const dir = mkdtempSync(join(tmpdir(), "parley-bench-env-"));
    const spawned = spawnParley(["--no-progress", "--dir", dir], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    const started = startParley(["--no-progress", "--dir", dir]);
    const source = startSource(["--no-progress", "--dir", dir]);
    try {
      await Promise.all([
        untilListening(spawned.stdout),
        untilListening(started.stdout),
        untilListening(source.stdout),
      ]);
      for (const pid of [spawned.pid, started.pid]) {
        expect(realpathSync(`/proc/${pid}/exe`)).toBe(realpathSync(launched));
      }
      expect(realpathSync(`/proc/${source.pid}/exe`)).toBe(realpathSync(process.execPath));
      for (const pid of [spawned.pid, started.pid, source.pid]) {
        const environ = environOf(pid);
        for (const [k, v] of Object.entries(LAUNCH_ENV)) expect(environ.get(k)).toBe(v);
      }
    } finally {
      spawned.kill();
      await spawned.exited;
      await stopAll([started, source]);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
