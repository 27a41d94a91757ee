/**
 * Reading PARLEY_CHAT_TRACE files (src/session/chat-trace.ts): each chat line's stamps are
 * matched across the processes by its text (the sender has `in` and `out`, the receiver
 * `read`, `decoded` and `shown`), so each line gets its time from the sender's line handler to
 * the peer's screen, split by stage, and the worst lines are shown with what each process was
 * doing meanwhile (event-loop stalls and slow work, with CPU and run-queue time). Pure: text in,
 * report out.
 */

import { percentile } from "./stats.ts";

/** Events shown under a line at most (its longest, in time order). */
const EVENTS_PER_LINE = 8;

/** The stages of a line, in the order it passes them. */
const STAGES = ["in", "out", "read", "decoded", "shown"] as const;
type Stage = (typeof STAGES)[number];

export interface TracedLine {
  readonly text: string;
  /** Epoch ms at each stage it was stamped at (`queued` counts as `out`). */
  readonly at: Partial<Record<Stage, number>>;
  /** Records handled before it in the socket read that held it. */
  readonly recordsAhead: number;
  /** From the sender's line handler to the peer's terminal write, ms. */
  readonly ms: number;
}

/** A stall or a slow piece of work in one process. */
export interface TracedEvent {
  readonly process: string;
  readonly what: string;
  /** Epoch ms when it ended. */
  readonly endedAt: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly queuedMs: number;
}

export interface ChatTraceReport {
  readonly lines: TracedLine[];
  readonly events: TracedEvent[];
}

/**
 * Parses trace files (name -> content; the name says which process wrote it) into lines that
 * have both ends, and the events. A line's sending half (in, out) and receiving half (read,
 * decoded, shown) are in different files; several runs traced under one prefix reuse texts, so
 * each sending half is paired with the receiving half of that text that was shown soonest after.
 */
export function analyseChatTrace(files: ReadonlyMap<string, string>): ChatTraceReport {
  type Half = { at: Partial<Record<Stage, number>>; recordsAhead: number };
  const halves = new Map<string, Map<string, Half>>(); // text -> file -> stamps
  const events: TracedEvent[] = [];
  for (const [name, content] of files) {
    for (const row of content.split("\n")) {
      const [stage, atText, extra, ...words] = row.split(" ");
      if (stage === undefined || atText === undefined || extra === undefined || words.length === 0) continue;
      const text = words.join(" ");
      const at = Number(atText);
      if (text === "-") {
        const [wallMs = 0, cpuMs = 0, queuedMs = 0] = extra.split("/").map(Number);
        events.push({ process: name, what: stage, endedAt: at, wallMs, cpuMs, queuedMs });
        continue;
      }
      const key = stage === "queued" ? "out" : stage;
      if (!(STAGES as readonly string[]).includes(key)) continue;
      const byFile = halves.get(text) ?? new Map<string, Half>();
      const half = byFile.get(name) ?? { at: {}, recordsAhead: 0 };
      half.at[key as Stage] = at;
      if (key === "read") half.recordsAhead = Number(extra);
      byFile.set(name, half);
      halves.set(text, byFile);
    }
  }
  const lines: TracedLine[] = [];
  for (const [text, byFile] of halves) {
    for (const [name, sending] of byFile) {
      const start = sending.at.in;
      if (start === undefined) continue;
      let best: Half | undefined;
      for (const [other, receiving] of byFile) {
        const shown = receiving.at.shown;
        if (other === name || shown === undefined || shown < start - 1) continue;
        if (!best || shown < (best.at.shown as number)) best = receiving;
      }
      if (!best) continue;
      const at = { ...best.at, in: start, ...(sending.at.out === undefined ? {} : { out: sending.at.out }) };
      lines.push({ text, at, recordsAhead: best.recordsAhead, ms: (best.at.shown as number) - start });
    }
  }
  lines.sort((a, b) => (a.at.in as number) - (b.at.in as number));
  events.sort((a, b) => a.endedAt - b.endedAt);
  return { lines, events };
}

/** Each stage's share of a line: [from, to, ms] for the stamps it has. */
export function stageSplit(line: TracedLine): Array<[Stage, Stage, number]> {
  const out: Array<[Stage, Stage, number]> = [];
  for (let i = 1; i < STAGES.length; i++) {
    const from = STAGES[i - 1] as Stage;
    const to = STAGES[i] as Stage;
    const a = line.at[from];
    const b = line.at[to];
    if (a !== undefined && b !== undefined) out.push([from, to, b - a]);
  }
  return out;
}

/** Events that overlap [from, to] (epoch ms), in any process. */
export function eventsDuring(events: readonly TracedEvent[], from: number, to: number): TracedEvent[] {
  return events.filter((e) => e.endedAt >= from && e.endedAt - e.wallMs <= to);
}

/**
 * The report as text: the distribution, then the `worst` slowest lines with their stages and
 * the longest events meanwhile; `only`: the lines whose text matches (the bench's CLI lines
 * are "c N" and "d N").
 */
export function formatChatTrace(report: ChatTraceReport, worst = 10, only?: RegExp): string {
  const { events } = report;
  const lines = only ? report.lines.filter((l) => only.test(l.text)) : report.lines;
  if (lines.length === 0) return "no chat line with both ends in the trace";
  const ms = lines.map((l) => l.ms);
  const first = lines[0]?.at.in as number;
  const out = [
    `${lines.length} lines, line handler to screen: p50 ${percentile(ms, 50).toFixed(2)} ms, ` +
      `p99 ${percentile(ms, 99).toFixed(2)}, max ${Math.max(...ms).toFixed(2)}; > 5 ms: ${ms.filter((x) => x > 5).length}`,
  ];
  for (const line of [...lines].sort((a, b) => b.ms - a.ms).slice(0, worst)) {
    const split = stageSplit(line)
      .map(([from, to, d]) => `${from}>${to} ${d.toFixed(1)}`)
      .join(", ");
    const t = ((line.at.in as number) - first).toFixed(0);
    out.push(`"${line.text}" at +${t} ms: ${line.ms.toFixed(1)} ms (${split}; ${line.recordsAhead} records ahead)`);
    const during = eventsDuring(events, line.at.in as number, line.at.shown as number);
    const largest = new Set([...during].sort((a, b) => b.wallMs - a.wallMs).slice(0, EVENTS_PER_LINE));
    for (const e of during.filter((x) => largest.has(x))) {
      const when = (e.endedAt - (line.at.in as number)).toFixed(1);
      out.push(
        `    ${e.process}: ${e.what} ended at +${when}: ${e.wallMs.toFixed(1)} ms (cpu ${e.cpuMs.toFixed(1)}, queued ${e.queuedMs.toFixed(1)})`,
      );
    }
  }
  return out.join("\n");
}
