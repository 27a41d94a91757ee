/**
 * A bench peer: the CLI's own stack (net, rendezvous, session, transfer) with the terminal
 * replaced by a measuring driver, so `bun run bench` times the real transfer path in two
 * processes.
 *
 *   bun bench/peer.ts receive <dir>
 *       listens on 127.0.0.1, prints "PORT <n>", echoes every chat line back, exits when the
 *       peer leaves; prints one JSON line of stats
 *   bun bench/peer.ts send <port> <checksum> <chat-ms> <file>...
 *       dials, sends the files one after another while sending a chat line every <chat-ms>
 *       (0: none), then exits; prints one JSON line: bytes, transfer ms, chat round trips (both
 *       ways at once, after the file sent back has arrived too: also `backBytes`, `backMs`)
 *   Both JSON lines carry `transferFaults`, `transferUserS` and `transferSysS`: page faults
 *   and CPU seconds from the session's start to the end (the process's start-up, about 4,700
 *   faults of module loading and the handshake, left out)
 *   PARLEY_BENCH_UNSEALED=1 (on both): records left unsealed, the baseline for what sealing costs
 *   PARLEY_BENCH_SEND_BACK=<file> (on both): the receiver sends that file back at the same time
 */

import { mkdtempSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dial, listen } from "../src/net/index.ts";
import { Rendezvous, type Session, type SessionEvents } from "../src/session/index.ts";
import { preloadSessionCode } from "../src/session/preload.ts";
import { type ChecksumAlgo, isChecksumAlgo } from "../src/transfer/index.ts";

const [mode, ...args] = process.argv.slice(2);
/** PARLEY_BENCH_UNSEALED=1 on both peers: the unsealed baseline (handshake done, records not sealed). */
const unsealed = process.env.PARLEY_BENCH_UNSEALED === "1" ? { unsealedForBenchmark: true } : {};
/** PARLEY_BENCH_SEND_BACK=<file> on the receiver: it sends that file back meanwhile (both ways at once). */
const sendBack = process.env.PARLEY_BENCH_SEND_BACK;

function usage(): never {
  process.stderr.write("usage: peer.ts receive <dir> | send <port> <checksum> <chat-ms> <file>...\n");
  process.exit(2);
}

/** Page faults (minor + major) so far in this process. */
function faultsSoFar(): number {
  const r = process.resourceUsage();
  return r.minorPageFault + r.majorPageFault;
}

/** Faults and CPU when the session began: start-up's are not the transfer's. */
let faultsAtConnect = 0;
let cpuAtConnect = { user: 0, system: 0 };

function resourceStats(): {
  maxRssMiB: number;
  cpuS: number;
  transferFaults: number;
  transferUserS: number;
  transferSysS: number;
} {
  const r = process.resourceUsage();
  const cpu = process.cpuUsage(cpuAtConnect);
  return {
    maxRssMiB: Math.round(r.maxRSS / 1024),
    cpuS: (r.userCPUTime + r.systemCPUTime) / 1e6,
    transferFaults: faultsSoFar() - faultsAtConnect,
    transferUserS: cpu.user / 1e6,
    transferSysS: cpu.system / 1e6,
  };
}

/** Marks the session's start: faults and CPU from here on are the transfer's. */
function markConnect(): void {
  faultsAtConnect = faultsSoFar();
  cpuAtConnect = process.cpuUsage();
}

function quietEvents(overrides: Partial<SessionEvents>): SessionEvents {
  const fail = (what: string) => (reason: string) => {
    process.stderr.write(`bench peer: ${what}: ${reason}\n`);
    process.exit(1);
  };
  return {
    chatReceived() {},
    transferStarted() {},
    transferProgressed() {},
    transferFinished() {},
    transferFailed: (_info, reason) => fail("transfer failed")(reason),
    peerLeft() {},
    connectionLost: fail("connection lost"),
    closed() {},
    ...overrides,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The receiver's code words, known to both ends: the code is the only way in. */
const BENCH_WORDS = "ribbon-walnut";

if (mode === "receive" && args[0]) {
  let session: Session | undefined;
  let files = 0;
  let bytes = 0;
  const rendezvous = new Rendezvous({
    downloadDir: args[0],
    checksum: "xxh3",
    codeWords: BENCH_WORDS,
    ...unsealed,
    events: quietEvents({
      chatReceived: (text) => session?.sendChat(text),
      transferFinished: (done) => {
        if (done.direction !== "receive") return;
        files++;
        bytes += done.bytes;
      },
      peerLeft: () => {
        writeSync(1, `${JSON.stringify({ role: "receiver", files, bytes, ...resourceStats() })}\n`);
        process.exit(0);
      },
    }),
    rendezvousEvents: {
      connected: (s) => {
        session = s;
        markConnect();
        if (sendBack) s.sendFile(sendBack);
      },
      dropped: (_address, reason) => process.stderr.write(`bench receiver: dropped ${reason}\n`),
      wrongCode: () => process.stderr.write("bench receiver: wrong code\n"),
    },
  });
  const listener = listen("127.0.0.1", 0, (conn) => rendezvous.accepted(conn));
  process.stdout.write(`PORT ${listener.port}\n`);
  // As the CLI does once it listens: native code loaded at a transfer's first bytes instead
  // stalled both peers there (first chat round trips 60-115 ms against 13-27, load 7).
  await preloadSessionCode();
} else if (mode === "send" && args.length >= 4) {
  const [portText, checksumText, chatMsText, ...files] = args as [string, string, string, ...string[]];
  /**
   * Where a file the receiver sends back lands (both ways at once: the bench sets
   * PARLEY_BENCH_SEND_BACK for both peers); removed at exit. Otherwise nothing may arrive.
   */
  const inbox = sendBack ? mkdtempSync(join(tmpdir(), "parley-bench-inbox-")) : "/nonexistent";
  if (sendBack) {
    process.on("exit", () => rmSync(inbox, { recursive: true, force: true }));
    process.on("SIGTERM", () => process.exit(143)); // so the line above runs when stopped
  }
  if (!isChecksumAlgo(checksumText)) usage();
  const checksum: ChecksumAlgo = checksumText;
  const chatMs = Number(chatMsText);
  const rtts: number[] = [];
  /** When each chat line was sent, ms from the session's start (the transfer's: transferMs counts from there). */
  const chatSentMs: number[] = [];
  let chatsSent = 0;
  let nextExpected = 0;
  let outOfOrder = 0;
  let bytes = 0;
  let next = 0;
  let startedAt = 0;
  /** Our own files' time, ms, once all are sent. */
  let transferMs: number | undefined;
  /** The file sent back (both ways at once): its bytes and its time from the session's start, ms. */
  let backBytes = 0;
  let backMs: number | undefined;
  let chatTimer: ReturnType<typeof setInterval> | undefined;
  let session: Session | undefined;
  const sendNext = (): void => {
    const file = files[next++];
    if (file === undefined) {
      transferMs = performance.now() - startedAt;
      reportOnceDone();
      return;
    }
    session?.sendFile(file);
  };
  /** Reports once our files are sent and (both ways at once) the file sent back has arrived. */
  const reportOnceDone = (): void => {
    if (transferMs === undefined || (sendBack && backMs === undefined)) return;
    clearInterval(chatTimer);
    // Give the last chat lines in flight a moment to come back before counting them lost.
    const deadline = performance.now() + 500;
    const report = (): void => {
      if (rtts.length < chatsSent && performance.now() < deadline) {
        setTimeout(report, 5);
        return;
      }
      const sorted = [...rtts].sort((x, y) => x - y);
      const stats = {
        role: "sender",
        files: files.length,
        bytes,
        transferMs,
        chatsSent,
        chatsEchoed: rtts.length,
        outOfOrder,
        rttP50: percentile(sorted, 50),
        rttP99: percentile(sorted, 99),
        rttMax: sorted.at(-1) ?? Number.NaN,
        rtts,
        chatSentMs,
        ...(sendBack ? { backBytes, backMs } : {}),
      };
      writeSync(1, `${JSON.stringify({ ...stats, ...resourceStats() })}\n`);
      session?.exit(); // may close (and exit) at once: report first
    };
    report();
  };
  const rendezvous = new Rendezvous({
    downloadDir: inbox,
    checksum,
    ...unsealed,
    events: quietEvents({
      chatReceived: (text) => {
        const [seq, sentAt] = text.split(" ").map(Number) as [number, number];
        if (seq !== nextExpected) outOfOrder++;
        nextExpected = seq + 1;
        rtts.push(performance.now() - sentAt);
      },
      transferFinished: (done) => {
        if (done.direction !== "send") {
          // The file the receiver sends back (both ways at once).
          backBytes += done.bytes;
          backMs = performance.now() - startedAt;
          reportOnceDone();
          return;
        }
        bytes += done.bytes;
        sendNext();
      },
      closed: () => process.exit(0),
    }),
    rendezvousEvents: {
      connected: (s) => {
        session = s;
        markConnect();
        startedAt = performance.now();
        if (chatMs > 0) {
          chatTimer = setInterval(() => {
            const now = performance.now();
            chatSentMs.push(now - startedAt);
            s.sendChat(`${chatsSent++} ${now}`);
          }, chatMs);
        }
        sendNext();
      },
      dropped: (_address, reason) => {
        process.stderr.write(`bench sender: dropped ${reason}\n`);
        process.exit(1);
      },
      wrongCode: () => {
        process.stderr.write("bench sender: wrong code\n");
        process.exit(1);
      },
    },
  });
  await preloadSessionCode(); // as the CLI does before it connects
  await rendezvous.dialed(await dial("127.0.0.1", Number(portText)), BENCH_WORDS);
} else {
  usage();
}
