/**
 * `bun run bench --cli-pause MS`: the CLI cases as two users. The sender's Parley starts without
 * --connect and its code is typed MS after its "Listening on"; `transfer` comes MS after both
 * said "Connected" (0: --connect at start, `transfer` at once). Two stand-in CLIs log when they
 * said what and when each typed line came.
 */

import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCliTransfer } from "../../bench/lib/cli-case.ts";
import { start } from "../../bench/lib/procs.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("bench-cli-pause-");

/**
 * A stand-in for the chat CLI: the lines the harness waits for, and a log of when it said them
 * and when each typed line came. The sender says "Connected" once given a code, on its command
 * line (--connect) or typed; the receiver once the sender has.
 */
const STAND_IN = `
const { appendFileSync, existsSync, readFileSync } = require("node:fs");
const [side, log, senderLog, ...args] = process.argv.slice(2);
const stamp = (what) => appendFileSync(log, \`\${what} \${performance.timeOrigin + performance.now()}\\n\`);
// Each line stamped before it is said: a stamp is never later than the harness's sight of its line,
// however long this process is held between the two (a loaded host), so the pauses measured are
// never short of the ones the harness kept.
const connected = () => {
  stamp("connected");
  console.log("Connected to the stand-in");
};
stamp("listening");
console.log(\`Listening on 127.0.0.1:1 · code 1-\${side}\`);
if (side === "recv") {
  while (!existsSync(senderLog) || !readFileSync(senderLog, "utf8").includes("connected ")) await Bun.sleep(2);
  connected();
  // As the real CLI: the sender's exit ends the connection, and this side with it.
  setInterval(() => readFileSync(senderLog, "utf8").includes("exit ") && process.exit(0), 5);
} else if (args[0] === "--connect") {
  connected();
}
for await (const line of console) {
  stamp(line.split(" ")[0]);
  if (side === "send" && line === "1-recv") connected();
  if (line.startsWith("transfer ")) console.log("#1 stand-in: digest matched");
  if (line === "exit") process.exit(0);
}
`;

/**
 * The sender's log: ms from each stamp to the next one named, for the pauses; and the pauses the
 * harness kept (each a Bun.sleep), in ms.
 */
async function senderStamps(
  pauseMs: number,
): Promise<{ between: (from: string, to: string) => number; kept: number[] }> {
  const dir = tempDir();
  const script = join(dir, "stand-in.ts");
  writeFileSync(script, STAND_IN);
  const logs = { recv: join(dir, "recv.log"), send: join(dir, "send.log") };
  const kept: number[] = [];
  await runCliTransfer({
    file: "f",
    size: 1,
    bothWays: false,
    chatMs: 0,
    pauseMs,
    pause: (ms) => {
      kept.push(ms);
      return Bun.sleep(ms);
    },
    startSide: (side, args) => start([process.execPath, script, side, logs[side], logs.send, ...args]),
  });
  const lines = readFileSync(logs.send, "utf8").split("\n");
  const at = (event: string) => Number(lines.find((l) => l.startsWith(`${event} `))?.split(" ")[1]);
  return { between: (from, to) => at(to) - at(from), kept };
}

test("--cli-pause 400: the code typed 400 ms or more after Listening, `transfer` as long after Connected", async () => {
  const { between, kept } = await senderStamps(400);
  expect(between("listening", "1-recv")).toBeGreaterThanOrEqual(400);
  expect(between("connected", "transfer")).toBeGreaterThanOrEqual(400);
  expect(kept).toEqual([400, 400]); // each kept by the pause the harness was given
});

test("without it the sender dials with --connect and `transfer` is typed at once", async () => {
  const { between, kept } = await senderStamps(0);
  expect(Number.isNaN(between("listening", "1-recv"))).toBe(true); // no code typed
  // At once: no pause kept (the case above sees each one kept through `pause`), only the
  // harness's own turns between Connected and `transfer`: how long those take is the host's
  // load, not the harness's, and no bound on them is asserted.
  expect(kept).toEqual([]);
  expect(between("connected", "transfer")).toBeGreaterThanOrEqual(0);
});
