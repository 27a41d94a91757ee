/** `parley send` and `parley receive`: flags, positionals and help texts; and the top-level help. */

import type { ChecksumAlgo } from "../transfer/index.ts";
import { peerCodeFromEnvironment } from "./codes.ts";
import {
  COMMON_FLAGS,
  checksumFlag,
  type FlagValues,
  hostFlag,
  insecurePortOnlyFlag,
  nameFlag,
  parseFlags,
  portFlag,
  rateFlag,
  UsageError,
} from "./flags.ts";

export const TOP_HELP = `Parley: chat and send files to one peer over one fast, verified connection.

Usage:
  parley [chat] [options]          interactive chat and transfers (as \`bun run chat\`)
  parley send <paths...> [options] send files, then exit
  parley receive [PEER] [options]  receive files, then exit
  parley <command> --help          options of one command

Examples:
  parley                                   # chat: prints "Listening on ...", asks for the peer
  parley receive --dir in                  # listens; prints how to reach it
  parley send report.pdf --to 40123-ribbon-walnut
  parley send big.iso                      # or the sender listens ...
  PARLEY_CODE=40123-ribbon-walnut parley receive 40123 --dir in  # ... the receiver dials
  tar c photos | PARLEY_CODE=40123-ribbon-walnut parley send - --name photos.tar --to 40123
  parley receive --stdout --json > file.bin   # the events go to stderr then

Exit codes: 0 ok, 1 usage, 2 connection failed, 3 transfer failed or rejected,
4 integrity failure, 130 interrupted (SIGINT), 143 terminated (SIGTERM).`;

export const SEND_HELP = `Usage: parley send <paths...> [--to PEER] [options]

Sends the files (several at once), waits until the receiver has verified each one, exits.
Without --to it listens and waits for \`parley receive <code>\`. \`-\` sends standard
input (give it a name with --name).

Options:
  --to CODE        dial the receiver with its code (40123-ribbon-walnut) instead of listening
  --code-file F    read the peer's code from file F (or set PARLEY_CODE): not in ps
  --port N, --host H  where to listen without --to (default: any port on 127.0.0.1)
  --name NAME      the saved name for \`-\` (default: stdin)
  --checksum ALGO  xxh3 (default) or sha256
  --limit-rate R   at most R bytes a second (K, M, G: powers of 1024), e.g. 20M
  --json           one JSON object per line on stdout for every event; messages on stderr
  --no-progress    no progress bar
  --insecure-port-only  accept and dial the port alone, without the code: NOT verified
Exit codes: 0 every file received and verified, 1 usage, 2 connection failed,
3 a transfer failed or was rejected, 4 integrity failure, 130 SIGINT, 143 SIGTERM.`;

export const RECEIVE_HELP = `Usage: parley receive [PEER] [options]

Receives what the sender sends, then exits when the sender is done. With CODE (the sender's
code, or its port with the code in PARLEY_CODE or --code-file) it dials the
sender; without, it listens, shows its code, and waits for \`parley send --to\`.

Options:
  --dir DIR        where files are saved (default: current directory); never overwrites
  --stdout         write the one received file to standard output (messages to stderr)
  --code-file F    read the peer's code from file F (or set PARLEY_CODE): not in ps
  --ask            show each offer (name, size) and ask y/n before accepting
  --yes            accept without asking (overrides --ask)
  --port N, --host H  where to listen without PEER (default: any port on 127.0.0.1)
  --json           one JSON object per line on stdout for every event; messages on stderr
  --no-progress    no progress bar
  --insecure-port-only  accept and dial the port alone, without the code: NOT verified
Exit codes: 0 everything received and verified, 1 usage, 2 connection failed,
3 a transfer failed or was rejected, 4 integrity failure, 130 SIGINT, 143 SIGTERM.`;

interface CommonCommandOptions {
  readonly host: string;
  readonly port: number;
  readonly json: boolean;
  readonly progress: boolean;
  readonly checksum: ChecksumAlgo;
  /** Name shown to the peer. */
  readonly peerName?: string;
  /** The peer's code from --code-file or PARLEY_CODE (kept out of argv). */
  readonly peerCode?: string;
  /** --insecure-port-only: accept and dial the port alone, unverified. */
  readonly insecurePortOnly: boolean;
}

export interface SendOptions extends CommonCommandOptions {
  readonly paths: readonly string[];
  readonly to?: string;
  /** Saved name for stdin (`-`). */
  readonly streamName: string;
  /** --limit-rate in bytes/s. */
  readonly limitRate?: number;
}

export interface ReceiveOptions extends CommonCommandOptions {
  readonly peer?: string;
  readonly dir: string;
  readonly stdout: boolean;
  readonly ask: boolean;
}

export type CommandArgs<T> =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly options: T };

/** @param dials - the command connects out: only then is the peer's code read (and checked) */
function common(values: FlagValues, dials: boolean): CommonCommandOptions {
  const peerCode = dials ? peerCodeFromEnvironment(values["code-file"] as string | undefined) : undefined;
  const host = hostFlag(values);
  return {
    host,
    insecurePortOnly: insecurePortOnlyFlag(values, host),
    port: portFlag(values),
    json: values.json === true,
    progress: values["no-progress"] !== true && values.json !== true,
    checksum: checksumFlag(values),
    ...(peerCode === undefined ? {} : { peerCode }),
  };
}

export function parseSendArgs(argv: readonly string[]): CommandArgs<SendOptions> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...COMMON_FLAGS,
      to: { type: "string" },
      json: { type: "boolean" },
      "limit-rate": { type: "string" },
      "code-file": { type: "string" },
    },
    true,
  );
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  if (positionals.length === 0) throw new UsageError("send needs at least one path (or - for standard input)");
  if (positionals.filter((p) => p === "-").length > 1) throw new UsageError("- (standard input) can be sent once");
  const name = nameFlag(values);
  const limitRate = rateFlag(values);
  return {
    kind: "run",
    options: {
      ...common(values, values.to !== undefined),
      ...(limitRate === undefined ? {} : { limitRate }),
      paths: positionals,
      streamName: name ?? "stdin",
      ...(values.to === undefined ? {} : { to: values.to as string }),
    },
  };
}

export function parseReceiveArgs(argv: readonly string[]): CommandArgs<ReceiveOptions> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...COMMON_FLAGS,
      dir: { type: "string" },
      stdout: { type: "boolean" },
      ask: { type: "boolean" },
      yes: { type: "boolean" },
      json: { type: "boolean" },
      "code-file": { type: "string" },
    },
    true,
  );
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  if (positionals.length > 1) throw new UsageError(`receive takes one PEER, not ${positionals.length}`);
  const name = nameFlag(values);
  if (values.stdout && values.dir !== undefined) throw new UsageError("--stdout and --dir do not go together");
  return {
    kind: "run",
    options: {
      ...common(values, positionals[0] !== undefined),
      dir: (values.dir as string | undefined) ?? process.cwd(),
      stdout: values.stdout === true,
      ask: values.ask === true && values.yes !== true,
      ...(positionals[0] === undefined ? {} : { peer: positionals[0] }),
      ...(name === undefined ? {} : { peerName: name }),
    },
  };
}
