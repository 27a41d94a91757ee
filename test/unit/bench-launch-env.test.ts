/**
 * The bench measures Parley as its launchers start it (src/cli/launch-env.cjs): every bench part
 * starts the CLI through bench/lib/parley-command.ts (no other bench file names the CLI's entry
 * point), and what that starts has the launch environment (read from /proc/PID/environ, Linux).
 */

import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { LAUNCH_ENV, spawnParley } from "../../bench/lib/parley-command.ts";
import { startParley, stopAll } from "../../bench/lib/procs.ts";

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
  "spawnParley and startParley start Parley with the launch environment",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-bench-env-"));
    const spawned = spawnParley(["--no-progress", "--dir", dir], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    const started = startParley(["--no-progress", "--dir", dir]);
    try {
      await Promise.all([untilListening(spawned.stdout), untilListening(started.stdout)]);
      for (const pid of [spawned.pid, started.pid]) {
        const environ = environOf(pid);
        for (const [k, v] of Object.entries(LAUNCH_ENV)) expect(environ.get(k)).toBe(v);
      }
    } finally {
      spawned.kill();
      await spawned.exited;
      await stopAll([started]);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
