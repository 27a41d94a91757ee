/**
 * Hooks for a `bun test` run, preloaded (bunfig.toml [test] preload): a top-level afterAll here
 * runs after every file (under --parallel, each file in a realm of its own, after each file).
 * (The process's "exit" event does not fire under `bun test`.)
 *
 * The run's temporary folder: TMPDIR is set, before any test file loads, to a folder of the run's
 * own (made in the one the run was given), so what the tests make there and what the CLIs they
 * spawn make there (the environment is passed on) goes with it at the end. A CLI a test SIGKILLs
 * cannot remove its warm-up folder (`parley-warm-<pid>-*`: a later run's sweep does, by design,
 * src/cli/warm-up-leftovers.ts): six of them were left in /tmp after each run.
 *
 * PARLEY_HINT_ADDRESSES=127.0.0.1 (passed on the same way): a mailbox meeting's direct hints name
 * 127.0.0.1 alone, so the tests' direct connections stay on loopback. Without it they name this
 * machine's other addresses (an eth0's 192.0.2.2 here), and the peer's dial went there.
 *
 * PARLEY_WARM_UP=0 (passed on the same way), unless the run was given one: no CLI the tests start
 * warms its record path (src/cli/warm-up.ts: a 64 MiB transfer inside the process once it has
 * waited a second for its peer; a chat idle for 3 s spent 0.73 s of CPU with it, 0.29 s without).
 * Invisible by design, it is no test's case, and on CI's two cores the suite's time is its CPU:
 * tmux.test.ts alone, 3 rounds, 28.3/28.1/33.4 -> 26.5/26.7/27.6 s of CPU (docs/DESIGN-NOTES.md,
 * "The suite's CPU (session 30)"). The warm-up's own tests turn it on for the CLIs they start
 * (PARLEY_WARM_UP=1: test/integration/warm-up*.test.ts, test/e2e/warm-up-*.test.ts).
 */

import { afterAll, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// Loaded before TMPDIR changes below: the shared wormhole servers keep their files in the folder given.
import "./wormhole-servers.ts";

// A case's bound when it gives none: package.json's `bun test --timeout 60000`, for a file run alone
// too (`npx bun test FILE`, Bun's default 5 s otherwise). mailbox-rendezvous's concurrent cases took
// 2.8-6.9 s each at load ~14 (session 33), and four of them failed at 5 s run alone at load ~11
// (session 32): a bound of the runner's, not of a case's.
setDefaultTimeout(60_000);

const runTmp = mkdtempSync(join(tmpdir(), "parley-test-run-"));
process.env.TMPDIR = runTmp;
process.env.PARLEY_HINT_ADDRESSES = "127.0.0.1";
process.env.PARLEY_WARM_UP ??= "0";

// The magic-wormhole servers the test files share stop once this process has ended (test/wormhole-servers.ts).
afterAll(() => {
  rmSync(runTmp, { recursive: true, force: true });
});
