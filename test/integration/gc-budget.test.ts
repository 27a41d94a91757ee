/**
 * The garbage collector's budget (src/session/gc-budget.ts), reserved by the session preload:
 * records sealed and opened the default way (node:crypto, each output released at once) start
 * no collection by allocation once it is reserved, where without it they start several; and the
 * budget is never resident. Counted from JavaScriptCore's own GC log (BUN_JSC_logGC=1) in a
 * child process: the control run without the budget shows the log still says what we parse.
 */

import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
/** What JSC logs when allocation since the last collection exceeds its budget. */
const ALLOCATION_TRIGGER = /Requesting GC because bytes allocated this cycle/g;

/** Seals and opens 96 MiB in 256 KiB records; with `budget`, after the session preload. */
const script = (budget: boolean) => `
  import { preloadSessionCode } from ${JSON.stringify(join(ROOT, "src/session/preload.ts"))};
  import { RecordOpener, RecordSealer } from ${JSON.stringify(join(ROOT, "src/crypto/record.ts"))};
  const before = process.memoryUsage().rss;
  if (${budget}) await preloadSessionCode();
  const reserved = process.memoryUsage().rss - before;
  const key = new Uint8Array(32).fill(7);
  const sealer = new RecordSealer(key, "node");
  const opener = new RecordOpener(key, "node");
  const plain = new Uint8Array(256 * 1024).fill(1);
  const scratch = new Uint8Array(sealer.recordBytes(plain.length));
  let opened = 0;
  for (let i = 0; i < 384; i++) {
    opener.feed(sealer.seal(plain, scratch));
    opened += opener.next()?.length ?? 0;
  }
  process.stdout.write(JSON.stringify({ reserved, opened }));
`;

async function run(budget: boolean): Promise<{ reserved: number; opened: number; triggered: number }> {
  const child = Bun.spawn([process.execPath, "-e", script(budget)], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUN_JSC_logGC: "1" },
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(code, err.slice(-2000)).toBe(0);
  return { ...JSON.parse(out), triggered: err.match(ALLOCATION_TRIGGER)?.length ?? 0 };
}

test("with the budget reserved, records sealed and opened start no collection by allocation", async () => {
  const [without, withBudget] = await Promise.all([run(false), run(true)]);
  expect(without.opened).toBe(96 * 1024 * 1024);
  expect(withBudget.opened).toBe(96 * 1024 * 1024);
  expect(without.triggered, "the control run: JSC's log line we count").toBeGreaterThan(0);
  expect(withBudget.triggered).toBe(0);
  // The budget is address space only: its 256 MiB never become resident.
  expect(withBudget.reserved).toBeLessThan(32 * 1024 * 1024);
});
