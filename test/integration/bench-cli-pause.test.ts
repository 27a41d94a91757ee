/**
 * `bun run bench --cli-pause MS`: the CLI cases type `transfer` that long after both CLIs said
 * "Connected", as a user reading the screen would (0: at once). Two stand-in CLIs log when they
 * said it and when each typed line came.
 */

import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCliTransfer } from "../../bench/lib/cli-case.ts";
import { start } from "../../bench/lib/procs.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("bench-cli-pause-");

/** A stand-in for the chat CLI: the lines the harness waits for, and a log of when each typed line came. */
const STAND_IN = `
const { appendFileSync, existsSync, readFileSync } = require("node:fs");
const [side, log, senderLog] = process.argv.slice(2);
if (side === "recv") {
  console.log("Listening on 127.0.0.1:1 · code 1-stand-in");
  while (!existsSync(senderLog)) await Bun.sleep(2); // "connected" once the sender is there
}
console.log("Connected to the stand-in");
if (side === "recv") {
  // As the real CLI: the sender's exit ends the connection, and this side with it.
  setInterval(() => readFileSync(senderLog, "utf8").includes("exit ") && process.exit(0), 5);
}
appendFileSync(log, \`connected \${performance.timeOrigin + performance.now()}\\n\`);
for await (const line of console) {
  appendFileSync(log, \`\${line.split(" ")[0]} \${performance.timeOrigin + performance.now()}\\n\`);
  if (line.startsWith("transfer ")) console.log("#1 stand-in: digest matched");
  if (line === "exit") process.exit(0);
}
`;

async function typedAfterConnected(pauseMs: number): Promise<number> {
  const dir = tempDir();
  const script = join(dir, "stand-in.ts");
  writeFileSync(script, STAND_IN);
  const logs = { recv: join(dir, "recv.log"), send: join(dir, "send.log") };
  await runCliTransfer({
    file: "f",
    size: 1,
    bothWays: false,
    chatMs: 0,
    pauseMs,
    startSide: (side) => start([process.execPath, script, side, logs[side], logs.send]),
  });
  const at = (event: string) => {
    const line = readFileSync(logs.send, "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${event} `));
    return Number(line?.split(" ")[1]);
  };
  return at("transfer") - at("connected");
}

test("--cli-pause 400: `transfer` comes 400 ms or more after Connected", async () => {
  expect(await typedAfterConnected(400)).toBeGreaterThanOrEqual(400);
});

test("without it `transfer` is typed at once", async () => {
  // At once: well under the pause above (bounded loosely: only the harness's own turns).
  expect(await typedAfterConnected(0)).toBeLessThan(400);
});
