/**
 * The bench's long-link figures alone (bench/lib/extras.ts longLinkRate): encrypted Parley and
 * socat through bench/delay-relay.ts, on its `tcp` model and its `unbounded` one, interleaved;
 * beside socat, a line echoed on a TCP connection of its own through the same relay (the hop's
 * own round trips, next to Parley's in-stream chat).
 *
 *   bun bench/long-link.ts [--size 256M] [--runs 2] [--link-ms 20] [--models tcp,unbounded]
 *                          [--peer-root DIR] [--relay-recv-buffer BYTES] [--relay-cap BYTES] [--relay-pace 0|1]
 *                          [--both-ways] [--json [--rtts]]
 *   --peer-root: run DIR/bench/peer.ts (another tree, e.g. main's) through this tree's relay
 *   --relay-recv-buffer: the relay's --recv-buffer (bench/delay-relay.ts; its default, 32 KiB, when absent)
 *   --relay-cap: the tcp model's in-flight cap (the relay's --cap; default: this machine's TCP
 *     buffers, 4 MiB here): a slower path, e.g. 512K for about 512 KiB / 44 ms = 11 MiB/s
 *   --relay-pace 1: the tcp model paces as Linux does (the relay's --pace; not by default)
 *   --rtts: the JSON keeps every chat round trip of every run, in the order sent
 *   --both-ways: the receiver sends the same file back meanwhile; each run's line and JSON give
 *     that direction's MiB/s too (`backMibps`; socat's stream and the echo stay one way)
 */

import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { spawnSync } from "bun";
import { formatLongLink, type LinkModel, longLinkRate } from "./lib/extras.ts";
import { parseSize } from "./lib/flags.ts";

function fail(message: string): never {
  process.stderr.write(`long-link: ${message}\n`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        size: { type: "string", default: "256M" },
        runs: { type: "string", default: "2" },
        "link-ms": { type: "string", default: "20" },
        models: { type: "string", default: "tcp,unbounded" },
        "peer-root": { type: "string" },
        "relay-recv-buffer": { type: "string" },
        "relay-cap": { type: "string" },
        "relay-pace": { type: "string" },
        json: { type: "boolean", default: false },
        rtts: { type: "boolean", default: false },
        "both-ways": { type: "boolean", default: false },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const models = (values.models as string).split(",") as LinkModel[];
if (models.length === 0 || models.some((m) => m !== "tcp" && m !== "unbounded")) fail(`bad --models ${values.models}`);
const runs = Number(values.runs);
const linkMs = Number(values["link-ms"]);
if (!(runs >= 1) || !(linkMs > 0)) fail("--runs and --link-ms must be positive");
const relayReceiveBuffer = values["relay-recv-buffer"] === undefined ? undefined : Number(values["relay-recv-buffer"]);
if (relayReceiveBuffer !== undefined && !(relayReceiveBuffer >= 0)) fail("--relay-recv-buffer must be 0 or more");
const relayCap = (() => {
  if (values["relay-cap"] === undefined) return undefined;
  try {
    return parseSize(values["relay-cap"] as string);
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const size = (() => {
  try {
    return parseSize(values.size as string);
  } catch (error) {
    return fail((error as Error).message);
  }
})();

const work = mkdtempSync(join(tmpdir(), "parley-long-link-"));
try {
  const source = join(work, "source.bin");
  const fd = openSync(source, "w");
  const block = new Uint8Array(1 << 20);
  for (let done = 0; done < size; done += block.length) {
    for (let at = 0; at < block.length; at += 65536) crypto.getRandomValues(block.subarray(at, at + 65536));
    writeSync(fd, block, 0, Math.min(block.length, size - done));
  }
  closeSync(fd);
  const socat = spawnSync(["sh", "-c", "command -v socat"]).exitCode === 0;
  const peerScript = values["peer-root"] ? join(resolve(values["peer-root"]), "bench/peer.ts") : undefined;
  const result = await longLinkRate(work, source, linkMs, size, runs, socat, {
    models,
    peerScript,
    keepRtts: values.rtts as boolean,
    bothWays: values["both-ways"] as boolean,
    relay: {
      ...(relayReceiveBuffer === undefined ? {} : { receiveBuffer: relayReceiveBuffer }),
      ...(relayCap === undefined ? {} : { cap: relayCap }),
      ...(values["relay-pace"] === undefined ? {} : { pace: values["relay-pace"] === "1" ? 1 : 0 }),
    },
  });
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatLongLink(result)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
