/**
 * How the bench starts Parley: as users do, through src/cli/launch.sh (package.json's `chat` and
 * `parley` scripts; bin.cjs asks it too), so the built CLI (build/parley, made at `npm ci` or by
 * `sh src/cli/build-cli.sh`) while nothing it was built from has changed, else `bun
 * src/cli/main.ts`; with the environment the product's launchers give Bun
 * (src/cli/launch-env.cjs), so every figure is of the product as it is run, not of Bun's
 * defaults. The start-up figure also times the source directly (sourceArgv), beside it in the
 * same run. Every bench part starts Parley through here (test/unit/bench-launch-env.test.ts).
 */

import { join } from "node:path";
import { type SpawnOptions, type Subprocess, spawn, spawnSync } from "bun";

/** The environment the product's launchers give Bun. */
export const LAUNCH_ENV = require("../../src/cli/launch-env.cjs") as Record<string, string>;

const ROOT = join(import.meta.dir, "../..");
/** The CLI's entry point in a source tree. */
const MAIN_IN_TREE = "src/cli/main.ts";
const MAIN = join(ROOT, MAIN_IN_TREE);
const LAUNCHER = join(ROOT, "src/cli/launch.sh");
/** The source's command as the output names it. */
export const SOURCE_WORDS = `bun ${MAIN_IN_TREE}`;

/**
 * The launcher's environment beside LAUNCH_ENV: its `bun` (when the source runs) is the
 * project's own, as under `bun run` (node_modules/.bin first on PATH).
 */
export const LAUNCHER_ENV: Record<string, string> = {
  ...LAUNCH_ENV,
  PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
};

/**
 * Which Parley the launcher runs in this checkout now: "built" (build/parley, fresh) or "source"
 * (no build, or something it was built from changed since). Asked once (PARLEY_LAUNCH_WHICH).
 */
export const LAUNCHED: "built" | "source" = (() => {
  const which = spawnSync(["sh", LAUNCHER], { env: { ...process.env, ...LAUNCHER_ENV, PARLEY_LAUNCH_WHICH: "1" } });
  const words = which.stdout.toString().split("\n").filter(Boolean);
  return which.exitCode === 0 && words.length === 1 && words[0] !== "bun" ? "built" : "source";
})();

/** One line for the bench's output: what the launcher ran. */
export const LAUNCHED_LINE =
  LAUNCHED === "built"
    ? "Parley ran as users run it (src/cli/launch.sh): the built CLI, build/parley"
    : `Parley ran as users run it (src/cli/launch.sh): the source, ${SOURCE_WORDS} (no fresh build; sh src/cli/build-cli.sh makes one)`;

/** The command line that runs Parley with `args` as users do, through the launcher (pair it with LAUNCHER_ENV). */
export function parleyArgv(args: readonly string[]): string[] {
  return ["sh", LAUNCHER, ...args];
}

/** The command line that runs the source with `args`, whatever the launcher would choose (pair it with LAUNCH_ENV). */
export function sourceArgv(args: readonly string[]): string[] {
  return [process.execPath, MAIN, ...args];
}

/**
 * The command line that runs the Parley of the source tree at `tree` with `args`: the A/B
 * scripts' (bench/start-up-ab.ts), which pair it with that tree's launch environment.
 */
export function parleyArgvIn(tree: string, args: readonly string[]): string[] {
  return [process.execPath, join(tree, MAIN_IN_TREE), ...args];
}

/** Bun.spawn of Parley with `args` through the launcher: this process's environment, the launchers' on top, `options.env` last. */
export function spawnParley<
  const In extends SpawnOptions.Writable = "ignore",
  const Out extends SpawnOptions.Readable = "pipe",
  const Err extends SpawnOptions.Readable = "inherit",
>(args: readonly string[], options: SpawnOptions.SpawnOptions<In, Out, Err> = {}): Subprocess<In, Out, Err> {
  return spawn(parleyArgv(args), { ...options, env: { ...process.env, ...LAUNCHER_ENV, ...options.env } });
}
