/** Flag parsing shared by every command: strict parsing, and the checks of common flags. */

import { parseArgs } from "node:util";
import { CHECKSUM_ALGOS, type ChecksumAlgo, DEFAULT_CHECKSUM, isChecksumAlgo } from "../transfer/index.ts";

export class UsageError extends Error {
  override name = "UsageError";
  readonly code = "E_USAGE";
}

type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Flags every command takes. */
export const COMMON_FLAGS = {
  port: { type: "string" },
  host: { type: "string" },
  name: { type: "string" },
  "no-progress": { type: "boolean" },
  checksum: { type: "string" },
  "insecure-port-only": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const satisfies FlagSpec;

/** @throws UsageError on an unknown flag, a missing value or an unexpected positional */
export function parseFlags(
  argv: readonly string[],
  options: FlagSpec,
  allowPositionals: boolean,
): { values: FlagValues; positionals: string[] } {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals, options });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // parseArgs takes "--port -5" for a flag missing its value ("argument is ambiguous").
    const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} needs a value, and it cannot start with "-"`);
    throw new UsageError(message.split("\n")[0] ?? message);
  }
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
  if (!(rate >= 1024))
    throw new UsageError(`--limit-rate must be a rate of at least 1K bytes/s, like 20M or 512K, not "${text}"`);
  return rate;
}
