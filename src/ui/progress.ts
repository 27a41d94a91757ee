/**
 * One transfer's progress line, drawn with cli-progress's formatter (bar, %, bytes, MiB/s,
 * ETA). The terminal decides where the line goes; this only renders strings.
 */

import cliProgress from "cli-progress";

const BAR_SIZE = 24;
const FORMAT = "{label} [{bar}] {percentage}% | {done}/{all} | {speed} | ETA {eta_formatted}";
/** For a stream of unknown length: no bar, percentage or ETA. */
const FORMAT_UNKNOWN_TOTAL = "{label} {done} | {speed}";

const barOptions = {
  format: FORMAT,
  barsize: BAR_SIZE,
  barCompleteString: "=".repeat(BAR_SIZE + 1),
  barIncompleteString: "-".repeat(BAR_SIZE + 1),
  barGlue: "",
  autopadding: true,
  autopaddingChar: "   ",
  formatTime: null,
  formatValue: null,
  formatBar: null,
  align: "left",
};

type FormatterFn = (options: object, params: object, payload: object) => string;
const formatter = (cliProgress as unknown as { Format: { Formatter: FormatterFn } }).Format.Formatter;

export class TransferProgress {
  private value = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly label: string,
    /** Bytes expected, or null when unknown. */
    private readonly total: number | null,
  ) {}

  update(bytes: number): void {
    this.value = bytes;
  }

  render(maxWidth: number): string {
    const elapsedS = Math.max((Date.now() - this.startedAt) / 1000, 0.001);
    const rate = this.value / elapsedS;
    const total = this.total ?? this.value;
    const eta = rate > 0 ? Math.ceil((total - this.value) / rate) : 0;
    const progress = total === 0 ? 1 : Math.min(1, this.value / total);
    const options = this.total === null ? { ...barOptions, format: FORMAT_UNKNOWN_TOTAL } : barOptions;
    return formatter(
      options,
      { progress, eta, startTime: this.startedAt, stopTime: null, total, value: this.value, maxWidth },
      {
        label: this.label,
        done: formatBytes(this.value),
        all: formatBytes(total),
        speed: `${formatBytes(rate)}/s`,
      },
    ).slice(0, Math.max(maxWidth - 1, 10));
  }
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
