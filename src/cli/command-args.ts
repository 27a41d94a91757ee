/** `parley send` and `parley receive`: option specs, flags, positionals and help texts. */

import { MAX_FILE_NAME_BYTES } from "../protocol/message-types.ts";
import type { ChecksumAlgo } from "../transfer/index.ts";
import { peerCodeFromEnvironment, type Warn } from "./codes.ts";
import { EXIT_CODES_HELP } from "./exit-codes.ts";
import {
  checksumFlag,
  dirFlag,
  type FlagValues,
  formatOptions,
  hostFlag,
  insecurePortOnlyFlag,
  nameFlag,
  OPTIONS,
  type OptionSpecs,
  parseFlags,
  portFlag,
  rateFlag,
  UsageError,
} from "./flags.ts";
import { isMailboxCode, parsePeerAddress } from "./input.ts";
import { MAILBOX_FLAGS, type MailboxConfig, mailboxCodeFromEnvironment, mailboxFlags } from "./mailbox-options.ts";
import type * as OptionHints from "./option-hints.ts";

export const SEND_OPTIONS = {
  to: {
    type: "string",
    value: "CODE",
    help: "dial the receiver with its code (40123-ribbon-walnut) instead of listening",
  },
  "code-file": OPTIONS["code-file"],
  port: OPTIONS.port,
  host: OPTIONS.host,
  name: { type: "string", value: "NAME", help: "the saved name for - (default: stdin)" },
  text: {
    type: "string",
    value: "TEXT",
    help: "send TEXT as one message instead of files (a chat line; a plain wormhole receiver's text message)",
  },
  checksum: OPTIONS.checksum,
  "limit-rate": OPTIONS["limit-rate"],
  json: OPTIONS.json,
  "no-progress": OPTIONS["no-progress"],
  "insecure-port-only": OPTIONS["insecure-port-only"],
  ...MAILBOX_FLAGS,
  help: OPTIONS.help,
  version: OPTIONS.version,
} as const satisfies OptionSpecs;

export const RECEIVE_OPTIONS = {
  dir: { type: "string", value: "DIR", help: "where files are saved (default: current directory); never overwrites" },
  stdout: {
    type: "boolean",
    help: "write the one received file (or text message) to standard output (messages to stderr)",
  },
  "code-file": OPTIONS["code-file"],
  ask: {
    type: "boolean",
    help: "show each offer (name, size; a folder once) and ask y/n before accepting, one at a time",
  },
  yes: { type: "boolean", help: "accept without asking (overrides --ask)" },
  port: OPTIONS.port,
  host: OPTIONS.host,
  name: OPTIONS.name,
  // Taken, but not in the help: a receiver checks the digest the sender names (a note says so).
  checksum: OPTIONS.checksum,
  json: OPTIONS.json,
  "no-progress": OPTIONS["no-progress"],
  "insecure-port-only": OPTIONS["insecure-port-only"],
  ...MAILBOX_FLAGS,
  help: OPTIONS.help,
  version: OPTIONS.version,
} as const satisfies OptionSpecs;

export const SEND_USAGE = "Usage: parley send (<paths...> | --text TEXT) [--to CODE] [options]";
export const RECEIVE_USAGE = "Usage: parley receive [CODE] [options]";

/** `parley send --help` (made when asked). */
export const sendHelp = (): string => `${SEND_USAGE}

Sends the files and folders (several at once), waits until the receiver has verified each
one, exits. Without --to it listens, shows its code and waits for \`parley receive CODE\`
(--to with the code's port alone asks for the code at a terminal).
\`-\` sends standard input (give it a name with --name). --text TEXT sends one message
instead: a chat line for a Parley receiver, the text message of a plain \`wormhole receive\`.

Options:
${formatOptions(SEND_OPTIONS)}

${EXIT_CODES_HELP}`;

/** `parley receive --help` (made when asked). */
export const receiveHelp = (): string => `${RECEIVE_USAGE}

Receives what the sender sends, then exits when the sender is done. With CODE (the sender's
code; or its port with the code in PARLEY_CODE or --code-file, or asked for at a terminal) it
dials the sender; without, it listens, shows its code, and waits for \`parley send --to CODE\`.

Options:
${formatOptions(Object.fromEntries(Object.entries(RECEIVE_OPTIONS).filter(([name]) => name !== "checksum")))}

${EXIT_CODES_HELP}`;

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
  /** --relay-url and friends: meet through a magic-wormhole mailbox (the code is then a mailbox code). */
  readonly mailbox?: MailboxConfig;
}

export interface SendOptions extends CommonCommandOptions {
  readonly paths: readonly string[];
  readonly to?: string;
  /** Saved name for stdin (`-`). */
  readonly streamName: string;
  /** --limit-rate in bytes/s. */
  readonly limitRate?: number;
  /** --text: one message instead of paths (`paths` is then empty). */
  readonly text?: string;
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

type Env = Readonly<Record<string, string | undefined>>;

/** @param dials - the command connects out: only then is the peer's code read (and checked) */
function common(values: FlagValues, dials: boolean, env: Env, warn: Warn): CommonCommandOptions {
  const mailbox = mailboxFlags(values, env);
  const codeFile = values["code-file"] as string | undefined;
  const peerCode = mailbox
    ? mailboxCodeFromEnvironment(codeFile, env, warn)
    : dials
      ? peerCodeFromEnvironment(codeFile, env, warn)
      : undefined;
  const host = hostFlag(values);
  return {
    host,
    insecurePortOnly: insecurePortOnlyFlag(values, host),
    port: portFlag(values),
    json: values.json === true,
    // No bars where the terminal cannot move its cursor (TERM=dumb): their escape codes would show.
    progress: values["no-progress"] !== true && values.json !== true && env.TERM !== "dumb",
    checksum: checksumFlag(values),
    ...(peerCode === undefined ? {} : { peerCode }),
    ...(mailbox === undefined ? {} : { mailbox }),
  };
}

/**
 * send's --name: the file name standard input is saved under, so a file name's bounds (the
 * offer's: 1 to MAX_FILE_NAME_BYTES bytes of UTF-8, no `/`), not a peer name's 64 characters.
 */
function streamNameFlag(values: FlagValues): string | undefined {
  const name = values.name as string | undefined;
  if (name === undefined) return undefined;
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0 || bytes > MAX_FILE_NAME_BYTES) {
    throw new UsageError(`--name must be a file name of 1 to ${MAX_FILE_NAME_BYTES} bytes, not ${bytes}`);
  }
  if (name.includes("/") || name === "." || name === "..") {
    throw new UsageError("--name is the name the file is saved under: a name, not a path");
  }
  return name;
}

/** The lines of unreadCode for one command, each example built from a port. */
interface UnreadCodeWording {
  /** The command given the code's port, for a PARLEY_CODE ("--to 45554", "parley receive 45554"). */
  readonly withPort: (port: string) => string;
  /** The command given the port beside its --code-file ("--to 40123", "parley receive 40123 --code-file F"). */
  readonly withCodeFile: (port: string) => string;
  /** What the command does instead ("send listens and shows a code of its own"). */
  readonly otherwise: string;
}

/** The port in the examples when the code's own is not known (a file left unread, words alone). */
const EXAMPLE_PORT = "40123";

/**
 * Whether a PARLEY_CODE is a mailbox's ("7-crossover-clockwork"), not a listener's: isMailboxCode
 * judges codes that are not valid direct ones, and a listener's two words are magic-wormhole's
 * too in about 1 code in 6,000 ("40123-antenna-absurd"), whose note then named --relay.
 */
function heldMailboxCode(code: string): boolean {
  if (!isMailboxCode(code)) return false;
  const direct = parsePeerAddress(code, "127.0.0.1");
  return typeof direct === "string" || direct.port < 1024; // below 1024: a nameplate, as isMailboxCode says
}

/**
 * A code the direct flow would never read: the command listens unless it is given the peer's
 * port, and it was not. A --code-file is refused, not ignored: `send big.iso --code-file code.txt`
 * listened and showed a new code of its own without a word, while the peer's code sat unread in
 * the file. PARLEY_CODE is said in a note and the command goes on: it may be left over in the
 * shell from an earlier dial (a listener must still start), but the one-off
 * `PARLEY_CODE=... parley send big.iso` listened just as silently. (In the mailbox flow a code
 * alone joins that code: common() reads it.)
 */
function unreadCode(values: FlagValues, dials: boolean, env: Env, warn: Warn, wording: UnreadCodeWording): void {
  if (dials || mailboxFlags(values, env) !== undefined) return;
  if (values["code-file"] !== undefined) {
    throw new UsageError(
      `--code-file is read to dial the peer: give the code's port too (${wording.withCodeFile(EXAMPLE_PORT)}); without it, ${wording.otherwise}`,
    );
  }
  const code = env.PARLEY_CODE?.trim();
  if (code && heldMailboxCode(code)) {
    // "7-crossover-clockwork": its number is a mailbox's nameplate, not a port.
    warn(
      `Note: PARLEY_CODE is set but not read: it holds a mailbox code, read with --relay (or --relay-url URL); without it, ${wording.otherwise}.`,
    );
  } else if (code) {
    // Its own port where it has one ("40123-ribbon-walnut"; words alone go with any port).
    const port = /^(?:\S*:)?(\d{1,5})[\s-]/.exec(code)?.[1] ?? EXAMPLE_PORT;
    warn(
      `Note: PARLEY_CODE is set but not read: it is read to dial the peer, given the code's port (${wording.withPort(port)}); without it, ${wording.otherwise}.`,
    );
  }
}

/** @param warn - told when the --code-file is not private (one line; parsing goes on) */
export function parseSendArgs(
  argv: readonly string[],
  env: Env = process.env,
  warn: Warn = () => {},
): CommandArgs<SendOptions> {
  const { values, positionals } = parseFlags(argv, SEND_OPTIONS, true);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const text = values.text as string | undefined;
  if (text !== undefined && positionals.length > 0)
    throw new UsageError("--text is sent instead of paths, not with them");
  if (text === "") throw new UsageError("--text needs a message");
  if (text === undefined && positionals.length === 0) {
    throw new UsageError("send needs at least one path (or - for standard input, or --text TEXT)");
  }
  if (positionals.filter((p) => p === "-").length > 1) throw new UsageError("- (standard input) can be sent once");
  const name = streamNameFlag(values);
  if (name !== undefined && !positionals.includes("-")) {
    // Not ignored: `send report.pdf --name final.pdf` stored report.pdf without a word.
    throw new UsageError(
      "--name is the name standard input (-) is saved under; a file or folder is sent under its own name (link or copy it to another name first)",
    );
  }
  unreadCode(values, values.to !== undefined, env, warn, {
    withPort: (port) => `--to ${port}`,
    withCodeFile: (port) => `--to ${port}`,
    otherwise: "send listens and shows a code of its own",
  });
  const limitRate = rateFlag(values);
  return {
    kind: "run",
    options: {
      ...common(values, values.to !== undefined, env, warn),
      ...(limitRate === undefined ? {} : { limitRate }),
      paths: positionals,
      ...(text === undefined ? {} : { text }),
      streamName: name ?? "stdin",
      ...(values.to === undefined ? {} : { to: values.to as string }),
    },
  };
}

/** @param warn - told when the --code-file is not private (one line; parsing goes on) */
export function parseReceiveArgs(
  argv: readonly string[],
  env: Env = process.env,
  cwd: string = process.cwd(),
  warn: Warn = () => {},
): CommandArgs<ReceiveOptions> {
  const { values, positionals } = parseFlags(argv, RECEIVE_OPTIONS, true);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  if (positionals.length > 1) {
    // A code read out and typed with spaces ("3 inertia fallout"): the hints load on this error only.
    const hint = (require("./option-hints.ts") as typeof OptionHints).spacedCodeHint(positionals);
    throw new UsageError(
      `receive takes one CODE (the sender's), not ${positionals.length} arguments${hint ? ` (${hint})` : ""}`,
    );
  }
  unreadCode(values, positionals[0] !== undefined, env, warn, {
    withPort: (port) => `parley receive ${port}`,
    withCodeFile: (port) => `parley receive ${port} --code-file F`,
    otherwise: "receive listens and shows a code of its own",
  });
  const name = nameFlag(values);
  if (values.stdout && values.dir !== undefined) throw new UsageError("--stdout and --dir do not go together");
  if (values.checksum !== undefined) {
    warn(
      "Note: --checksum is the sender's choice (parley send --checksum sha256): a receiver checks the digest the sender names, so it is ignored here.",
    );
  }
  return {
    kind: "run",
    options: {
      ...common(values, positionals[0] !== undefined, env, warn),
      dir: dirFlag(values, cwd),
      stdout: values.stdout === true,
      ask: values.ask === true && values.yes !== true,
      ...(positionals[0] === undefined ? {} : { peer: positionals[0] }),
      ...(name === undefined ? {} : { peerName: name }),
    },
  };
}
