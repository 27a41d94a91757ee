/**
 * The environment Parley's launchers give Bun (src/cli/launch-env.cjs: JavaScriptCore's FTL tier
 * off, one garbage-collector marker, a 32 MiB heap before the young generation's budget grows,
 * one JIT compiler thread): the `parley` command (bin.cjs) starts Bun with it, a variable the caller set wins, and
 * package.json's `chat` and `parley` scripts say the same. Read from the running Bun's
 * /proc/PID/environ (Linux).
 */

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cleanup, makeTempDir, NODE, readUntil, startCli } from "./helpers.ts";

const ROOT = resolve(import.meta.dir, "../..");

const LAUNCH_ENV = require("../../src/cli/launch-env.cjs") as Record<string, string>;

test("package.json's chat and parley scripts start Bun with the launch environment", () => {
  const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
  const prefix = Object.entries(LAUNCH_ENV)
    .map(([k, v]) => `${k}=${v} `)
    .join("");
  expect(LAUNCH_ENV).toEqual({
    BUN_JSC_useFTLJIT: "0",
    BUN_JSC_numberOfGCMarkers: "1",
    BUN_JSC_largeHeapSize: "33554432",
    BUN_JSC_maxNumberOfWorklistThreads: "1",
  });
  for (const name of ["chat", "parley"]) expect(scripts[name]).toBe(`${prefix}sh src/cli/launch.sh`);
});

/** Starts `parley` through bin.cjs under node, listening; returns the environment of the Bun it started. */
async function environOfBun(extraEnv: Record<string, string>): Promise<Map<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), "parley-launch-env-"));
  const launcher = Bun.spawn([NODE as string, join(ROOT, "src/cli/bin.cjs"), "--no-progress", "--dir", dir], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...extraEnv },
  });
  try {
    await readUntil(launcher.stdout.getReader(), /Listening on/);
    const children = readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, "utf8").trim().split(" ");
    const environ = readFileSync(`/proc/${children[0]}/environ`, "utf8").split("\0");
    return new Map(environ.filter(Boolean).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  } finally {
    launcher.kill();
    await launcher.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

test.skipIf(process.platform !== "linux" || !NODE)(
  "the parley command starts Bun with the launch environment",
  async () => {
    const environ = await environOfBun({});
    for (const [k, v] of Object.entries(LAUNCH_ENV)) expect(environ.get(k)).toBe(v);
  },
);

test.skipIf(process.platform !== "linux" || !NODE)("a launch variable the caller set wins", async () => {
  const environ = await environOfBun({ BUN_JSC_useFTLJIT: "1" });
  expect(environ.get("BUN_JSC_useFTLJIT")).toBe("1");
});

/** Young collections a Bun with `env` runs while node:crypto seals 256 MiB, each output released at once. */
function youngCollections(env: Record<string, string>): number {
  const script = `
    const { createCipheriv } = require("node:crypto");
    const key = new Uint8Array(32), iv = new Uint8Array(12), data = new Uint8Array(256 * 1024);
    for (let i = 0; i < 1024; i++) createCipheriv("aes-256-gcm", key, iv).update(data).buffer.transfer(0);
  `;
  const run = Bun.spawnSync([process.execPath, "-e", script], {
    env: { ...process.env, ...env, BUN_JSC_logGC: "1" },
    stderr: "pipe",
    stdout: "ignore",
  });
  expect(run.exitCode).toBe(0);
  return run.stderr
    .toString()
    .split("\n")
    .filter((line) => line.includes("=> EdenCollection")).length;
}

test("the launch environment's heap size halves the young collections a transfer's outputs start", () => {
  const { BUN_JSC_largeHeapSize, ...withoutHeapSize } = LAUNCH_ENV;
  const launched = youngCollections(LAUNCH_ENV);
  const bunDefault = youngCollections(withoutHeapSize);
  // 8 against 31-32 here (each 256 KiB output counts toward the budget though released at once).
  expect(launched).toBeGreaterThan(0);
  expect(launched * 2).toBeLessThanOrEqual(bunDefault);
});

/**
 * JIT compiler threads ("JITWorker") of a Bun with `env` after it has made many new functions hot
 * at once, as a transfer's first records do (Linux: read from /proc/self/task).
 */
function compilerThreads(env: Record<string, string>): number {
  const script = `
    const { readdirSync, readFileSync } = require("node:fs");
    let sum = 0;
    for (let n = 0; n < 60; n++) {
      const f = new Function("x", "let s = " + n + "; for (let i = 0; i < x; i++) s += (i * " + (n + 3) + ") ^ (s >> 1); return s;");
      for (let r = 0; r < 300; r++) sum += f(200);
    }
    const names = readdirSync("/proc/self/task").map((t) => readFileSync("/proc/self/task/" + t + "/comm", "utf8").trim());
    console.log(names.filter((n) => n === "JITWorker").length, sum & 1);
  `;
  // From a file: code run by `bun -e` here was never handed to a compiler thread.
  const dir = mkdtempSync(join(tmpdir(), "parley-jit-threads-"));
  try {
    writeFileSync(join(dir, "hot.js"), script);
    // The caller's setting (a test run started with the launch environment) is not the one asked for.
    const { BUN_JSC_maxNumberOfWorklistThreads: _, ...inherited } = process.env;
    const run = Bun.spawnSync([process.execPath, join(dir, "hot.js")], {
      env: { ...inherited, ...env },
      stderr: "pipe",
      stdout: "pipe",
    });
    expect(run.exitCode).toBe(0);
    return Number(run.stdout.toString().split(" ")[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test.skipIf(process.platform !== "linux")(
  "the launch environment keeps one JIT compiler thread where Bun starts two",
  () => {
    const { BUN_JSC_maxNumberOfWorklistThreads, ...bunDefault } = LAUNCH_ENV;
    // A transfer's first records make ~300 functions hot in each process at once: with two
    // compiler threads it had three runnable threads for two cores (DESIGN-NOTES, session 12).
    expect(compilerThreads(bunDefault)).toBe(2);
    expect(compilerThreads(LAUNCH_ENV)).toBe(1);
  },
);

test.skipIf(process.platform !== "linux")(
  "the tests' CLI runs with the launch environment (their memory bounds are the launched Parley's)",
  async () => {
    const cli = startCli("launched", ["--no-progress", "--dir", makeTempDir()]);
    try {
      await cli.waitForLine(/Listening on/);
      const environ = readFileSync(`/proc/${cli.proc.pid}/environ`, "utf8").split("\0");
      for (const [k, v] of Object.entries(LAUNCH_ENV)) {
        if (process.env[k] === undefined) expect(environ).toContain(`${k}=${v}`);
      }
    } finally {
      await cleanup();
    }
  },
);

test.skipIf(process.platform !== "linux" || !NODE)(
  "under npx (npm's exec the launcher's parent), the parent killed ends Bun too, as SIGTERM does",
  async () => {
    // npm exec passes no SIGTERM on: killed by a script, it left the launcher and a listening Bun behind.
    const dir = makeTempDir();
    const bin = join(ROOT, "src/cli/bin.cjs");
    const parent = Bun.spawn(["sh", "-c", `'${NODE}' '${bin}' receive --no-progress --dir '${dir}' & wait`], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, npm_command: "exec" },
    });
    await readUntil(parent.stdout.getReader(), /Listening on/);
    const launcher = Number(readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, "utf8").trim());
    const bun = Number(readFileSync(`/proc/${launcher}/task/${launcher}/children`, "utf8").trim());
    parent.kill("SIGKILL");
    await parent.exited;
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 200 && !(gone(bun) && gone(launcher)); i++) await Bun.sleep(25);
    const left = [bun, launcher].filter((pid) => !gone(pid));
    for (const pid of left) process.kill(pid, "SIGKILL");
    await cleanup(); // its --dir
    expect(left).toEqual([]);
  },
  20_000,
);
