/**
 * One transfer's progress line (bar, %, bytes, speed, ETA), rendered as a string; the
 * terminal decides where it goes.
 *
 * cli-progress is used for its formatting layer (its public, typed `Format`: the line
 * template, the bar, time spans), not for its bars: SingleBar and MultiBar own the cursor and
 * redraw on their own timer, which would fight readline's prompt in the chat and the
 * stdout/stderr split of send/receive.
 *
 * Speed is the recent rate: the bytes moved over the last RATE_WINDOW_MS (3 s, as wget's
 * speed history of 20 samples of at least 150 ms), from samples taken at most every SAMPLE_MS,
 * so a stall or a speed-up shows within seconds; it was the average since the start, which
 * after a minute at 1 MiB/s still said 1.5 MiB/s ten seconds into 10 MiB/s, and a stall only
 * slowly pulled down. In the first seconds it is the average since the first report, which
 * counts only the bytes moved now: a resumed transfer's first report already includes what an
 * earlier attempt left (128 MiB/s was shown under --limit-rate 30M). The ETA comes from the
 * recent rate up to the last byte that moved, so a stalled bar's ETA holds still instead of
 * rising, and after STALLED_MS without a byte it says "stalled" (the speed then says 0 B/s).
 */

import type { Options } from "cli-progress";
import { cutToWidth, displayWidth } from "./width.ts";

type FormatApi = typeof import("cli-progress").Format;
let formatApi: FormatApi | undefined;

/** cli-progress's formatting layer, loaded when the first line is drawn (kept out of start-up). */
function Format(): FormatApi {
  formatApi ??= (require("cli-progress") as typeof import("cli-progress")).Format;
  return formatApi;
}

const BAR_SIZE = 24;
const FORMAT = "{label} [{bar}] {percentage}% | {done}/{all} | {speed} | ETA {etaText}";
/** For a stream of unknown length: no bar, percentage or ETA. */
const FORMAT_UNKNOWN_TOTAL = "{label} {done} | {speed}";
/** A name cut to fit the terminal keeps at least this many columns. */
const MIN_LABEL_COLUMNS = 12;
/** A bar narrowed to keep the percentage in view keeps at least this many columns. */
const MIN_BAR_SIZE = 10;
/** No byte for this long: the ETA says "stalled". */
export const STALLED_MS = 3_000;
/** The speed shown is the rate over this much of the recent past (ms). */
export const RATE_WINDOW_MS = 3_000;
/** A sample of the count is kept at most this often (ms): the window holds about 20. */
const SAMPLE_MS = 150;

const barOptions: Options = {
  format: FORMAT,
  barsize: BAR_SIZE,
  barCompleteString: "=".repeat(BAR_SIZE + 1),
  barIncompleteString: "-".repeat(BAR_SIZE + 1),
  barGlue: "",
  autopadding: true,
  autopaddingChar: "   ",
  align: "left",
};
const unknownTotalOptions: Options = { ...barOptions, format: FORMAT_UNKNOWN_TOTAL };

export class TransferProgress {
  private value = 0;
  private readonly startedAt: number;
  /** The first report: the bytes it said (a resumed prefix included) and when. */
  private first: { readonly bytes: number; readonly at: number } | undefined;
  /** When the count last grew. */
  private movedAt: number;
  /**
   * Counts, oldest first: the first report, then each growth at least SAMPLE_MS after the one
   * before, and the last growth (the newest, replaced until it is SAMPLE_MS past the one before
   * it). Kept from the one at or before RATE_WINDOW_MS before movedAt (the window's start) on.
   */
  private readonly samples: Array<{ readonly bytes: number; readonly at: number }> = [];

  /** @param now - the clock, ms (injected by tests) */
  private readonly label: string;

  /** @param label - the name as shown, made safe (a tab may be left in it: it is shown as ^I here) */
  constructor(
    label: string,
    /** Bytes expected, or null when unknown. */
    private readonly total: number | null,
    private readonly now: () => number = Date.now,
  ) {
    // A tab (a name of ours: a received one has none) moves the terminal's cursor to the next tab
    // stop, which the width counts as no column: at 40 columns 'a<4 tabs>b.bin' ran to the row's
    // end and hid the bar and the percentage (attack31). Shown as sanitizeForTerminal shows controls.
    this.label = label.replaceAll("\t", "^I");
    this.startedAt = now();
    this.movedAt = this.startedAt;
  }

  /** `bytes`: the transfer's count so far, a resumed prefix included. */
  update(bytes: number): void {
    const at = this.now();
    if (!this.first) {
      this.first = { bytes, at };
      this.samples.push(this.first);
    } else if (bytes > this.value) {
      // The newest sample is the last growth; it stays as one once SAMPLE_MS past the one before.
      const n = this.samples.length;
      const before = this.samples[n - 2];
      if (n >= 2 && before && (this.samples[n - 1]?.at ?? at) - before.at < SAMPLE_MS)
        this.samples[n - 1] = { bytes, at };
      else this.samples.push({ bytes, at });
    }
    if (bytes > this.value) this.movedAt = at;
    this.value = bytes;
    // Bounded: what lies before the window's start is not needed (see samples).
    while ((this.samples[1]?.at ?? Number.POSITIVE_INFINITY) <= this.movedAt - RATE_WINDOW_MS) this.samples.shift();
  }

  /**
   * Bytes a second moved over the RATE_WINDOW_MS before `until` (ms): from the last sample at or
   * before its start (the first report, while the transfer is younger than the window).
   */
  private rate(until: number): number {
    const from = until - RATE_WINDOW_MS;
    let anchor = this.samples[0];
    for (const sample of this.samples) {
      if (sample.at > from) break;
      anchor = sample;
    }
    if (!anchor || until <= anchor.at) return 0;
    return ((this.value - anchor.bytes) * 1000) / (until - anchor.at);
  }

  /** The recent rate, bytes a second (tests). */
  get speed(): number {
    return this.rate(this.now());
  }

  /** @param maxWidth - the terminal's columns: the line takes fewer */
  render(maxWidth: number): string {
    const now = this.now();
    const total = this.total ?? this.value;
    const progress = total === 0 ? 1 : Math.min(1, this.value / total);
    const pace = this.rate(this.movedAt);
    const eta = pace > 0 ? Math.ceil((total - this.value) / pace) : 0;
    const stalled = now - this.movedAt >= STALLED_MS && this.value < total;
    const options = this.total === null ? unknownTotalOptions : barOptions;
    const format = (label: string, barsize = BAR_SIZE) =>
      Format().Formatter(
        { ...options, barsize },
        { progress, eta, startTime: this.startedAt, stopTime: null, total, value: this.value, maxWidth },
        {
          label,
          done: formatBytes(this.value),
          all: formatBytes(total),
          speed: `${formatBytes(this.rate(now))}/s`,
          etaText: stalled ? "stalled" : pace > 0 ? Format().TimeFormat(eta, options, 1) : "--",
        },
      );
    // One row: a line as wide as the terminal would wrap (and leave a row behind on redraw).
    // A long name gives way first, then the bar (down to MIN_BAR_SIZE), so that the percentage
    // and figures stay in view: at 40 columns the bar had taken the row and hid the percentage.
    const room = Math.max(maxWidth - 1, 1);
    let label = this.label;
    let line = format(label);
    let excess = displayWidth(line) - room;
    const cut = excess > 0 && displayWidth(label) > MIN_LABEL_COLUMNS ? cutName(label, excess) : label;
    // Never "…" on a name left whole, nor on one no narrower for it (13 columns: 12 and "…"):
    // it would read as cut for nothing.
    if (displayWidth(cut) < displayWidth(label)) {
      label = cut;
      line = format(label);
      excess = displayWidth(line) - room;
    }
    if (excess > 0) line = format(label, Math.max(BAR_SIZE - excess, MIN_BAR_SIZE));
    return fitByFields(line, label.length, room);
  }
}

/**
 * `line` (`label [bar] 37% | 353.6 MiB/953.7 MiB | 176.8 MiB/s | ETA 4s`) within `room` columns
 * by whole figures: the last goes first (the ETA, then the speed, then the bytes), so none is cut
 * in the middle (newuser30: "... | 176.8 MiB" at 60 columns, "| 353.6 MiB/9" at 40); the head
 * (the name, the bar and the percentage) alone is cut as before. The figures start at the first
 * " | " after the name, which may hold one.
 */
function fitByFields(line: string, labelLength: number, room: number): string {
  const at = line.indexOf(" | ", labelLength);
  const head = at < 0 ? line : line.slice(0, at);
  const figures = at < 0 ? [] : line.slice(at + 3).split(" | ");
  while (figures.length > 0 && displayWidth([head, ...figures].join(" | ")) > room) figures.pop();
  return cutToWidth([head, ...figures].join(" | "), room);
}

/** `label` cut by `excess` columns and marked "…", down to MIN_LABEL_COLUMNS and the mark. */
function cutName(label: string, excess: number): string {
  return `${cutToWidth(label, Math.max(displayWidth(label) - excess - 1, MIN_LABEL_COLUMNS))}…`;
}

/** "1.5 MiB", "812 B". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}
