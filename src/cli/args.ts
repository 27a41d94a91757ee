/** Command-line flags of `parley chat` (`bun run chat`): parsing and the help text. */

import { parseArgs } from "node:util";
import { CHECKSUM_ALGOS, type ChecksumAlgo, DEFAULT_CHECKSUM, isChecksumAlgo } from "../transfer/index.ts";

export class UsageError extends Error {
  override name = "UsageError";
  readonly code = "E_USAGE";
}

export interface ChatOptions {
  readonly host: string;
  readonly port: number;
  readonly connect?: string;
  readonly dir: string;
  readonly name?: string;
  readonly progress: boolean;
  /** Digest for files this side sends. */
  readonly checksum: ChecksumAlgo;
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
  --connect PEER   connect to PEER (<port> or <host>:<port>) instead of asking
  --dir DIR        where received files are saved (default: current directory)
  --name NAME      name shown to the peer
  --no-progress    no progress bars
  --checksum ALGO  digest for files you send: xxh3 (default, fast) or sha256
  --help           show this help
  --version        show the version

In the chat:
  transfer <path>...  send files (quotes for names with spaces)
  exit                finish transfers, say goodbye, quit (also Ctrl-D)
  help                list commands
  \\text               send text that starts like a command as chat
  anything else       is sent as a chat line`;

export function parseChatArgs(argv: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        connect: { type: "string" },
        dir: { type: "string" },
        name: { type: "string" },
        "no-progress": { type: "boolean" },
        checksum: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? firstLine(err.message) : String(err));
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const portText = (values.port as string | undefined) ?? "0";
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${portText}"`);
  }
  const name = values.name as string | undefined;
  if (name !== undefined && (name.length === 0 || name.length > 64)) {
    throw new UsageError("--name must be 1 to 64 characters");
  }
  const checksum = (values.checksum as string | undefined) ?? DEFAULT_CHECKSUM;
  if (!isChecksumAlgo(checksum)) {
    throw new UsageError(`--checksum must be one of ${CHECKSUM_ALGOS.join(", ")}, not "${checksum}"`);
  }
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  if (host.trim() === "") throw new UsageError("--host must not be empty");
  return {
    kind: "chat",
    options: {
      host,
      port: Number(portText),
      dir: (values.dir as string | undefined) ?? process.cwd(),
      progress: !values["no-progress"],
      checksum,
      ...(values.connect === undefined ? {} : { connect: values.connect as string }),
      ...(name === undefined ? {} : { name }),
    },
  };
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
