/**
 * A transfer through the real CLI: two `parley` chat processes fed through pipes the way a
 * user types. The receiver listens; the sender connects with its code, is told
 * `transfer FILE`, and gets a chat line every `chatMs` meanwhile; with `bothWays` the
 * receiver does the same in the other direction. A chat line's one-way time runs from the
 * harness writing it to one side's stdin until the harness reads it from the other side's
 * stdout (one clock, this process). A direction is done when its sender prints that the
 * peer verified the file.
 */

import { LineReader, type Proc } from "./procs.ts";
import { percentile } from "./stats.ts";

/** Chat lines this side's peer printed: "<name> c 12". */
const CHAT_LINE = /^<[^>]*> ([cd]) (\d+)$/;
/** Our file was stored and verified by the peer: "#1 name: the receiver saved it ... matched". */
const VERIFIED = /^#\d+ .*matched/;
/** How long the chat lines still in flight at the end may take before they count as lost. */
const CHAT_GRACE_MS = 500;
/** The whole transfer's bound (a hang fails the bench instead of stopping it). */
const TRANSFER_TIMEOUT_MS = 600_000;

export interface CliTransferOptions {
  readonly file: string;
  readonly size: number;
  readonly bothWays: boolean;
  readonly chatMs: number;
  /** Starts one side's CLI with these extra arguments (the caller measures and stops it). */
  startSide(side: "recv" | "send", args: string[]): Proc;
}

interface Direction {
  /** Chat lines written and when (performance.now()). */
  readonly sentAt: Map<number, number>;
  readonly ms: number[];
  outOfOrder: number;
  next: number;
  doneAt?: number;
}

function newDirection(): Direction {
  return { sentAt: new Map(), ms: [], outOfOrder: 0, next: 0 };
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
      if (sentAt !== undefined) incoming.ms.push(performance.now() - sentAt);
      if (seq !== incoming.next) incoming.outOfOrder++;
      incoming.next = seq + 1;
    } else if (VERIFIED.test(line)) {
      outgoing.doneAt ??= performance.now();
    }
  }
}

export async function runCliTransfer(options: CliTransferOptions) {
  const receiver = options.startSide("recv", []);
  const recvLines = new LineReader(receiver.stdout);
  // The code, as a user would type it: the PAKE and the verified path, as in real use.
  const [, code] = await recvLines.waitFor(/^Listening on .* code (\S+)$/);
  const sender = options.startSide("send", ["--connect", code as string]);
  const sendLines = new LineReader(sender.stdout);
  await Promise.all([sendLines.waitFor(/^Connected to /), recvLines.waitFor(/^Connected to /)]);

  const forward = newDirection(); // sender -> receiver: file and "c" lines
  const back = newDirection(); // receiver -> sender: "d" lines (and the file, both ways)
  const watching = Promise.all([watch(recvLines, forward, back, "c"), watch(sendLines, back, forward, "d")]);
  const t0 = performance.now();
  write(sender, `transfer ${options.file}`);
  if (options.bothWays) write(receiver, `transfer ${options.file}`);
  let seq = 0;
  const chatTimer = setInterval(() => {
    forward.sentAt.set(seq, performance.now());
    write(sender, `c ${seq}`);
    if (options.bothWays) {
      back.sentAt.set(seq, performance.now());
      write(receiver, `d ${seq}`);
    }
    seq++;
  }, options.chatMs);
  const deadline = t0 + TRANSFER_TIMEOUT_MS;
  const finished = () => forward.doneAt !== undefined && (!options.bothWays || back.doneAt !== undefined);
  try {
    while (!finished()) {
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
  return {
    /** MiB/s of the slower direction. */
    mibps: options.size / 2 ** 20 / (seconds / 1000),
    chat: {
      kind: "one way" as const,
      ms,
      lost: directions.reduce((n, d) => n + d.sentAt.size - d.ms.length, 0),
      outOfOrder: directions.reduce((n, d) => n + d.outOfOrder, 0),
      p99: percentile(ms, 99),
    },
  };
}
