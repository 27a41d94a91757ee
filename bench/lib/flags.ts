/** The bench's command line, parsed once into plain values. */

import { parseArgs } from "node:util";

export interface BenchFlags {
  /** Bytes of the source file. */
  readonly size: number;
  readonly runs: number;
  /** Files of the small-files case; 0 skips it. */
  readonly smallFiles: number;
  readonly smallFileSize: number;
  /** An extra parley run on a sparse file this large (peak RSS), or undefined. */
  readonly big: number | undefined;
  readonly bigLabel: string | undefined;
  readonly json: boolean;
  /** False with --no-external: only the Bun cases (no socat, no sshd/scp). */
  readonly external: boolean;
  /** Case names asked for, or undefined for all. */
  readonly cases: readonly string[] | undefined;
  /** Each way of the long-link relay, ms; 0 skips it. */
  readonly linkMs: number;
  readonly keep: boolean;
  /** Run the two peers of each case under `perf stat`. */
  readonly profile: boolean;
  /** Each case's two ends on a CPU of their own (sender 0, receiver 1), as on two machines. */
  readonly pin: boolean;
  /** The CLI cases' users' pauses: before typing the code, and before `transfer` (0: neither). */
  readonly cliPauseMs: number;
  /** --lines: each CLI run's chat lines, one by one, appended to this file (cli-case.ts LinesRun). */
  readonly linesFile: string | undefined;
}

export const FLAGS_HELP = `Flags: --size 1G  --runs 5  --files 1000 (0: skip)  --file-size 4K  --json  --keep  --no-external
       --cases raw,parley,...  (a subset, in the table's order)
       --link-ms 20  (the long-link figures: a relay holding each chunk that long each way; 0: skip)
       --big 8G  (one extra parley run on a sparse file of that size, for peak RSS)
       --profile  (both peers of every case under perf stat: task-clock, faults, switches)
       --pin  (each case's sender on CPU 0, its receiver on CPU 1: two machines' ends, not one host's)
       --cli-pause 1000  (the CLI cases as users: the code typed this many ms after the sender's "Listening on", \`transfer\` as long after "Connected"; default 0: --connect and \`transfer\` at once)
       --lines FILE  (each CLI run's chat lines appended to FILE, a JSON document a run: each line's number, when it was typed after \`transfer\`, its time and where it waited)`;

/** "1G", "256M", "4K", "1.5GiB" → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new Error(`bad size: "${text}" (like 4K, 256M, 1G)`);
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? "").toUpperCase() as "" | "K" | "M" | "G"];
  return Math.round(Number(m[1]) * unit);
}

/** A whole number of at least `min`, from the flag `--name`'s text. @throws Error naming the flag */
function wholeNumber(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${name} wants a whole number >= ${min}, not "${text}"`);
  }
  return n;
}

/** @throws Error with a one-line message (an unknown flag, a bad number or size) */
export function parseBenchFlags(argv: readonly string[]): BenchFlags {
  const { values } = parseArgs({
    args: [...argv],
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
      profile: { type: "boolean", default: false },
      pin: { type: "boolean", default: false },
      "cli-pause": { type: "string", default: "0" },
      lines: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const size = parseSize(values.size as string);
  if (size === 0) throw new Error("--size wants at least 1 byte");
  return {
    size,
    runs: wholeNumber("runs", values.runs as string, 1),
    smallFiles: wholeNumber("files", values.files as string, 0),
    smallFileSize: parseSize(values["file-size"] as string),
    big: values.big ? parseSize(values.big) : undefined,
    bigLabel: values.big,
    json: values.json as boolean,
    external: !values["no-external"],
    cases: values.cases ? values.cases.split(",") : undefined,
    linkMs: wholeNumber("link-ms", values["link-ms"] as string, 0),
    keep: values.keep as boolean,
    profile: values.profile as boolean,
    pin: values.pin as boolean,
    cliPauseMs: wholeNumber("cli-pause", values["cli-pause"] as string, 0),
    linesFile: values.lines,
  };
}
