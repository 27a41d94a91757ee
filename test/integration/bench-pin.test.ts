/**
 * `bun run bench --pin`: each case's two ends on a CPU of their own. The processes the bench
 * starts with a CPU run there, children too; a pinned run reports which CPUs it used; where
 * --pin cannot be honoured the bench says so in one line.
 */

import { expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { LineReader, start } from "../../bench/lib/procs.ts";
import { runBenchScript } from "./bench-script.ts";

test("a process started with a CPU runs on that CPU only, and so do its children", async () => {
  const proc = start(
    ["sh", "-c", "grep Cpus_allowed_list /proc/self/status; sh -c 'grep Cpus_allowed_list /proc/self/status'"],
    { cpu: 0 },
  );
  const lines = new LineReader(proc.stdout);
  const mine = await lines.next();
  const child = await lines.next();
  expect(await proc.exited).toBe(0);
  expect(mine).toMatch(/^Cpus_allowed_list:\s+0$/);
  expect(child).toMatch(/^Cpus_allowed_list:\s+0$/);
});

test("bench --pin runs the cases pinned and says where, or refuses in one line", async () => {
  const { out, err, code } = await runBenchScript([
    "bench/run.ts",
    "--size",
    "2M",
    "--runs",
    "1",
    "--files",
    "0",
    "--link-ms",
    "0",
    "--no-external",
    "--cases",
    "raw-sealed,parley-cli",
    "--pin",
    "--json",
  ]);
  if (availableParallelism() < 2) {
    expect(code).toBe(1);
    expect(err.trim()).toBe("bench: --pin needs two CPUs and taskset (apt-get install util-linux)");
    return;
  }
  expect(code, err).toBe(0);
  const doc = JSON.parse(out);
  expect(doc.pinned).toEqual({ send: 0, recv: 1 });
  expect(doc.cases.map((c: { case: string }) => c.case)).toEqual(["raw-sealed", "parley-cli"]);
  for (const c of doc.cases) expect(c.mibps.median).toBeGreaterThan(0);
});
