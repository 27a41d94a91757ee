/**
 * How the bench starts Parley: `bun src/cli/main.ts ...` with the environment the product's
 * launchers give Bun (src/cli/launch-env.cjs: the `parley` command, `bun run chat`), so every
 * figure is of the product as it is run, not of Bun's defaults. Every bench part starts Parley
 * through here (test/unit/bench-launch-env.test.ts).
 */

import { join } from "node:path";
import { type SpawnOptions, type Subprocess, spawn } from "bun";

/** The environment the product's launchers give Bun. */
export const LAUNCH_ENV = require("../../src/cli/launch-env.cjs") as Record<string, string>;

/** The CLI's entry point in a source tree. */
const MAIN_IN_TREE = "src/cli/main.ts";
const MAIN = join(import.meta.dir, "../..", MAIN_IN_TREE);

/** The command line that runs Parley with `args` (pair it with LAUNCH_ENV). */
export function parleyArgv(args: readonly string[]): string[] {
  return [process.execPath, MAIN, ...args];
}

/**
 * The command line that runs the Parley of the source tree at `tree` with `args`: the A/B
 * scripts' (bench/start-up-ab.ts), which pair it with that tree's launch environment.
 */
export function parleyArgvIn(tree: string, args: readonly string[]): string[] {
  return [process.execPath, join(tree, MAIN_IN_TREE), ...args];
}

/** Bun.spawn of Parley with `args`: this process's environment, the launchers' on top, `options.env` last. */
export function spawnParley<
  const In extends SpawnOptions.Writable = "ignore",
  const Out extends SpawnOptions.Readable = "pipe",
  const Err extends SpawnOptions.Readable = "inherit",
>(args: readonly string[], options: SpawnOptions.SpawnOptions<In, Out, Err> = {}): Subprocess<In, Out, Err> {
  return spawn(parleyArgv(args), { ...options, env: { ...process.env, ...LAUNCH_ENV, ...options.env } });
}
