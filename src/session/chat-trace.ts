/**
 * Chat trace: a debugging aid that timestamps each chat line at the stages it passes, so a
 * slow line can be pinned on the stage that held it. Off unless the CLI installs one
 * (`installChatTrace`; src/cli/chat-trace-file.ts does when PARLEY_CHAT_TRACE names a file
 * prefix). The stamps are kept in memory (no I/O on the path they measure) and handed to the
 * installer as text at the end (`text()`), one line per stamp:
 *
 *   <stage> <epoch ms, fractional> <extra> <chat text>
 *
 * Stages: `in` the sender's line handler has the line; `out` its frame was handed to the
 * connection (or `queued` behind other frames); `read` the receiver began handling the socket
 * read that held it (extra: records handled before it in that read); `decoded` the session
 * has the chat message; `shown` it was written to the terminal. Times are epoch ms, from
 * performance.now() set against the moment the wall clock's millisecond ticks over (each
 * process's performance.timeOrigin was measured 1 ms off another's), so two processes on one
 * machine share a clock to a few microseconds. A line's text is kept with its control
 * characters (and backslashes) as \xNN: a peer's line can neither add stamps of its own nor
 * carry escape sequences to a terminal that shows the trace.
 *
 * Besides the lines (text `-`, extra `wall/cpu/queued` ms, stamped at the end): `stall` the
 * event loop was held 4 ms or more (kept by the installer's timer: `span`); `pump` a scheduler
 * pump, `sinkWrite` a DATA write into its file, `readN` a socket read's N records, each when it
 * took 1 ms or more. `cpu` and `queued` are the main thread's time on a CPU and waiting for one,
 * from the installer's `threadTimes` (Linux schedstat): a stall mostly `queued` is the
 * machine's load, not ours.
 */

/** A moment: wall time (ms), and the main thread's time on a CPU and waiting for one (ms, Linux schedstat). */
export interface TraceMark {
  readonly at: number;
  readonly cpu: number;
  readonly queued: number;
}

/** The main thread's time so far on a CPU and waiting for one (ms); zeros where unknown. */
export type ThreadTimes = () => { readonly cpu: number; readonly queued: number };

/**
 * Epoch ms at performance.now() == 0, to a few microseconds: the moment Date.now() ticks over,
 * taken between two performance.now() readings close together (a preempted reading is
 * skipped). Tracing only: it spins for a few milliseconds at most, once. (The bench's CLI cases
 * take their own with it, to set their times against a trace's.)
 */
export function epochOrigin(): number {
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

  /** @param threadTimes - the main thread's CPU and run-queue time (the CLI reads them from /proc) */
  constructor(private readonly threadTimes: ThreadTimes = () => ({ cpu: 0, queued: 0 })) {}

  /** Now, for `took` and `span`. */
  begin(): TraceMark {
    const { cpu, queued } = this.threadTimes();
    return { at: performance.now(), cpu, queued };
  }

  /** Work begun at `start` ended: kept when it took long enough to matter. */
  took(what: string, start: TraceMark): void {
    if (performance.now() - start.at >= SLOW_WORK_MS) this.span(what, start, this.begin());
  }

  /** Keeps `what`, from `a` to `b` (a stall the installer's timer saw, or slow work). */
  span(what: string, a: TraceMark, b: TraceMark): void {
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
    const start = this.begin();
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

  /** The stamps so far, one line each (see the header), the text of each on one line. */
  text(): string {
    const lines = this.stamps.map((s) =>
      s.cpu === undefined
        ? `${s.stage} ${s.at.toFixed(3)} ${s.extra.toFixed(2)} ${oneLine(s.text)}`
        : `${s.stage} ${s.at.toFixed(3)} ${s.extra.toFixed(2)}/${s.cpu.toFixed(1)}/${(s.queued ?? 0).toFixed(1)} ${oneLine(s.text)}`,
    );
    return `${lines.join("\n")}\n`;
  }
}

/**
 * `text` with its control characters written as \xNN: a peer's line (its own text) can then
 * neither add stamps of its own to the file nor send escape sequences to a terminal showing it.
 */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\\]/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * The trace the session's hooks stamp into, or undefined (the normal case): a live binding set
 * by `installChatTrace`, so each hook in the channel, scheduler and receiver costs one
 * undefined check when tracing is off.
 */
export let chatTrace: ChatTrace | undefined;

/** Has the session stamp into `trace` from now on (the CLI's PARLEY_CHAT_TRACE; tests). */
export function installChatTrace(trace: ChatTrace | undefined): void {
  chatTrace = trace;
}
