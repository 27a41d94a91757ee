/**
 * The bench's figures beyond the case table: time to the CLI's "Listening on" line, many
 * small files one after another, and a long round trip (bench/delay-relay.ts) for encrypted
 * Parley and for socat through the same relay.
 */

import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import { PEER_CHAT_MS } from "./cases.ts";
import { BUN, freePort, LineReader, type Proc, start, stopAll } from "./procs.ts";
import { spread } from "./stats.ts";

/** ms from starting the CLI to its "Listening on" line, `times` times. */
export async function timeToListening(work: string, times = 5) {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const proc = start([BUN, "src/cli/main.ts", "--no-progress", "--dir", work]);
    await new LineReader(proc.stdout).waitFor(/^Listening on /);
    ms.push(performance.now() - t0);
    await stopAll([proc]);
  }
  return spread(ms);
}

/**
 * One untimed bench-peer transfer: a receiver into `out` (created), a sender with `sendArgs`
 * (checksum, chat ms, files), directly or through bench/delay-relay.ts holding chunks
 * `relayMs` each way. Every process is stopped before this returns.
 * @returns the sender's JSON stats line
 */
async function peerTransfer(
  label: string,
  out: string,
  sendArgs: string[],
  relayMs = 0,
): Promise<{ transferMs: number; rttP50: number; rttP99: number }> {
  mkdirSync(out);
  const procs: Proc[] = [];
  const run = (args: string[]) => {
    const proc = start([BUN, ...args]);
    procs.push(proc);
    return proc;
  };
  try {
    const receiver = run(["bench/peer.ts", "receive", out]);
    let [, port] = await new LineReader(receiver.stdout).waitFor(/^PORT (\d+)/);
    if (relayMs > 0) [, port] = await relayTo(port as string, relayMs, run);
    const sender = run(["bench/peer.ts", "send", port as string, ...sendArgs]);
    const [code] = await Promise.all([sender.exited, receiver.exited]);
    if (code !== 0) throw new Error(`${label}: sender exit ${code}: ${await new Response(sender.stderr).text()}`);
    const text = await new Response(sender.stdout).text();
    return JSON.parse(text.trim().split("\n").at(-1) as string);
  } finally {
    await stopAll(procs);
  }
}

/** Starts bench/delay-relay.ts in front of `port`; resolves with the relay's port match. */
async function relayTo(port: string, relayMs: number, run: (args: string[]) => Proc) {
  const relay = run(["bench/delay-relay.ts", port, String(relayMs)]);
  return new LineReader(relay.stdout).waitFor(/^RELAY (\d+)/);
}

export async function smallFilesRate(work: string, files: number, fileSize: number) {
  const dir = join(work, "small");
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < files; i++) {
    const p = join(dir, `f${String(i).padStart(5, "0")}.bin`);
    const fd = openSync(p, "w");
    writeSync(fd, crypto.getRandomValues(new Uint8Array(Math.min(fileSize, 65536))));
    if (fileSize > 65536) ftruncateSync(fd, fileSize);
    closeSync(fd);
    paths.push(p);
  }
  const out = join(work, "small-out");
  const stats = await peerTransfer("small files", out, ["xxh3", "0", ...paths]);
  if (readdirSync(out).length !== files) throw new Error("small files: not every file arrived");
  rmSync(out, { recursive: true, force: true });
  return { files, perSecond: files / (stats.transferMs / 1000) };
}

/** socat through the delay relay: MiB/s of `file` to a new file. */
async function socatThroughRelay(work: string, file: string, relayMs: number): Promise<number> {
  const out = join(work, "long-link-socat.bin");
  rmSync(out, { force: true });
  const procs: Proc[] = [];
  try {
    const port = freePort();
    const receiver = start([
      "socat",
      "-d",
      "-d",
      "-u",
      "-b131072",
      `TCP-LISTEN:${port},bind=127.0.0.1`,
      `OPEN:${out},creat,excl`,
    ]);
    procs.push(receiver);
    await new LineReader(receiver.stderr).waitFor(/listening on/);
    const [, relayPort] = await relayTo(String(port), relayMs, (args) => {
      const proc = start([BUN, ...args]);
      procs.push(proc);
      return proc;
    });
    const t0 = performance.now();
    const sender = start(["socat", "-u", "-b131072", `OPEN:${file},rdonly`, `TCP:127.0.0.1:${relayPort}`]);
    procs.push(sender);
    await Promise.all([sender.exited, receiver.exited]);
    const seconds = (performance.now() - t0) / 1000;
    const bytes = statSync(file).size;
    if (spawnSync(["cmp", "-s", file, out]).exitCode !== 0) throw new Error("long link: socat's output differs");
    return bytes / 2 ** 20 / seconds;
  } finally {
    await stopAll(procs);
    rmSync(out, { force: true });
  }
}

/**
 * Encrypted Parley (bench peers, a chat line every PEER_CHAT_MS) and, when installed, socat,
 * both through bench/delay-relay.ts holding every chunk `linkMs` each way: a long round trip
 * on loopback. Interleaved, best of `runs` each, `bytes` of the source file.
 */
export async function longLinkRate(
  work: string,
  source: string,
  linkMs: number,
  bytes: number,
  runs: number,
  socat: boolean,
) {
  const file = join(work, "long-link.bin");
  spawnSync(["sh", "-c", `head -c ${bytes} "${source}" > "${file}"`]);
  const parley: Array<{ mibps: number; rttP50: number; rttP99: number }> = [];
  const socatMibps: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = join(work, "long-link-out");
    const stats = await peerTransfer("long link", out, ["xxh3", String(PEER_CHAT_MS), file], linkMs);
    rmSync(out, { recursive: true, force: true });
    parley.push({ mibps: bytes / 2 ** 20 / (stats.transferMs / 1000), rttP50: stats.rttP50, rttP99: stats.rttP99 });
    if (socat) socatMibps.push(await socatThroughRelay(work, file, linkMs));
  }
  rmSync(file, { force: true });
  const best = parley.reduce((a, b) => (b.mibps > a.mibps ? b : a));
  const socatBest = socatMibps.length > 0 ? Math.max(...socatMibps) : undefined;
  return {
    linkMs,
    roundTripMs: 2 * linkMs,
    mib: bytes / 2 ** 20,
    runs,
    ...best,
    socatMibps: socatBest,
    vsSocat: socatBest ? best.mibps / socatBest : undefined,
  };
}
