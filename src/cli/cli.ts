/**
 * The command table and its dispatcher: each command is `{ name, summary, args, help,
 * usage, run(argv, io) }`, its help generated from its option specs; `runCli(argv, io)`
 * picks one, maps a usage error to one line, and returns the exit code. It touches the
 * process only through `io`, so tests run commands in-process (main.ts passes the real one).
 */

import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { CHAT_OPTIONS, CHAT_USAGE, type ChatOptions, chatHelp, parseChatArgs } from "./args.ts";
import type * as CommandArgs from "./command-args.ts";
import { EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";
import { type OptionSpecs, UsageError } from "./flags.ts";
import type { CliIo } from "./io.ts";
import type * as OptionHints from "./option-hints.ts";

export interface Command {
  readonly name: "chat" | "send" | "receive";
  /** Its line in `parley --help`. */
  readonly summary: string;
  /** Its options (the help's "Options:" lines come from these). */
  readonly args: OptionSpecs;
  /** Its --help text. */
  help(): string;
  readonly usage: string;
  /** Parses `argv` and runs; a UsageError thrown here becomes one line and exit 1. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

type Parsed<T> = { kind: "help" } | { kind: "version" } | { kind: "run"; options: T };

/** help and version are the same for every command; the rest is the command's own. */
async function parsedThen<T>(
  parsed: Parsed<T>,
  help: () => string,
  io: CliIo,
  run: (options: T) => Promise<number>,
): Promise<number> {
  if (parsed.kind === "help") {
    io.stdout.write(`${help()}\n`);
    return EXIT_OK;
  }
  if (parsed.kind === "version") {
    // Read when asked: the chat's start-up does without it.
    const { version } = require("../../package.json") as { version: string };
    io.stdout.write(`parley ${version}\n`);
    return EXIT_OK;
  }
  return run(parsed.options);
}

/** A warning found while the flags are read (a --code-file others can read): one line on stderr, before anything else. */
function warnOn(io: CliIo): (line: string) => void {
  return (line) => io.stderr.write(`${line}\n`);
}

/** send's and receive's options and parsers: loaded when one of them is asked for, not by the chat. */
function commandArgs(): typeof CommandArgs {
  return require("./command-args.ts") as typeof CommandArgs;
}

/** Hints for a mistyped command line: loaded on that error only. */
function optionHints(): typeof OptionHints {
  return require("./option-hints.ts") as typeof OptionHints;
}

export const COMMANDS: readonly Command[] = [
  {
    name: "chat",
    summary: "interactive chat and transfers (the default; as `npx bun run chat`)",
    args: CHAT_OPTIONS,
    help: chatHelp,
    usage: CHAT_USAGE,
    run: (argv, io) => {
      const parsed = parseChatArgs(argv, io.env, io.cwd, warnOn(io));
      const asRun: Parsed<ChatOptions> = parsed.kind === "chat" ? { kind: "run", options: parsed.options } : parsed;
      // require, not import(): Bun loads a dynamic import's files through its thread pool, turns
      // the event loop meanwhile, and its first turn with a grown heap runs a full collection
      // (3-4 ms), all before the code line.
      return parsedThen(asRun, chatHelp, io, async (options) =>
        (require("./chat.ts") as typeof import("./chat.ts")).runChat(options, io),
      );
    },
  },
  {
    name: "send",
    summary: "send files and folders, then exit",
    get args() {
      return commandArgs().SEND_OPTIONS;
    },
    help: () => commandArgs().sendHelp(),
    get usage() {
      return commandArgs().SEND_USAGE;
    },
    run: (argv, io) => {
      const { parseSendArgs, sendHelp } = commandArgs();
      // require, as the chat: no turn of the event loop (and its full collection) before the code line.
      return parsedThen(parseSendArgs(argv, io.env, warnOn(io)), sendHelp, io, async (options) =>
        (require("./send-command.ts") as typeof import("./send-command.ts")).runSend(options, io),
      );
    },
  },
  {
    name: "receive",
    summary: "receive files, then exit",
    get args() {
      return commandArgs().RECEIVE_OPTIONS;
    },
    help: () => commandArgs().receiveHelp(),
    get usage() {
      return commandArgs().RECEIVE_USAGE;
    },
    run: (argv, io) => {
      const { parseReceiveArgs, receiveHelp } = commandArgs();
      // require, as the chat (above).
      return parsedThen(parseReceiveArgs(argv, io.env, io.cwd, warnOn(io)), receiveHelp, io, async (options) =>
        (require("./receive-command.ts") as typeof import("./receive-command.ts")).runReceive(options, io),
      );
    },
  },
];

export const TOP_HELP = `Parley: chat and send files to one peer over one fast, verified connection.

Usage:
  parley [chat] [options]            interactive chat and transfers (the default)
  parley send <paths...> [options]   send files and folders, then exit
  parley receive [CODE] [options]    receive files, then exit
  parley <command> --help            the options of one command

Each side that listens shows a code, like 40123-ribbon-walnut; the other side types it
(or passes it with --connect / --to / receive CODE, or in PARLEY_CODE to keep it out of ps).

Examples:
  parley                                        # chat: shows its code, asks for the peer's
  parley --connect 40123-ribbon-walnut          # chat with the peer whose code that is
  parley receive --dir in                       # listens and shows its code ...
  parley send report.pdf --to 40123-ribbon-walnut   # ... which the sender dials
  parley send big.iso                           # or the sender listens ...
  PARLEY_CODE=40123-ribbon-walnut parley receive 40123 --dir in   # ... and the receiver dials
  parley receive --stdout --json > file.bin     # the events go to stderr then

${EXIT_CODES_HELP}`;

/** Runs `parley ARGV`; resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "help" || (argv.length === 1 && (first === "--help" || first === "-h"))) {
    // `npx bun run chat --help` asks for the chat's options (its script starts main.ts with no
    // command word): the commands' overview, in `parley` words, did not list them.
    const chatScript = io.env.npm_lifecycle_event === "chat" && first !== "help";
    io.stdout.write(`${chatScript ? chatHelp() : TOP_HELP}\n`);
    return EXIT_OK;
  }
  let command = COMMANDS.find((c) => c.name === first);
  let args: readonly string[] = rest;
  if (!command) {
    if (first !== undefined && !first.startsWith("-")) {
      const hint = optionHints().unknownCommandHint(first);
      const more = hint === undefined ? "" : `; ${hint}`;
      io.stderr.write(
        sanitizeForTerminal(`parley: unknown command "${first}" (parley --help lists the commands${more})`),
      );
      io.stderr.write("\n");
      return EXIT_USAGE;
    }
    // No command word: the chat, as `bun run chat [options]` always was.
    command = COMMANDS[0] as Command;
    args = argv;
  }
  // A debugging aid (src/cli/chat-trace-file.ts), loaded only when asked for.
  const tracePrefix = io.env.PARLEY_CHAT_TRACE;
  if (tracePrefix) {
    const light = io.env.PARLEY_CHAT_TRACE_LIGHT === "1";
    (await import("./chat-trace-file.ts")).startChatTraceFile(tracePrefix, undefined, light);
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const hint =
      err.unknownOption === undefined
        ? undefined
        : optionHints().unknownOptionHint(err.unknownOption, command.name, COMMANDS);
    const message = hint === undefined ? err.message : `${err.message} (${hint})`;
    // The message quotes what was typed (a path, a code): escape sequences in it are shown, not
    // run, as everything else Parley prints, and it stays one line.
    io.stderr.write(
      `parley: ${sanitizeForTerminal(message)}\n${command.usage}   (parley ${command.name} --help lists the options)\n`,
    );
    // A --json reader learns it from its events too (stdout, or stderr under receive --stdout).
    if (command.name !== "chat" && args.includes("--json")) {
      const { jsonLine } = await import("./json-line.ts");
      const events = args.includes("--stdout") ? io.stderr : io.stdout;
      events.write(`${jsonLine({ type: "error", code: "E_USAGE", message })}\n`);
    }
    return EXIT_USAGE;
  }
}
