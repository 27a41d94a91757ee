/** Command-line flags of `parley chat` (`bun run chat`): option specs, parsing, the help text. */

import type { ChecksumAlgo } from "../transfer/index.ts";
import { peerCodeFromEnvironment, type Warn } from "./codes.ts";
import { CHAT_EXIT_CODES_HELP } from "./exit-codes.ts";
import {
  checksumFlag,
  dirFlag,
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
import { MAILBOX_FLAGS, type MailboxConfig, mailboxCodeFromEnvironment, mailboxFlags } from "./mailbox-options.ts";

export { UsageError };

export interface ChatOptions {
  readonly host: string;
  readonly port: number;
  readonly connect?: string;
  readonly dir: string;
  readonly name?: string;
  readonly progress: boolean;
  /** Digest for files this side sends. */
  readonly checksum: ChecksumAlgo;
  /** --limit-rate in bytes/s. */
  readonly limitRate?: number;
  /** The peer's code from --code-file or PARLEY_CODE (kept out of argv). */
  readonly peerCode?: string;
  /** --insecure-port-only: accept and dial the port alone, unverified. */
  readonly insecurePortOnly: boolean;
  /** --relay-url and friends: meet through a magic-wormhole mailbox. */
  readonly mailbox?: MailboxConfig;
}

export type ParsedArgs =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "chat"; readonly options: ChatOptions };

export const CHAT_OPTIONS = {
  port: OPTIONS.port,
  host: OPTIONS.host,
  connect: {
    type: "string",
    value: "CODE",
    help: "connect to the peer with its code (40123-ribbon-walnut) instead of asking",
  },
  "code-file": OPTIONS["code-file"],
  dir: OPTIONS.dir,
  name: OPTIONS.name,
  "no-progress": OPTIONS["no-progress"],
  checksum: OPTIONS.checksum,
  "limit-rate": OPTIONS["limit-rate"],
  "insecure-port-only": OPTIONS["insecure-port-only"],
  ...MAILBOX_FLAGS,
  help: OPTIONS.help,
  version: OPTIONS.version,
} as const satisfies OptionSpecs;

export const CHAT_USAGE = "Usage: parley [chat] [options]   (from a checkout: npx bun run chat [options])";

/** `parley chat --help` (made when asked: formatting every command's help cost start-up time). */
export const chatHelp = (): string => `Parley chat: chat and send files to one peer over one connection.

${CHAT_USAGE}

Both sides listen and show a code (40123-ribbon-walnut); type the peer's code, or wait for
the peer to type yours.

Options:
${formatOptions(CHAT_OPTIONS)}

In the chat:
  transfer <path>...  send files and folders (quotes for names with spaces)
  transfers           list transfers in progress with their ids
  cancel <id>         stop a transfer, either side (a folder's entry: its whole folder)
  exit                finish transfers, say goodbye, quit (also Ctrl-D)
  help                list commands
  \\text               send text that starts like a command as chat
  anything else       is sent as a chat line

${CHAT_EXIT_CODES_HELP}`;

/**
 * @param env, cwd - the process's own unless a test passes others
 * @param warn - told when the --code-file is not private (one line; parsing goes on)
 */
export function parseChatArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
  warn: Warn = () => {},
): ParsedArgs {
  const { values } = parseFlags(argv, CHAT_OPTIONS, false);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const name = nameFlag(values);
  const limitRate = rateFlag(values);
  const mailbox = mailboxFlags(values, env);
  const codeFile = values["code-file"] as string | undefined;
  const peerCode = mailbox
    ? mailboxCodeFromEnvironment(codeFile, env, warn)
    : peerCodeFromEnvironment(codeFile, env, warn);
  const host = hostFlag(values);
  return {
    kind: "chat",
    options: {
      host,
      insecurePortOnly: insecurePortOnlyFlag(values, host),
      port: portFlag(values),
      dir: dirFlag(values, cwd),
      progress: !values["no-progress"],
      checksum: checksumFlag(values),
      ...(values.connect === undefined ? {} : { connect: values.connect as string }),
      ...(name === undefined ? {} : { name }),
      ...(limitRate === undefined ? {} : { limitRate }),
      ...(peerCode === undefined ? {} : { peerCode }),
      ...(mailbox === undefined ? {} : { mailbox }),
    },
  };
}
