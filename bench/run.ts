/**
 * `bun run bench`: loopback throughput and chat latency of the real transfer path, against
 * baselines measured in the same run (this machine is shared and noisy: compare ratios, not
 * absolute numbers between runs).
 *
 * Every case runs sender and receiver as two processes on 127.0.0.1, file to new file, timed
 * from the sender's start to both exits. Cases are interleaved run by run; medians decide.
 *   raw           bench/raw-pump.ts: Bun socket pump, no framing, no hashing (baseline)
 *   socat         socat -u -b131072 file to file (baseline; skipped with a note when missing)
 *   scp           scp -c aes128-gcm@openssh.com to our own sshd on 127.0.0.1 (encrypted
 *                 baseline; skipped with a note when openssh-server is missing)
 *   parley        bench/peer.ts: the CLI's net/session/transfer stack, default checksum,
 *                 a chat line every 15 ms echoed by the receiver (round trip measured)
 *   parley-sha256 the same with --checksum sha256
 *   parley-unsealed  the same peers with the records left unsealed (handshake done): what
 *                 encryption costs, as a ratio (the product has no such mode)
 *   parley-unsealed-sha256  the same with --checksum sha256
 *   parley-both-ways  parley while the receiver sends the same file back at the same time
 *                 (MiB/s of one direction; chat shares the connection with both)
 * Plus: time to the CLI's "Listening on" line, transfers/s for many small files, and the
 * speed over a long round trip (a delaying relay on 127.0.0.1).
 *
 * Flags: --size 1G  --runs 5  --files 1000  --file-size 4K  --json  --keep  --no-external
 *        --cases raw,parley,...  (a subset, in the order above)
 *        --link-ms 20  (the long-link figure: a relay holding each chunk that long each way; 0: skip)
 *        --big 8G (one extra parley run on a sparse file of that size, for peak RSS)
 */

import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { spawn, spawnSync } from "bun";

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;
const CHAT_MS = 15;

interface SideUsage {
  maxRssMiB: number;
  cpuS: number;
}
interface RunResult {
  case: string;
  mibps: number;
  recv: SideUsage;
  send: SideUsage;
  rttP50?: number;
  rttP99?: number;
  rttMax?: number;
  rtts?: number[];
  chatsLost?: number;
  outOfOrder?: number;
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    size: { type: "string", default: "1G" },
    runs: { type: "string", default: "5" },
    files: { type: "string", default: "1000" },
    "file-size": { type: "string", default: "4K" },
    big: { type: "string" },
    json: { type: "boolean", default: false },
    "no-external": { type: "boolean", default: false },
    cases: { type: "string" },
    "link-ms": { type: "string", default: "20" },
    keep: { type: "boolean", default: false },
  },
});

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new Error(`bad size: ${text}`);
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? "").toUpperCase() as "" | "K" | "M" | "G"];
  return Math.round(Number(m[1]) * unit);
}

const size = parseSize(values.size as string);
const runs = Number(values.runs);
const smallFiles = Number(values.files);
const smallFileSize = parseSize(values["file-size"] as string);
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const work = mkdtempSync(join(tmpdir(), "parley-bench-"));
const source = join(work, "source.bin");
/** --no-external: only the Bun cases (no socat, no sshd/scp), for the smoke test. */
const external = !values["no-external"];
const hasSocat = external && spawnSync(["sh", "-c", "command -v socat"]).exitCode === 0;
const hasTime = existsSync("/usr/bin/time");

/**
 * An sshd of our own on 127.0.0.1 for the scp baseline (key login as the current user, a
 * temporary config, stopped at the end), when openssh-server and scp are installed.
 */
function startSshd(dir: string): { port: number; key: string; stop: () => void } | undefined {
  if (!existsSync("/usr/sbin/sshd") || spawnSync(["sh", "-c", "command -v scp"]).exitCode !== 0) return undefined;
  const ssh = join(dir, "ssh");
  mkdirSync(ssh);
  for (const k of ["hostkey", "clientkey"]) {
    spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(ssh, k)]);
  }
  writeFileSync(join(ssh, "authorized_keys"), readFileSync(join(ssh, "clientkey.pub")));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(ssh, "hostkey")}`,
    `AuthorizedKeysFile ${join(ssh, "authorized_keys")}`,
    `PidFile ${join(ssh, "sshd.pid")}`,
    "UsePAM no",
    "StrictModes no",
    "PasswordAuthentication no",
    "Subsystem sftp internal-sftp",
  ].join("\n");
  writeFileSync(join(ssh, "sshd_config"), `${config}\n`);
  mkdirSync("/run/sshd", { recursive: true });
  if (spawnSync(["/usr/sbin/sshd", "-f", join(ssh, "sshd_config")]).exitCode !== 0) return undefined;
  return {
    port,
    key: join(ssh, "clientkey"),
    stop: () => {
      const pid = Number(readFileSync(join(ssh, "sshd.pid"), "utf8"));
      if (pid > 0) process.kill(pid);
    },
  };
}

function writeRandomFile(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  const block = new Uint8Array(1 << 20);
  for (let done = 0; done < bytes; ) {
    const n = Math.min(block.length, bytes - done);
    crypto.getRandomValues(block.subarray(0, Math.min(n, 65536)));
    // getRandomValues is capped at 64 KiB a call: fill the block in 64 KiB steps.
    for (let at = 65536; at < n; at += 65536) crypto.getRandomValues(block.subarray(at, Math.min(at + 65536, n)));
    writeSync(fd, block, 0, n);
    done += n;
  }
  closeSync(fd);
}

/** Spawns `cmd`, wrapped in /usr/bin/time for peak RSS and CPU when it exists. */
function start(cmd: string[], usageFile: string, env: Record<string, string> = {}) {
  const argv = hasTime ? ["/usr/bin/time", "-f", "%M %U %S", "-o", usageFile, ...cmd] : cmd;
  return spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
}

function usageOf(usageFile: string): SideUsage {
  if (!hasTime || !existsSync(usageFile)) return { maxRssMiB: Number.NaN, cpuS: Number.NaN };
  const last = readFileSync(usageFile, "utf8").trim().split("\n").at(-1) as string;
  const [kb, user, sys] = last.split(" ").map(Number) as [number, number, number];
  return { maxRssMiB: Math.round(kb / 1024), cpuS: user + sys };
}

/** Reads lines of a stream until `pattern` matches one; resolves with the match. */
async function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp, collect: string[]): Promise<string[]> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended before ${pattern}; got: ${collect.join(" | ")}`);
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      collect.push(line);
      const m = pattern.exec(line);
      if (m) {
        reader.releaseLock();
        return m;
      }
    }
  }
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function checkOutput(path: string, label: string, compare: boolean): Promise<void> {
  const got = statSync(path).size;
  if (got !== size) throw new Error(`${label}: output has ${got} bytes, expected ${size}`);
  if (compare && spawnSync(["cmp", "-s", source, path]).exitCode !== 0) throw new Error(`${label}: output differs`);
}

async function runCase(name: string, file = source, fileSize = size): Promise<RunResult> {
  const out = join(work, `out-${name}`);
  rmSync(out, { recursive: true, force: true });
  const recvUsage = join(work, "recv.usage");
  const sendUsage = join(work, "send.usage");
  rmSync(recvUsage, { force: true });
  rmSync(sendUsage, { force: true });
  let receiver: ReturnType<typeof start>;
  let senderCmd: string[];
  const recvLines: string[] = [];
  if (name === "scp" && sshd) {
    // sshd is the receiver here (started once); a stand-in process keeps the shape of a run.
    receiver = start(["true"], recvUsage);
    senderCmd = [
      "scp",
      "-q",
      "-c",
      "aes128-gcm@openssh.com",
      "-i",
      sshd.key,
      "-P",
      String(sshd.port),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      file,
      `root@127.0.0.1:${out}`,
    ];
  } else if (name === "raw") {
    receiver = start([BUN, "bench/raw-pump.ts", "receive", out], recvUsage);
    const [, port] = await waitForLine(receiver.stdout, /^PORT (\d+)/, recvLines);
    senderCmd = [BUN, "bench/raw-pump.ts", "send", port as string, file];
  } else if (name === "socat") {
    const port = await freePort();
    receiver = start(
      ["socat", "-d", "-d", "-u", "-b131072", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${out},creat,excl`],
      recvUsage,
    );
    await waitForLine(receiver.stderr, /listening on/, recvLines);
    senderCmd = ["socat", "-u", "-b131072", `OPEN:${file},rdonly`, `TCP:127.0.0.1:${port}`];
  } else {
    mkdirSync(out);
    receiver = start([BUN, "bench/peer.ts", "receive", out], recvUsage, peerEnv(name));
    const [, port] = await waitForLine(receiver.stdout, /^PORT (\d+)/, recvLines);
    const checksum = name.endsWith("-sha256") ? "sha256" : "xxh3";
    senderCmd = [BUN, "bench/peer.ts", "send", port as string, checksum, String(CHAT_MS), file];
  }
  const t0 = performance.now();
  const sender = start(senderCmd, sendUsage, peerEnv(name));
  const [sendCode, recvCode] = await Promise.all([sender.exited, receiver.exited]);
  const seconds = (performance.now() - t0) / 1000;
  if (sendCode !== 0 || recvCode !== 0) {
    const err = `${await new Response(sender.stderr).text()} ${await new Response(receiver.stderr).text()}`;
    throw new Error(`${name}: sender exit ${sendCode}, receiver exit ${recvCode}: ${err.trim()}`);
  }
  const result: RunResult = {
    case: name,
    mibps: fileSize / 2 ** 20 / seconds,
    recv: usageOf(recvUsage),
    send: usageOf(sendUsage),
  };
  if (name.startsWith("parley")) {
    const stats = JSON.parse((await new Response(sender.stdout).text()).trim().split("\n").at(-1) as string);
    Object.assign(result, {
      rttP50: stats.rttP50,
      rttP99: stats.rttP99,
      rttMax: stats.rttMax,
      rtts: stats.rtts,
      chatsLost: stats.chatsSent - stats.chatsEchoed,
      outOfOrder: stats.outOfOrder,
    });
    if (file === source) await checkOutput(join(out, "source.bin"), name, false); // verified by its own digest
  } else {
    await checkOutput(out, name, true);
  }
  rmSync(out, { recursive: true, force: true });
  return result;
}

function percentileOf(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number);
}

/** The unsealed baselines run the same peers with sealing off; both-ways has the receiver send too. */
function peerEnv(name: string): Record<string, string> {
  if (name === "parley-both-ways") return { PARLEY_BENCH_SEND_BACK: source };
  return name.startsWith("parley-unsealed") ? { PARLEY_BENCH_UNSEALED: "1" } : {};
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function timeToListening(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const proc = spawn([BUN, "src/cli/main.ts", "--no-progress", "--dir", work], {
      cwd: ROOT,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "ignore",
    });
    await waitForLine(proc.stdout, /^Listening on /, []);
    times.push(performance.now() - t0);
    proc.kill();
    await proc.exited;
  }
  return times;
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
  const procs: Array<ReturnType<typeof spawn>> = [];
  const peer = (args: string[]) => {
    const proc = spawn([BUN, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    procs.push(proc);
    return proc;
  };
  try {
    const receiver = peer(["bench/peer.ts", "receive", out]);
    let [, port] = (await waitForLine(receiver.stdout as ReadableStream<Uint8Array>, /^PORT (\d+)/, [])) as string[];
    if (relayMs > 0) {
      const relay = peer(["bench/delay-relay.ts", port as string, String(relayMs)]);
      [, port] = (await waitForLine(relay.stdout as ReadableStream<Uint8Array>, /^RELAY (\d+)/, [])) as string[];
    }
    const sender = peer(["bench/peer.ts", "send", port as string, ...sendArgs]);
    const [code] = await Promise.all([sender.exited, receiver.exited]);
    if (code !== 0) {
      throw new Error(`${label}: sender exit ${code}: ${await new Response(sender.stderr as ReadableStream).text()}`);
    }
    const text = await new Response(sender.stdout as ReadableStream).text();
    return JSON.parse(text.trim().split("\n").at(-1) as string);
  } finally {
    for (const proc of procs) proc.kill();
    await Promise.all(procs.map((proc) => proc.exited));
  }
}

async function smallFilesRate(): Promise<{ files: number; perSecond: number }> {
  const dir = join(work, "small");
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < smallFiles; i++) {
    const p = join(dir, `f${String(i).padStart(5, "0")}.bin`);
    const fd = openSync(p, "w");
    writeSync(fd, crypto.getRandomValues(new Uint8Array(Math.min(smallFileSize, 65536))));
    if (smallFileSize > 65536) ftruncateSync(fd, smallFileSize);
    closeSync(fd);
    paths.push(p);
  }
  const out = join(work, "small-out");
  const stats = await peerTransfer("small files", out, ["xxh3", "0", ...paths]);
  if (readdirSync(out).length !== smallFiles) throw new Error("small files: not every file arrived");
  rmSync(out, { recursive: true, force: true });
  return { files: smallFiles, perSecond: smallFiles / (stats.transferMs / 1000) };
}

/**
 * Encrypted Parley through bench/delay-relay.ts, which holds every chunk `linkMs` each way: a
 * long round trip on loopback, where the send window (sized in time) has to grow to keep the
 * link busy. Best of `runs` transfers of `bytes` (the first part of the source file).
 */
async function longLinkRate(linkMs: number, bytes: number, runs: number) {
  const file = join(work, "long-link.bin");
  spawnSync(["sh", "-c", `head -c ${bytes} "${source}" > "${file}"`]);
  const results: Array<{ mibps: number; rttP50: number; rttP99: number }> = [];
  for (let i = 0; i < runs; i++) {
    const out = join(work, "long-link-out");
    const stats = await peerTransfer("long link", out, ["xxh3", String(CHAT_MS), file], linkMs);
    rmSync(out, { recursive: true, force: true });
    results.push({ mibps: bytes / 2 ** 20 / (stats.transferMs / 1000), rttP50: stats.rttP50, rttP99: stats.rttP99 });
  }
  const best = results.reduce((a, b) => (b.mibps > a.mibps ? b : a));
  return { linkMs, roundTripMs: 2 * linkMs, mib: bytes / 2 ** 20, runs, ...best };
}

async function main(): Promise<void> {
  log(`bench: ${(size / 2 ** 20).toFixed(0)} MiB file, ${runs} runs, in ${work}`);
  if (!hasSocat) log("bench: socat is not installed (apt-get install socat): the socat baseline is skipped");
  if (!hasTime) log("bench: /usr/bin/time is missing (apt-get install time): no RSS/CPU figures");
  writeRandomFile(source, size);
  sshd = external ? startSshd(work) : undefined;
  if (!sshd) log("bench: no sshd/scp (apt-get install openssh-server openssh-client): the scp baseline is skipped");
  spawnSync(["cat", source], { stdout: "ignore" }); // into the page cache, untimed
  const available = [
    "raw",
    ...(hasSocat ? ["socat"] : []),
    ...(sshd ? ["scp"] : []),
    "parley-unsealed",
    "parley-unsealed-sha256",
    "parley",
    "parley-sha256",
    "parley-both-ways",
  ];
  const wanted = values.cases ? (values.cases as string).split(",") : available;
  const cases = available.filter((name) => wanted.includes(name));
  const results: RunResult[] = [];
  for (let r = 0; r < runs; r++) {
    for (const name of cases) {
      const result = await runCase(name);
      results.push(result);
      log(`  run ${r + 1}/${runs} ${name.padEnd(22)} ${result.mibps.toFixed(0)} MiB/s`);
    }
  }
  const startup = await timeToListening();
  const small = await smallFilesRate();
  const linkMs = Number(values["link-ms"]);
  const longLink = linkMs > 0 ? await longLinkRate(linkMs, Math.min(size, 256 * 2 ** 20), 2) : undefined;
  let big: RunResult | undefined;
  if (values.big) {
    const bigSize = parseSize(values.big as string);
    const bigFile = join(work, "big-sparse.bin");
    const fd = openSync(bigFile, "w");
    ftruncateSync(fd, bigSize);
    closeSync(fd);
    big = await runCase("parley", bigFile, bigSize);
    big.case = `parley ${values.big} sparse`;
  }

  const summary = cases.map((name) => {
    const rs = results.filter((x) => x.case === name);
    const speeds = rs.map((x) => x.mibps);
    const pick = (f: (x: RunResult) => number | undefined) => rs.map(f).filter((v): v is number => v !== undefined);
    return {
      case: name,
      runs: rs.length,
      mibps: { median: median(speeds), min: Math.min(...speeds), max: Math.max(...speeds) },
      chat: name.startsWith("parley")
        ? {
            // Every round trip of every run, pooled.
            samples: rs.flatMap((x) => x.rtts ?? []).length,
            p50: percentileOf(
              rs.flatMap((x) => x.rtts ?? []),
              50,
            ),
            p99: percentileOf(
              rs.flatMap((x) => x.rtts ?? []),
              99,
            ),
            max: Math.max(...pick((x) => x.rttMax)),
            lost: pick((x) => x.chatsLost).reduce((a, b) => a + b, 0),
            outOfOrder: pick((x) => x.outOfOrder).reduce((a, b) => a + b, 0),
          }
        : undefined,
      peakRssMiB: {
        recv: Math.max(...rs.map((x) => x.recv.maxRssMiB)),
        send: Math.max(...rs.map((x) => x.send.maxRssMiB)),
      },
      cpuS: { recv: median(rs.map((x) => x.recv.cpuS)), send: median(rs.map((x) => x.send.cpuS)) },
    };
  });
  const base = (name: string) => summary.find((s) => s.case === name)?.mibps.median;
  const raw = base("raw");
  const socat = base("socat");
  const unsealed = base("parley-unsealed");
  const scp = base("scp");
  const doc = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Bun ${Bun.version}`,
    fileMiB: size / 2 ** 20,
    chatIntervalMs: CHAT_MS,
    cases: summary.map((s) => ({
      ...s,
      vsRaw: raw ? s.mibps.median / raw : undefined,
      vsSocat: socat ? s.mibps.median / socat : undefined,
      vsUnsealed: unsealed ? s.mibps.median / unsealed : undefined,
      vsScp: scp ? s.mibps.median / scp : undefined,
    })),
    startupToListeningMs: { median: median(startup), min: Math.min(...startup), max: Math.max(...startup) },
    smallFiles: small,
    longLink,
    big: big && {
      case: big.case,
      mibps: big.mibps,
      peakRssMiB: { recv: big.recv.maxRssMiB, send: big.send.maxRssMiB },
    },
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const f = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(d));
    const rows = [
      [
        "case",
        "MiB/s median (min-max)",
        "x raw",
        "x socat",
        "x unsealed",
        "x scp",
        "chat p50/p99/max ms",
        "lost",
        "RSS recv/send MiB",
        "CPU recv/send s",
      ],
    ];
    for (const s of doc.cases) {
      rows.push([
        s.case,
        `${f(s.mibps.median)} (${f(s.mibps.min)}-${f(s.mibps.max)})`,
        f(s.vsRaw, 2),
        f(s.vsSocat, 2),
        f(s.vsUnsealed, 2),
        f(s.vsScp, 2),
        s.chat ? `${f(s.chat.p50, 2)}/${f(s.chat.p99, 2)}/${f(s.chat.max, 2)}` : "-",
        s.chat ? `${s.chat.lost + s.chat.outOfOrder}` : "-",
        `${f(s.peakRssMiB.recv)}/${f(s.peakRssMiB.send)}`,
        `${f(s.cpuS.recv, 2)}/${f(s.cpuS.send, 2)}`,
      ]);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
    for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}\n`);
    process.stdout.write(`\n${doc.date} · ${doc.machine} · ${doc.fileMiB} MiB file · chat every ${CHAT_MS} ms\n`);
    process.stdout.write(
      `time to "Listening on": median ${f(doc.startupToListeningMs.median)} ms (${f(doc.startupToListeningMs.min)}-${f(doc.startupToListeningMs.max)})\n`,
    );
    process.stdout.write(
      `small files: ${small.files} × ${smallFileSize} B one after another: ${f(small.perSecond)} transfers/s\n`,
    );
    if (longLink) {
      process.stdout.write(
        `over a ${longLink.roundTripMs} ms round trip (bench/delay-relay.ts), ${f(longLink.mib)} MiB: ${f(longLink.mibps)} MiB/s, chat p50/p99 ${f(longLink.rttP50, 1)}/${f(longLink.rttP99, 1)} ms\n`,
      );
    }
    if (doc.big) {
      process.stdout.write(
        `${doc.big.case}: ${f(doc.big.mibps)} MiB/s, peak RSS recv/send ${doc.big.peakRssMiB.recv}/${doc.big.peakRssMiB.send} MiB\n`,
      );
    }
  }
}

let sshd: ReturnType<typeof startSshd>;
try {
  await main();
} finally {
  sshd?.stop();
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
