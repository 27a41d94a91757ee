/**
 * Runs one of bench/'s scripts as its own process from the repository root and collects what it
 * printed, for the tests that keep the bench working (they assert shapes, never speeds).
 */

import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

export async function runBenchScript(args: readonly string[]): Promise<{ out: string; err: string; code: number }> {
  const proc = Bun.spawn([process.execPath, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { out, err, code };
}

/**
 * True when socat is installed. Otherwise says loudly which test is skipped and why, or throws
 * when PARLEY_REQUIRE_WORMHOLE=1 (.ci/run, which installs the Debian packages the tests need).
 */
export function socatAvailable(what: string): boolean {
  if (Bun.which("socat")) return true;
  if (process.env.PARLEY_REQUIRE_WORMHOLE === "1")
    throw new Error(`PARLEY_REQUIRE_WORMHOLE=1 but socat is not installed: ${what} cannot run`);
  console.warn(`\n*** SKIPPED: ${what}: socat is not installed (apt-get install socat) ***\n`);
  return false;
}
