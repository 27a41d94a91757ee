/**
 * `bun run bench --files 0` skips the small-files case: before, its receiver waited for a
 * first file that never came and the bench never ended. The cheapest bench run (the raw pump
 * alone, 1 MiB, no long link) must end, without a smallFiles entry in its report.
 */

import { expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

test("--files 0: the bench ends and reports no small-files figure", async () => {
  const args = ["--cases", "raw", "--runs", "1", "--size", "1M", "--files", "0", "--link-ms", "0"];
  const proc = Bun.spawn([process.execPath, "bench/run.ts", ...args, "--no-external", "--json"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  // A hung bench is the failure: stopped here, so it fails by its exit, and leaves nothing behind.
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  expect(code, err).toBe(0);
  const doc = JSON.parse(out);
  expect(doc.cases.map((c: { case: string }) => c.case)).toEqual(["raw"]);
  expect(doc.smallFiles).toBeUndefined();
}, 60_000);

test("a bad bench flag is one line and exit 1, not a stack trace", async () => {
  // The other flags keep a bench that took it (the old code's NaN runs) small and short.
  const cheap = ["--cases", "raw", "--size", "1M", "--files", "1", "--link-ms", "0", "--no-external"];
  const proc = Bun.spawn([process.execPath, "bench/run.ts", "--runs", "none", ...cheap], {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(1);
  expect(err.split("\n")[0]).toBe('bench: --runs wants a whole number >= 1, not "none"');
  expect(err).not.toContain("    at ");
});
