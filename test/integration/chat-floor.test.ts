/**
 * bench/chat-floor.ts on a small file for a second: socat streams it both ways while lines go
 * through two socat line paths, and the one result line has its shape (lines carried, the file
 * streamed through in full). Skipped without socat. Never asserts a latency.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBenchScript, socatAvailable } from "./bench-script.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!socatAvailable("bench/chat-floor.ts (test/integration/chat-floor.test.ts)"))(
  "chat-floor carries lines beside streams both ways and prints one result line",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-floor-"));
    dirs.push(dir);
    const file = join(dir, "bulk.bin");
    writeFileSync(file, new Uint8Array(4 * 1024 * 1024));
    const { out, err, code } = await runBenchScript(["bench/chat-floor.ts", file, "--both", "--seconds", "1"]);
    expect(code, err).toBe(0);
    const fields = out.trim().split("\t");
    expect(fields.slice(0, 2)).toEqual(["chat-floor", "both ways"]);
    const value = (name: string) => Number(fields.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1));
    // A line every 20 ms on each of the two paths for a second.
    expect(value("lines")).toBeGreaterThan(10);
    expect(value("p99")).toBeGreaterThanOrEqual(value("p50"));
    expect(value("streamed")).toBeGreaterThanOrEqual(1);
  },
  30_000,
);
