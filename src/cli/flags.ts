/** Flag parsing shared by every command: strict parsing, and the checks of common flags. */

import { CHECKSUM_ALGOS, type ChecksumAlgo, DEFAULT_CHECKSUM, isChecksumAlgo } from "../transfer/checksum-algos.ts";

export class UsageError extends Error {
  override name = "UsageError";
  readonly code = "E_USAGE";
  /**
   * @param unknownOption - the option's name without dashes when it is one this command does not
   *   take: cli.ts then adds a hint (a near name, the command it belongs to), off the start-up path
   */
  constructor(
    message: string,
    readonly unknownOption?: string,
  ) {
    super(message);
  }
}

/**
 * One command-line option: how parseFlags reads it, and its line in the help, which is
 * generated from these specs (formatOptions), so each text is written once.
 */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** One letter, for boolean options only (`-h`). */
  readonly short?: string;
  /** The value's name in the help (N, HOST, CODE). */
  readonly value?: string;
  /** What it does: one line, or a few joined by "\n". */
  readonly help: string;
}
export type OptionSpecs = Record<string, OptionSpec>;
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Options every command shares, each described once. */
export const OPTIONS = {
  port: { type: "string", value: "N", help: "port to listen on (default: any free port)" },
  host: {
    type: "string",
    value: "H",
    help: "address to listen on (default: 127.0.0.1; 0.0.0.0 or :: for other machines)",
  },
  name: { type: "string", value: "NAME", help: "name shown to the peer" },
  "code-file": {
    type: "string",
    value: "F",
    help: "read the peer's code from file F (or set PARLEY_CODE): not in ps",
  },
  dir: { type: "string", value: "DIR", help: "where received files are saved (default: current directory)" },
  checksum: { type: "string", value: "ALGO", help: "digest for files you send: xxh3 (default, fast) or sha256" },
  "limit-rate": {
    type: "string",
    value: "R",
    help: "send at most R bytes a second (K, M, G: powers of 1024), e.g. 20M",
  },
  json: { type: "boolean", help: "one JSON object per line on stdout for every event; messages on stderr" },
  "no-progress": { type: "boolean", help: "no progress bars" },
  "insecure-port-only": {
    type: "boolean",
    help: "accept and dial the port alone, without the code: NOT verified,\nany user of this machine could connect (loopback only)",
  },
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", short: "v", help: "show the version" },
} as const satisfies OptionSpecs;

/** The "Options:" lines of a help text, in the order given. */
export function formatOptions(specs: OptionSpecs): string {
  const heads = Object.entries(specs).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "";
    return [`${short}--${name}${spec.value ? ` ${spec.value}` : ""}`, spec] as const;
  });
  const width = Math.min(22, Math.max(...heads.map(([head]) => head.length)));
  return heads
    .map(([head, spec]) => {
      const [first, ...more] = spec.help.split("\n");
      const lead = head.length > width ? `  ${head}\n  ${" ".repeat(width)}` : `  ${head.padEnd(width)}`;
      return [`${lead}  ${first}`, ...more.map((m) => `  ${" ".repeat(width)}  ${m}`)].join("\n");
    })
    .join("\n");
}

/**
 * Strict parsing of `argv` by `specs`, as node:util's parseArgs does it (`strict: true`, no
 * negatives, the last of a repeated option wins): `--name value`, `--name=value`, boolean
 * `--flag`, short boolean flags alone or grouped (`-h`, `-hv`), `--` ends the options, `-` is a
 * positional. Our own loop because loading node:util cost 3-8 ms of the chat's start-up;
 * test/unit/flags-parser.test.ts holds it to parseArgs's results.
 * @throws UsageError on an unknown flag, a missing value or an unexpected positional
 */
export function parseFlags(
  argv: readonly string[],
  specs: OptionSpecs,
  allowPositionals: boolean,
): { values: FlagValues; positionals: string[] } {
  const values: FlagValues = {};
  const positionals: string[] = [];
  const positional = (arg: string): void => {
    if (!allowPositionals) throw new UsageError(`unexpected argument "${arg}"`);
    positionals.push(arg);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      for (const rest of argv.slice(i + 1)) positional(rest);
      break;
    }
    if (arg.length < 2 || !arg.startsWith("-")) {
      positional(arg);
      continue;
    }
    if (!arg.startsWith("--")) {
      // `-dir in`, `-json`: a long name after one dash (Go's flags take it so, wormhole-william
      // among them) is not read letter by letter ("unknown option -d" named what was not typed).
      const long = arg.slice(1).split("=")[0] as string;
      if (long.length > 1 && Object.hasOwn(specs, long)) {
        throw new UsageError(`unknown option -${long} (did you mean --${long}?)`);
      }
      // -h, -hv: short names stand for boolean options only.
      for (const letter of arg.slice(1)) {
        const name = Object.keys(specs).find((n) => specs[n]?.short === letter);
        if (name === undefined) throw new UsageError(`unknown option -${letter}`);
        values[name] = true;
      }
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 2 ? arg.slice(2, eq) : arg.slice(2);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown option --${name}`, name);
    if (spec.type === "boolean") {
      if (eq > 2) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
    } else if (eq > 2) {
      values[name] = arg.slice(eq + 1);
    } else {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      // "--port -5" reads as a flag missing its value; "--port=-5" says it is one.
      if (value.length > 1 && value.startsWith("-")) {
        throw new UsageError(`--${name} needs a value, and it cannot start with "-"`);
      }
      values[name] = value;
    }
  }
  return { values, positionals };
}

export function portFlag(values: FlagValues): number {
  const text = (values.port as string | undefined) ?? "0";
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${text}"`);
  }
  return Number(text);
}

export function hostFlag(values: FlagValues): string {
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  if (host.trim() === "") throw new UsageError("--host must not be empty");
  return host;
}

/**
 * --dir, else `cwd`. An empty one (`--dir "$OUT"` with OUT unset) is a mistake, not the current
 * folder: files would land where nobody meant them to.
 */
export function dirFlag(values: FlagValues, cwd: string): string {
  const dir = values.dir as string | undefined;
  if (dir === undefined) return cwd;
  if (dir.trim() === "") throw new UsageError("--dir must not be empty (leave it out for the current folder)");
  return dir;
}

export function checksumFlag(values: FlagValues): ChecksumAlgo {
  const checksum = (values.checksum as string | undefined) ?? DEFAULT_CHECKSUM;
  if (!isChecksumAlgo(checksum)) {
    throw new UsageError(`--checksum must be one of ${CHECKSUM_ALGOS.join(", ")}, not "${checksum}"`);
  }
  return checksum;
}

/**
 * --insecure-port-only: accept (and dial) the port alone, without the code: unverified, so
 * any user of this machine could connect. Only on a loopback listener.
 */
export function insecurePortOnlyFlag(values: FlagValues, host: string): boolean {
  if (values["insecure-port-only"] !== true) return false;
  if (!isLoopbackHost(host)) {
    throw new UsageError("--insecure-port-only works only with a loopback --host (127.0.0.1, ::1, localhost)");
  }
  return true;
}

/** Loopback listeners may accept the port alone (--insecure-port-only); any other needs the code. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** --name: 1 to 64 characters, or undefined. */
export function nameFlag(values: FlagValues): string | undefined {
  const name = values.name as string | undefined;
  if (name !== undefined && (name.length === 0 || name.length > 64)) {
    throw new UsageError("--name must be 1 to 64 characters");
  }
  return name;
}

/**
 * --limit-rate: bytes per second, with an optional K, M or G suffix (powers of 1024, as
 * rsync's --bwlimit); "20M", "512k", "1048576". Undefined when not given.
 */
export function rateFlag(values: FlagValues): number | undefined {
  const text = values["limit-rate"] as string | undefined;
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(text.trim());
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? "").toLowerCase() as "" | "k" | "m" | "g"];
  const rate = m ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  // Digits past a double's range: an Infinity rate's refill is NaN 0 ms after the last look (RateLimiter).
  if (rate === Number.POSITIVE_INFINITY) {
    throw new UsageError(
      `--limit-rate is too large to be a rate (${text.length} characters): leave it out for no limit`,
    );
  }
  if (!(rate >= 1024))
    throw new UsageError(`--limit-rate must be a rate of at least 1K bytes/s, like 20M or 512K, not "${text}"`);
  return rate;
}
