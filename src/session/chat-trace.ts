/**
 * Chat trace: a debugging aid that timestamps each chat line at the stages it passes, so a
 * slow line can be pinned on the stage that held it. Off unless PARLEY_CHAT_TRACE names a
 * file prefix; then each process keeps its stamps in memory (no I/O on the path it measures)
 * and writes them at exit to a new file `<prefix>.<pid>` (mode 0600: it holds the chat text; a
 * file or link already there is never overwritten), one line per stamp:
 *
 *   <stage> <epoch ms, fractional> <extra> <chat text>
 *
 * Stages: `in` the sender's line handler has the line; `out` its frame was handed to the
 * connection (or `queued` behind other frames); `read` the receiver began handling the socket
 * read that held it (extra: records handled before it in that read); `decoded` the session
 * has the chat message; `shown` it was written to the terminal. Times are epoch ms, from
 * performance.now() set against the moment the wall clock's millisecond ticks over (each
 * process's performance.timeOrigin was measured 1 ms off another's), so two processes on one
 * machine share a clock to a few microseconds.
 *
 * Besides the lines (text `-`, extra `wall/cpu/queued` ms, stamped at the end): `stall` the
 * event loop was held 4 ms or more (a 2 ms interval fired late); `pump` a scheduler pump,
 * `sinkWrite` a DATA write into its file, `readN` a socket read's N records, each when it took
 * 1 ms or more. `cpu` and `queued` are the main thread's time on a CPU and waiting for one
 * (Linux schedstat): a stall mostly `queued` is the machine's load, not ours. The kernel
 * updates a running thread's CPU time at scheduler ticks, so `cpu` is coarse (a few ms).
 */

import { readFileSync, writeFileSync, writeSync } from "node:fs";

/** A moment: wall time (ms), and the main thread's time on a CPU and waiting for one (ms, Linux schedstat). */
export interface TraceMark {
  readonly at: number;
  readonly cpu: number;
  readonly queued: number;
}

function mark(): TraceMark {
  let cpu = 0;
  let queued = 0;
  try {
    const [run, wait] = readFileSync("/proc/thread-self/schedstat", "utf8").split(" ");
    cpu = Number(run) / 1e6;
    queued = Number(wait) / 1e6;
  } catch {
    // Not Linux: wall time only.
  }
  return { at: performance.now(), cpu, queued };
}

/**
 * Epoch ms at performance.now() == 0, to a few microseconds: the moment Date.now() ticks over,
 * taken between two performance.now() readings close together (a preempted reading is
 * skipped). Tracing only: it spins for a few milliseconds at most, once.
 */
function epochOrigin(): number {
  let before = performance.now();
  let ms = Date.now();
  for (let edges = 0; edges < MAX_CLOCK_EDGES; ) {
    const a = performance.now();
    const now = Date.now();
    const b = performance.now();
    if (now !== ms) {
      edges++;
      if (b - before <= CLOCK_EDGE_US / 1000) return now - (before + b) / 2;
    }
    ms = now;
    before = a;
  }
  return performance.timeOrigin;
}

/** A wall-clock tick bracketed this closely (microseconds) sets the origin... */
const CLOCK_EDGE_US = 20;
/** ...within this many ticks, else performance.timeOrigin (about 1 ms off) stands. */
const MAX_CLOCK_EDGES = 20;

/** Loop stalls at least this long are kept. */
const STALL_MS = 4;
/** Work at least this long is kept. */
const SLOW_WORK_MS = 1;

interface Stamp {
  readonly stage: string;
  readonly at: number;
  readonly extra: number;
  readonly text: string;
  /** For work and stalls: ms on a CPU and ms waiting for one meanwhile. */
  readonly cpu?: number;
  readonly queued?: number;
}

export class ChatTrace {
  private readonly stamps: Stamp[] = [];
  /** When the socket read being handled began (set by the first record of the read). */
  private readStartedAt = 0;
  private recordsInRead = 0;
  /** Epoch ms at performance.now() == 0. */
  private readonly origin = epochOrigin();

  /**
   * @param path - where `save` writes (the process id is appended)
   * @param warn - told, in one line, when the trace cannot be written (default: stderr)
   */
  constructor(
    private readonly path: string,
    private readonly warn: (line: string) => void = (line) => writeSync(2, `${line}\n`),
  ) {}

  /** Saves at exit, and from now on keeps event-loop stalls (a 2 ms interval that fires late). */
  start(): this {
    process.on("exit", () => this.save());
    let last = mark();
    setInterval(() => {
      const now = mark();
      if (now.at - last.at >= STALL_MS) this.keep("stall", last, now);
      last = now;
    }, 2).unref();
    return this;
  }

  /** The start of some work, for `took`. */
  begin(): TraceMark {
    return mark();
  }

  /** Work begun at `start` ended: kept when it took long enough to matter. */
  took(what: string, start: TraceMark): void {
    if (performance.now() - start.at >= SLOW_WORK_MS) this.keep(what, start, mark());
  }

  private keep(what: string, a: TraceMark, b: TraceMark): void {
    this.stamps.push({
      stage: what,
      at: this.origin + b.at,
      extra: b.at - a.at,
      text: "-",
      cpu: b.cpu - a.cpu,
      queued: b.queued - a.queued,
    });
  }

  /** A stamp for `text` at `stage`, now. */
  stamp(stage: string, text: string, extra = 0): void {
    this.stamps.push({ stage, at: this.origin + performance.now(), extra, text });
  }

  /**
   * A record from the socket is being handled. Records of one read are handled in one
   * synchronous run, so the first since the last microtask checkpoint starts a read.
   */
  recordHandled(): void {
    if (this.recordsInRead++ > 0) return;
    const start = mark();
    this.readStartedAt = this.origin + start.at;
    queueMicrotask(() => {
      this.took(`read${this.recordsInRead}`, start);
      this.recordsInRead = 0;
    });
  }

  /** A chat frame was decoded: stamps the read it came in, then the decode. */
  chatDecoded(text: string): void {
    this.stamps.push({ stage: "read", at: this.readStartedAt, extra: this.recordsInRead - 1, text });
    this.stamp("decoded", text);
  }

  /**
   * Writes the stamps to `<path>.<pid>`, a new file only the user can read (it holds the chat
   * text): one that exists already, or a link of that name (a guessable name in a shared
   * folder), is left as it is. A trace that cannot be written costs one line on stderr, never
   * the exit code. @returns whether it was written
   */
  save(): boolean {
    const file = `${this.path}.${process.pid}`;
    const lines = this.stamps.map((s) =>
      s.cpu === undefined
        ? `${s.stage} ${s.at.toFixed(3)} ${s.extra.toFixed(2)} ${oneLine(s.text)}`
        : `${s.stage} ${s.at.toFixed(3)} ${s.extra.toFixed(2)}/${s.cpu.toFixed(1)}/${(s.queued ?? 0).toFixed(1)} ${oneLine(s.text)}`,
    );
    try {
      // "wx": O_CREAT | O_EXCL, which also refuses to follow a link at the name.
      writeFileSync(file, `${lines.join("\n")}\n`, { flag: "wx", mode: 0o600 });
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      this.warn(`parley: chat trace not written to ${file} (${code})`);
      return false;
    }
  }
}

/**
 * `text` with its control characters written as \xNN: a peer's line (its own text) can then
 * neither add stamps of its own to the file nor send escape sequences to a terminal showing it.
 */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\\]/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

const tracePath = process.env.PARLEY_CHAT_TRACE;

/** The trace, or undefined when PARLEY_CHAT_TRACE is not set (the normal case). */
export const chatTrace: ChatTrace | undefined = tracePath ? new ChatTrace(tracePath).start() : undefined;
