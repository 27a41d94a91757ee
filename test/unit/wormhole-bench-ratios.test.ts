/** bench/wormhole.ts's per-run ratios: relay over direct and over the wormhole pair, and the CPU model's prediction. */

import { expect, test } from "bun:test";
import { formatWormholeBench, relayRatiosPerRun, type WormholeBench } from "../../bench/wormhole.ts";

const bench: WormholeBench = {
  sizeBytes: 1024 ** 3,
  connectMs: [300, 320],
  cases: [
    {
      name: "parley-mailbox-direct",
      mibPerSecond: [500, 400],
      cpuPerGiB: [
        { send: 1.5, receive: 1.5, relay: 0 },
        { send: 1.6, receive: 1.8, relay: 0 },
      ],
    },
    {
      name: "parley-relay",
      mibPerSecond: [300, 200],
      cpuPerGiB: [
        { send: 1.5, receive: 1.5, relay: 2 },
        { send: 1.6, receive: 1.8, relay: 1.6 },
      ],
    },
    { name: "wormhole-relay", mibPerSecond: [150, 100] },
  ],
};

test("each run's relay throughput over the same run's direct and wormhole, and (S_d + R_d) / (S_r + R_r + L)", () => {
  const runs = relayRatiosPerRun(bench);
  expect(runs.map((r) => r.direct)).toEqual([0.6, 0.5]);
  expect(runs.map((r) => r.wormhole)).toEqual([2, 2]);
  expect(runs.map((r) => r.cpuModel.toFixed(2))).toEqual(["0.60", "0.68"]);
  expect(formatWormholeBench(bench)).toContain(
    "RESULT\tparley-relay-per-run\tx direct=0.60,0.50\tx wormhole=2.00,2.00\tcpu model x direct=0.60,0.68",
  );
});

test("no relay case: no per-run line", () => {
  const only = { ...bench, cases: bench.cases.filter((c) => c.name !== "parley-relay") };
  expect(relayRatiosPerRun(only)).toEqual([]);
  expect(formatWormholeBench(only)).not.toContain("per-run");
});
