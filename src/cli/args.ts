/** Command-line flags of `parley chat` (`bun run chat`): parsing and the help text. */

import type { ChecksumAlgo } from "../transfer/index.ts";
import { peerCodeFromEnvironment } from "./codes.ts";
import {
  COMMON_FLAGS,
  checksumFlag,
  hostFlag,
  insecurePortOnlyFlag,
  nameFlag,
  parseFlags,
  portFlag,
  rateFlag,
  UsageError,
} from "./flags.ts";

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
}

export type ParsedArgs =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "chat"; readonly options: ChatOptions };

export const HELP_TEXT = `Parley: chat and send files to one peer over one connection.

Usage: bun run chat [options]

Options:
  --port N         port to listen on (default: any free port)
  --host H         address to listen on (default: 127.0.0.1; 0.0.0.0 or :: for other machines)
  --connect CODE   connect to the peer with its code (40123-ribbon-walnut) instead of asking
  --code-file F    read the peer's code from file F (or set PARLEY_CODE): not in ps
  --dir DIR        where received files are saved (default: current directory)
  --name NAME      name shown to the peer
  --no-progress    no progress bars
  --checksum ALGO  digest for files you send: xxh3 (default, fast) or sha256
  --limit-rate R   send at most R bytes a second (K, M, G: powers of 1024), e.g. 20M
  --insecure-port-only  accept and dial the port alone, without the code: NOT verified,
                   any user of this machine could connect (loopback only)
  --help           show this help
  --version        show the version

In the chat:
  transfer <path>...  send files and folders (quotes for names with spaces)
  transfers           list transfers in progress with their ids
  cancel <id>         stop one transfer (either side may)
  exit                finish transfers, say goodbye, quit (also Ctrl-D)
  help                list commands
  \\text               send text that starts like a command as chat
  anything else       is sent as a chat line`;

export function parseChatArgs(argv: readonly string[]): ParsedArgs {
  const { values } = parseFlags(
    argv,
    {
      ...COMMON_FLAGS,
      connect: { type: "string" },
      dir: { type: "string" },
      "limit-rate": { type: "string" },
      "code-file": { type: "string" },
    },
    false,
  );
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const name = nameFlag(values);
  const limitRate = rateFlag(values);
  const peerCode = peerCodeFromEnvironment(values["code-file"] as string | undefined);
  const host = hostFlag(values);
  return {
    kind: "chat",
    options: {
      host,
      insecurePortOnly: insecurePortOnlyFlag(values, host),
      port: portFlag(values),
      dir: (values.dir as string | undefined) ?? process.cwd(),
      progress: !values["no-progress"],
      checksum: checksumFlag(values),
      ...(values.connect === undefined ? {} : { connect: values.connect as string }),
      ...(name === undefined ? {} : { name }),
      ...(limitRate === undefined ? {} : { limitRate }),
      ...(peerCode === undefined ? {} : { peerCode }),
    },
  };
}
