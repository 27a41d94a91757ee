/**
 * PARLEY_CHAT_TRACE through the real CLI: a chat line typed on one side is stamped at each
 * stage it passes (line handler, written, the read it came in, decoded, shown), in one file per
 * process, on one clock; without the variable no file is written.
 */

import { afterEach, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, connectedPair, makeTempDir } from "./helpers.ts";

afterEach(() => {
  delete process.env.PARLEY_CHAT_TRACE;
  return cleanup();
});
const TEST_MS = 30_000;

/** Each trace file's stamps of `text`, by stage: epoch ms. */
function stampsOf(dir: string, text: string): Array<Map<string, number>> {
  return readdirSync(dir).map((name) => {
    const stages = new Map<string, number>();
    for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
      const [stage, at, , ...words] = line.split(" ");
      if (words.join(" ") === text) stages.set(stage as string, Number(at));
    }
    return stages;
  });
}

test(
  "a chat line is stamped by the sender (in, out) and the receiver (read, decoded, shown), in that order",
  async () => {
    const traces = makeTempDir();
    process.env.PARLEY_CHAT_TRACE = join(traces, "trace");
    const { a, b } = await connectedPair();
    a.cli.send("hello through the trace");
    await b.cli.waitForLine(/^<alice> hello through the trace$/);
    a.cli.send("exit");
    b.cli.send("exit");
    expect(await a.cli.exitCode()).toBe(0);
    expect(await b.cli.exitCode()).toBe(0);

    const files = stampsOf(traces, "hello through the trace");
    expect(files.length).toBe(2); // one per process
    const sender = files.find((s) => s.has("in")) as Map<string, number>;
    const receiver = files.find((s) => s.has("decoded")) as Map<string, number>;
    expect([...sender.keys()]).toEqual(["in", "out"]);
    expect([...receiver.keys()]).toEqual(["read", "decoded", "shown"]);
    const at = (stages: Map<string, number>, stage: string) => stages.get(stage) as number;
    // In each process, in the order passed.
    expect(at(sender, "out")).toBeGreaterThanOrEqual(at(sender, "in"));
    expect(at(receiver, "decoded")).toBeGreaterThanOrEqual(at(receiver, "read"));
    expect(at(receiver, "shown")).toBeGreaterThanOrEqual(at(receiver, "decoded"));
    // Across them, on one clock: decoded after the line handler had it (the receiver may start
    // its read before the sender has stamped its write: no order between "out" and "read").
    expect(at(receiver, "decoded")).toBeGreaterThanOrEqual(at(sender, "in") - 0.5);
  },
  TEST_MS,
);

test(
  "without PARLEY_CHAT_TRACE nothing is written",
  async () => {
    const traces = makeTempDir();
    const { a, b } = await connectedPair();
    a.cli.send("no trace");
    await b.cli.waitForLine(/^<alice> no trace$/);
    a.cli.send("exit");
    b.cli.send("exit");
    expect(await a.cli.exitCode()).toBe(0);
    expect(await b.cli.exitCode()).toBe(0);
    expect(readdirSync(traces)).toEqual([]);
  },
  TEST_MS,
);
