/**
 * A transfer through the real CLI: two `parley` chat processes fed through pipes the way a
 * user types. The receiver listens; the sender connects with its code, is told
 * `transfer FILE`, and gets a chat line every `chatMs` meanwhile (or none); with `bothWays` the
 * receiver does the same in the other direction. A chat line's one-way time runs from the
 * harness writing it to one side's stdin until the harness reads it from the other side's
 * stdout (one clock, this process). A direction is done when its sender prints that the
 * peer verified the file.
 *
 * The harness runs above the CLIs' priority meanwhile (harness-priority.ts: it stands for the
 * users' terminals, which would not wait for a CPU behind them). With `tracePrefix` both CLIs
 * keep their light chat trace (PARLEY_CHAT_TRACE with PARLEY_CHAT_TRACE_LIGHT: the stamps
 * only), and each line's time is also split at the receiving CLI's terminal write: from the
 * harness typing it to that write ("typed to shown": all of the CLIs' part, the wait in the
 * typing CLI's input pipe too, without the harness's own read), and from the typing CLI's line
 * handler to that write ("CLI to CLI").
 */

import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { epochOrigin } from "../../src/session/chat-trace.ts";
import { raiseHarnessPriority } from "./harness-priority.ts";
import { LineReader, type Proc } from "./procs.ts";
import { percentile } from "./stats.ts";

/** Chat lines this side's peer printed: "<name> c 12". */
const CHAT_LINE = /^<[^>]*> ([cd]) (\d+)$/;
/** Our file was stored and verified by the peer: "#1 name: the receiver saved it ... matched". */
const VERIFIED = /^#\d+ .*matched/;
/**
 * A transfer of either side ended badly: "Sending #1 name failed: reason." (transfer-presenter.ts;
 * a folder's "Receiving folder name failed: ..."). A chat line ("<bob> ...") never matches.
 */
const FAILED = /^(Sending|Receiving) (#\d+|folder) .* failed: /;
/** How long the chat lines still in flight at the end may take before they count as lost. */
const CHAT_GRACE_MS = 500;
/** The whole transfer's bound (a hang fails the bench instead of stopping it). */
const TRANSFER_TIMEOUT_MS = 600_000;

export interface CliTransferOptions {
  readonly file: string;
  readonly size: number;
  readonly bothWays: boolean;
  /** 0: no chat lines at all (what the chat's own limits cost is the difference). */
  readonly chatMs: number;
  /** Both CLIs write their light chat trace under this prefix (a fresh one per run), for the split. */
  readonly tracePrefix?: string;
  /**
   * Users' pauses (bench --cli-pause; 0: none, the sender dials with --connect at start and
   * `transfer` comes the moment both say "Connected"): the sender's code is typed this long after
   * its Parley said "Listening on", and `transfer` this long after both said "Connected".
   */
  readonly pauseMs?: number;
  /** --lines: the run's lines (LinesRun) appended to `file` as one JSON document, with the case's name. */
  readonly lines?: { readonly file: string; readonly label: string };
  /** How each of those pauses is kept: Bun.sleep (a test counts them). */
  readonly pause?: (ms: number) => Promise<void>;
  /** Starts one side's CLI with these extra arguments and environment (the caller measures and stops it). */
  startSide(side: "recv" | "send", args: string[], env: Record<string, string>): Proc;
}

/** Each chat line's own split (epoch ms stamps matched by the line's text, as chat-trace.ts writes them). */
export interface ChatSplit {
  /** From the harness writing the line to the receiving CLI's terminal write, ms. */
  readonly typedToShown: number[];
  /** From the typing CLI's line handler to the receiving CLI's terminal write, ms. */
  readonly cliToCli: number[];
  /** The lines over SLOW_LINE_MS as the harness saw them, each counted where most of its time went. */
  readonly slowHeldBy: Record<SlowLineHolder, number>;
}

/**
 * One chat line of a run, for --lines: where a run's slow lines are (by number and by when they
 * were typed: a transfer's first lines meet its cold start) and where each waited, which the
 * pooled figures cannot say.
 */
export interface LineRow {
  /** "c" typed at the sender, "d" at the receiver (both ways). */
  readonly tag: string;
  readonly seq: number;
  /** When it was typed, ms after `transfer`. */
  readonly typedAfterMs: number;
  /** As the harness saw it, typed to read, ms. */
  readonly ms: number;
  /** With the light trace: from typed to the typing CLI's line handler, ms ("typing"). */
  readonly toHandlerMs?: number;
  /** With the light trace: from that handler to the receiving CLI's terminal write, ms. */
  readonly handlerToShownMs?: number;
}

/** What --lines appends for a run: one JSON document a line of the file. */
export interface LinesRun {
  readonly case: string;
  readonly mibps: number;
  readonly lines: LineRow[];
}

/** Each read line of `directions`, in the order read, `transferAt` and `origin` as in splitOf. */
export function lineRows(
  directions: readonly Pick<Direction, "tag" | "sentAt" | "seqs" | "ms">[],
  transferAt: number,
  stamps: ReturnType<typeof lineStamps>,
  origin: number,
): LineRow[] {
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return directions.flatMap((d) =>
    d.seqs.map((seq, i) => {
      const sentAt = d.sentAt.get(seq) ?? transferAt;
      const at = stamps.get(`${d.tag} ${seq}`);
      const traced =
        at?.in !== undefined && at.shown !== undefined
          ? { toHandlerMs: round(at.in - (origin + sentAt)), handlerToShownMs: round(at.shown - at.in) }
          : {};
      return { tag: d.tag, seq, typedAfterMs: round(sentAt - transferAt), ms: round(d.ms[i] as number), ...traced };
    }),
  );
}

/** Issue 13's bound for a chat line (its p99 goal). */
export const SLOW_LINE_MS = 5;

/**
 * The lines typed this long or more after `transfer` are a transfer's settled state; those
 * before, its cold start. With `transfer` typed the moment both CLIs say "Connected" (the default
 * flow: a script, or a code given with --connect), the dialing CLI has run no transfer and no
 * warm-up (warm-up.ts: it starts a second after a code is shown, and stops when a peer is met),
 * so a transfer's first records run in the JIT's slower tiers while its compiler threads take the
 * two cores, and most slow lines of a run are its first few. Session 18, 10 runs of each CLI case
 * (1 GiB, a line every 20 ms): one way 2 of the 50 lines typed in the first 100 ms over 5 ms and 1
 * of the 390 after; both ways 25 of 100 and 6 of 2,182 (docs/DESIGN-NOTES.md, "The chat's tail is
 * a transfer's first 100 ms"). The users' flow (--cli-pause) warms up before `transfer`: its lines
 * are judged all together.
 */
export const SETTLED_AFTER_MS = 100;

/**
 * Where a slow line spent most of its time: "typing" before the typing CLI's line handler had
 * it (its input pipe, its loop busy or off the CPU), "between" from that handler to the
 * receiving CLI's terminal write (both CLIs and the connection), "harness" after that write until
 * the harness read it (the bench's own terminal stand-in).
 */
export type SlowLineHolder = "typing" | "between" | "harness";

/** The largest of a line's three parts, ms (ties go to the earlier part). */
export function slowLineHolder(typedToIn: number, inToShown: number, shownToRead: number): SlowLineHolder {
  if (typedToIn >= inToShown && typedToIn >= shownToRead) return "typing";
  return inToShown >= shownToRead ? "between" : "harness";
}

/** The `in` and `shown` stamps of every line in the trace files `prefix.<pid>`, by the line's text. */
export function lineStamps(prefix: string): Map<string, { in?: number; shown?: number }> {
  const stamps = new Map<string, { in?: number; shown?: number }>();
  const stem = `${basename(prefix)}.`;
  for (const name of readdirSync(dirname(prefix))) {
    if (!name.startsWith(stem) || !/^\d+$/.test(name.slice(stem.length))) continue;
    for (const row of readFileSync(join(dirname(prefix), name), "utf8").split("\n")) {
      const [stage, at, , ...words] = row.split(" ");
      if (stage !== "in" && stage !== "shown") continue;
      const text = words.join(" ");
      const line = stamps.get(text) ?? {};
      line[stage] = Number(at);
      stamps.set(text, line);
    }
  }
  return stamps;
}

/**
 * The times of the lines typed SETTLED_AFTER_MS or more after `transfer` (at `transferAt`, on the
 * clock of `sentAt`), every direction's, in the order read.
 */
export function settledLineMs(
  directions: readonly Pick<Direction, "sentAt" | "seqs" | "ms">[],
  transferAt: number,
): number[] {
  return directions.flatMap((d) =>
    d.ms.filter((_, i) => (d.sentAt.get(d.seqs[i] as number) ?? transferAt) - transferAt >= SETTLED_AFTER_MS),
  );
}

interface Direction {
  /** "c" one way, "d" back. */
  readonly tag: string;
  /** Chat lines written and when (performance.now()). */
  readonly sentAt: Map<number, number>;
  readonly ms: number[];
  /** The lines read, in order. */
  readonly seqs: number[];
  outOfOrder: number;
  next: number;
  doneAt?: number;
  /** A CLI's line saying a transfer failed (the run ends at once: transferFailedLine). */
  failedLine?: string;
}

function newDirection(tag: string): Direction {
  return { tag, sentAt: new Map(), ms: [], seqs: [], outOfOrder: 0, next: 0 };
}

function write(proc: Proc, line: string): void {
  proc.stdin.write(`${line}\n`);
  proc.stdin.flush();
}

/** Reads `proc`'s lines: chat lines of the other side's direction, and our own verification. */
async function watch(lines: LineReader, incoming: Direction, outgoing: Direction, tag: string): Promise<void> {
  for (let line = await lines.next(); line !== undefined; line = await lines.next()) {
    const chat = CHAT_LINE.exec(line);
    if (chat && chat[1] === tag) {
      const seq = Number(chat[2]);
      const sentAt = incoming.sentAt.get(seq);
      if (sentAt !== undefined) {
        incoming.ms.push(performance.now() - sentAt);
        incoming.seqs.push(seq);
      }
      if (seq !== incoming.next) incoming.outOfOrder++;
      incoming.next = seq + 1;
    } else if (VERIFIED.test(line)) {
      outgoing.doneAt ??= performance.now();
    } else if (transferFailedLine(line)) {
      outgoing.failedLine ??= line;
    }
  }
}

/**
 * Whether a CLI's line says one of the run's transfers failed. The run then ends at once with
 * that line (a full disk, a file changed under the sender): before, the harness waited
 * TRANSFER_TIMEOUT_MS for a "matched" line that could not come, the chat still flowing.
 */
export function transferFailedLine(line: string): boolean {
  return FAILED.test(line);
}

/** Each read line's split, from the trace's stamps and the harness's own (epoch ms at performance.now() 0: `origin`). */
function splitOf(directions: readonly Direction[], stamps: ReturnType<typeof lineStamps>, origin: number): ChatSplit {
  const split: ChatSplit = { typedToShown: [], cliToCli: [], slowHeldBy: { typing: 0, between: 0, harness: 0 } };
  for (const d of directions) {
    d.seqs.forEach((seq, i) => {
      const at = stamps.get(`${d.tag} ${seq}`);
      const sentAt = d.sentAt.get(seq);
      if (at?.shown === undefined || sentAt === undefined) return;
      const typedToShown = at.shown - (origin + sentAt);
      split.typedToShown.push(typedToShown);
      if (at.in === undefined) return;
      split.cliToCli.push(at.shown - at.in);
      const seen = d.ms[i] as number;
      if (seen > SLOW_LINE_MS) {
        split.slowHeldBy[slowLineHolder(at.in - (origin + sentAt), at.shown - at.in, seen - typedToShown)]++;
      }
    });
  }
  return split;
}

export async function runCliTransfer(options: CliTransferOptions) {
  const env: Record<string, string> = options.tracePrefix
    ? { PARLEY_CHAT_TRACE: options.tracePrefix, PARLEY_CHAT_TRACE_LIGHT: "1" }
    : {};
  const receiver = options.startSide("recv", [], env);
  const recvLines = new LineReader(receiver.stdout);
  // The code, as a user would type it: the PAKE and the verified path, as in real use.
  const [, code] = await recvLines.waitFor(/^Listening on .* code (\S+)$/);
  let sender: Proc;
  let sendLines: LineReader;
  if (options.pauseMs) {
    // As two users: the sender's Parley starts, its user hears the code and types it.
    sender = options.startSide("send", [], env);
    sendLines = new LineReader(sender.stdout);
    await sendLines.waitFor(/^Listening on /);
    await (options.pause ?? Bun.sleep)(options.pauseMs);
    write(sender, code as string);
  } else {
    sender = options.startSide("send", ["--connect", code as string], env);
    sendLines = new LineReader(sender.stdout);
  }
  await Promise.all([sendLines.waitFor(/^Connected to /), recvLines.waitFor(/^Connected to /)]);
  const origin = epochOrigin();
  // Above the CLIs from here (both are started: they keep their own priority) until the end.
  const restorePriority = raiseHarnessPriority();
  try {
    return await chatAndTransfer(
      options,
      receiver,
      recvLines,
      sender,
      sendLines,
      origin,
      restorePriority !== undefined,
    );
  } finally {
    restorePriority?.();
  }
}

async function chatAndTransfer(
  options: CliTransferOptions,
  receiver: Proc,
  recvLines: LineReader,
  sender: Proc,
  sendLines: LineReader,
  origin: number,
  harnessRaised: boolean,
) {
  const forward = newDirection("c"); // sender -> receiver: file and "c" lines
  const back = newDirection("d"); // receiver -> sender: "d" lines (and the file, both ways)
  const watching = Promise.all([watch(recvLines, forward, back, "c"), watch(sendLines, back, forward, "d")]);
  if (options.pauseMs) await (options.pause ?? Bun.sleep)(options.pauseMs); // a user reading "Connected"
  const t0 = performance.now();
  write(sender, `transfer ${options.file}`);
  if (options.bothWays) write(receiver, `transfer ${options.file}`);
  let seq = 0;
  const typing = options.chatMs > 0;
  const typeLine = () => {
    forward.sentAt.set(seq, performance.now());
    write(sender, `c ${seq}`);
    if (options.bothWays) {
      back.sentAt.set(seq, performance.now());
      write(receiver, `d ${seq}`);
    }
    seq++;
  };
  const chatTimer = typing ? setInterval(typeLine, options.chatMs) : undefined;
  const deadline = t0 + TRANSFER_TIMEOUT_MS;
  const finished = () => forward.doneAt !== undefined && (!options.bothWays || back.doneAt !== undefined);
  try {
    while (!finished()) {
      const failed = forward.failedLine ?? back.failedLine;
      if (failed !== undefined) throw new Error(`CLI transfer failed: ${failed}`);
      if (performance.now() > deadline || receiver.exitCode !== null || sender.exitCode !== null) {
        throw new Error(`CLI transfer did not finish: ${[...sendLines.seen, ...recvLines.seen].slice(-6).join(" | ")}`);
      }
      await Bun.sleep(5);
    }
  } finally {
    clearInterval(chatTimer);
  }
  const graceEnd = performance.now() + CHAT_GRACE_MS;
  while (forward.ms.length + back.ms.length < forward.sentAt.size + back.sentAt.size && performance.now() < graceEnd) {
    await Bun.sleep(5);
  }
  write(sender, "exit");
  if (options.bothWays) write(receiver, "exit");
  await Promise.all([sender.exited, receiver.exited]);
  await watching;
  const seconds = Math.max(forward.doneAt as number, back.doneAt ?? 0) - t0;
  const directions = options.bothWays ? [forward, back] : [forward];
  const ms = directions.flatMap((d) => d.ms);
  const settledMs = settledLineMs(directions, t0);
  const mibps = options.size / 2 ** 20 / (seconds / 1000); // of the slower direction
  const stamps = options.tracePrefix ? lineStamps(options.tracePrefix) : new Map();
  if (options.lines) {
    const run: LinesRun = { case: options.lines.label, mibps, lines: lineRows(directions, t0, stamps, origin) };
    appendFileSync(options.lines.file, `${JSON.stringify(run)}\n`);
  }
  if (!typing) return { mibps };
  return {
    mibps,
    chat: {
      kind: "one way" as const,
      ms,
      settledMs,
      lost: directions.reduce((n, d) => n + d.sentAt.size - d.ms.length, 0),
      outOfOrder: directions.reduce((n, d) => n + d.outOfOrder, 0),
      p99: percentile(ms, 99),
      harnessRaised,
      ...(options.tracePrefix ? { split: splitOf(directions, stamps, origin) } : {}),
    },
  };
}
