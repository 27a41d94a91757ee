/**
 * The long-link bench's baseline: bench/delay-relay.ts with `--also` relays a second port
 * through the same hop, and the echo probe (bench/lib/echo-probe.ts) times lines echoed over it.
 */

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { type EchoProbe, startEchoProbe, startEchoServer } from "../../bench/lib/echo-probe.ts";
import { LineReader, type Proc, start, stopAll } from "../../bench/lib/procs.ts";

const procs: Proc[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await stopAll(procs.splice(0));
});

const RELAY = join(import.meta.dir, "../../bench/delay-relay.ts");

test("a second port of the relay carries an echo through the same hop, each line held both ways", async () => {
  const echo = startEchoServer();
  cleanups.push(() => echo.stop(true));
  // The first target is never dialed here; any port will do.
  const holdMs = 15;
  const relay = start([process.execPath, RELAY, "9", String(holdMs), "--also", String(echo.port)]);
  procs.push(relay);
  const [, main, also] = await new LineReader(relay.stdout).waitFor(/^RELAY (\d+)(?: (\d+))?/);
  expect(also, "--also prints the second port after the first").toBeDefined();
  expect(also).not.toBe(main);

  let probe: EchoProbe | undefined = await startEchoProbe(Number(also), 5);
  cleanups.push(() => probe?.stop());
  let rtts: number[] = [];
  // Wait for the lines, not for a time: the loop ends once five have come back.
  while (rtts.length < 5) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    rtts = probe.peek();
  }
  rtts = probe.stop();
  probe = undefined;
  // Not a speed: the relay holds every byte holdMs each way, so no line can be back sooner.
  for (const rtt of rtts) expect(rtt).toBeGreaterThanOrEqual(2 * holdMs);
}, 20_000);
