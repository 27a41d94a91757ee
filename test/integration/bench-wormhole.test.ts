/**
 * A tiny run of the mailbox flow's bench (bench/wormhole.ts, a few MiB), so it keeps working:
 * every case completes, the raw pump among them (through the local transit relay and direct,
 * the hop's own cost beside Parley's ratio). It asserts the report's shape, never a speed.
 */

import { expect, test } from "bun:test";
import { wormholeServersAvailable } from "../wormhole-servers.ts";
import { runBenchScript } from "./bench-script.ts";

const what = "the mailbox flow's bench smoke test (test/integration/bench-wormhole.test.ts)";
const available = wormholeServersAvailable(what) && wormholeClientAvailable();

function wormholeClientAvailable(): boolean {
  if (Bun.which("wormhole")) return true;
  if (process.env.PARLEY_REQUIRE_WORMHOLE === "1")
    throw new Error(`PARLEY_REQUIRE_WORMHOLE=1 but ${what} has no wormhole client`);
  console.warn(`\n*** SKIPPED: ${what}: the wormhole client is not installed (apt-get install magic-wormhole) ***\n`);
  return false;
}

test.skipIf(!available)(
  "bench/wormhole.ts runs every case, the raw pump through the relay and direct included",
  async () => {
    const { out, err, code } = await runBenchScript(["bench/wormhole.ts", "--size", "4M", "--runs", "1", "--json"]);
    expect(code, err).toBe(0);
    const doc = JSON.parse(out) as { cases: Array<{ name: string; mibPerSecond: number[] }>; connectMs: number[] };
    expect(doc.cases.map((c) => c.name)).toEqual([
      "parley-mailbox-direct",
      "parley-relay",
      "wormhole-relay",
      "pump-direct",
      "pump-relay",
    ]);
    for (const c of doc.cases) {
      expect(c.mibPerSecond.length, c.name).toBe(1);
      expect(c.mibPerSecond[0], c.name).toBeGreaterThan(0);
    }
  },
  120_000,
);
