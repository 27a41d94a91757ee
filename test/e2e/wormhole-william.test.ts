/**
 * Parley with wormhole-william, the Go wormhole client (Debian package wormhole-william 1.0.6):
 * `parley send FILE` -> `wormhole-william receive`, direct path, byte for byte, an empty file
 * too. The other way cannot run here: its sender has no flag for a transit relay and ends when
 * the public one (transit.magic-wormhole.io) does not resolve, as on this test machine.
 *
 * wormhole-william fails about one key exchange in 200 here whoever the sender is, the Python
 * client included: it says "decrypt message failed" and exits 1 (measured: docs/DESIGN-NOTES.md,
 * "Plain magic-wormhole peers"). So a case is run again once when, and only when, the Go client
 * said exactly that; any other failure fails the test.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cli, cleanup, makeTempDir, startCli } from "./helpers.ts";
import { events, parleyCode, useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("wormhole-william tests (test/e2e/wormhole-william.test.ts)");
const goClient = kit.available && Bun.which("wormhole-william") !== null;
if (kit.available && !goClient) {
  if (process.env.PARLEY_REQUIRE_WORMHOLE === "1")
    throw new Error("PARLEY_REQUIRE_WORMHOLE=1 but no wormhole-william (Debian wormhole-william)");
  console.warn("\n*** SKIPPED: wormhole-william tests: the Go client (Debian wormhole-william) is missing ***\n");
}
afterEach(cleanup);

const LONG_MS = 60_000;
const GO_KEY_FLAKE = "decrypt message failed";

/** `wormhole-william ARGS` against the test's mailbox server, in `cwd`. */
const goCli = (label: string, args: string[], cwd: string): Cli =>
  new Cli(label, [], ["wormhole-william", ...args, "--relay-url", kit.servers().mailboxUrl], cwd);

/** Runs `attempt` again once if the Go client failed its key exchange (see above). */
async function withOneRetry(attempt: () => Promise<{ ok: boolean; go: Cli }>): Promise<void> {
  const first = await attempt();
  if (first.ok) return;
  expect(first.go.stderr).toContain(GO_KEY_FLAKE);
  expect((await attempt()).ok).toBe(true);
}

function fileOf(name: string, size: number): { path: string; bytes: Buffer; dir: string } {
  const dir = makeTempDir();
  const bytes = randomBytes(size);
  writeFileSync(join(dir, name), bytes);
  return { path: join(dir, name), bytes, dir };
}

/**
 * `parley send` of a file of `size` random bytes to `wormhole-william receive` (answered y):
 * both exit 0, nothing but the file in its folder, byte for byte, and the sender's done event.
 */
async function parleyToGo(name: string, size: number): Promise<void> {
  const src = fileOf(name, size);
  await withOneRetry(async () => {
    const s = startCli("parley-send", ["send", src.path, ...kit.mailbox(), "--json"]);
    const code = await parleyCode(s);
    const dir = makeTempDir();
    const go = goCli("go-receive", ["receive", "--hide-progress", code], dir);
    go.send("y"); // it asks "ok? (y/N)"
    const [sent, got] = await Promise.all([s.exitCode(LONG_MS), go.exitCode(LONG_MS)]);
    if (got !== 0) return { ok: false, go };
    expect(sent).toBe(0);
    expect(readdirSync(dir)).toEqual([name]);
    expect(readFileSync(join(dir, name)).equals(src.bytes)).toBe(true);
    expect(events(s).find((e) => e.type === "done")).toMatchObject({ bytes: size, checksum: { algo: "sha256" } });
    return { ok: true, go };
  });
}

describe.skipIf(!goClient)("wormhole-william (the Go client)", () => {
  test("parley send FILE -> wormhole-william receive: byte for byte, done after its ack", async () => {
    await parleyToGo("from parley.bin", 3_000_000);
  }, 150_000);

  test("parley send EMPTY -> wormhole-william receive: both end, the file there and empty (it waited for a record for ever)", async () => {
    // 1.0.6 reads a record before it counts the bytes: without the sender's empty record both
    // sides waited, and this failed on the Go client's exit (LONG_MS), its folder holding only
    // empty.bin.tmpNNN.
    await parleyToGo("empty.bin", 0);
  }, 150_000);
});
