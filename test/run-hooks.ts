/**
 * Hooks for a whole `bun test` run, preloaded (bunfig.toml [test] preload): a top-level afterAll
 * here runs once, after every file. (The process's "exit" event does not fire under `bun test`.)
 */

import { afterAll } from "bun:test";
import { stopSharedWormholeServers } from "./wormhole-servers.ts";

// The magic-wormhole servers the test files shared (test/wormhole-servers.ts), by their pids.
afterAll(stopSharedWormholeServers, 90_000);
