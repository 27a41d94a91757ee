#!/usr/bin/env bun
/**
 * Entry point of `parley` and `bun run chat`: picks the command (chat, send, receive), parses
 * its flags, runs it, and maps errors to one line and an exit code. The only file that calls
 * process.exit.
 */

import pkg from "../../package.json" with { type: "json" };
import { HELP_TEXT, parseChatArgs } from "./args.ts";
import { runChat } from "./chat.ts";
import {
  type CommandArgs,
  parseReceiveArgs,
  parseSendArgs,
  RECEIVE_HELP,
  SEND_HELP,
  TOP_HELP,
} from "./command-args.ts";
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { runReceive, runSend } from "./transfer-command.ts";

function fatal(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`parley: internal error: ${message}\n`);
  if (process.env.PARLEY_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(EXIT_INTERNAL);
}

/** Parses, then runs; a UsageError from either step is one line (plus `help` when given). */
async function command<T>(
  argv: readonly string[],
  parse: (argv: readonly string[]) => CommandArgs<T>,
  run: (options: T) => Promise<number>,
  help: string,
  helpOnUsageError: boolean,
): Promise<number> {
  try {
    const parsed = parse(argv);
    switch (parsed.kind) {
      case "help":
        process.stdout.write(`${help}\n`);
        return EXIT_OK;
      case "version":
        process.stdout.write(`parley ${pkg.version}\n`);
        return EXIT_OK;
      case "run":
        return await run(parsed.options);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`parley: ${err.message}${helpOnUsageError ? `\n\n${help}` : " (see --help)"}\n`);
    return EXIT_USAGE;
  }
}

function parseChat(argv: readonly string[]) {
  const parsed = parseChatArgs(argv);
  return parsed.kind === "chat" ? { kind: "run" as const, options: parsed.options } : parsed;
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  switch (first) {
    case "send":
      return command(rest, parseSendArgs, runSend, SEND_HELP, true);
    case "receive":
      return command(rest, parseReceiveArgs, runReceive, RECEIVE_HELP, true);
    case "chat":
      return command(rest, parseChat, runChat, HELP_TEXT, false);
    case "help":
      process.stdout.write(`${TOP_HELP}\n`);
      return EXIT_OK;
    default:
      // No command: the chat, as `bun run chat [options]` always was; its --help lists all commands.
      if (first !== undefined && !first.startsWith("-")) {
        process.stderr.write(`parley: unknown command "${first}"\n\n${TOP_HELP}\n`);
        return EXIT_USAGE;
      }
      return command(argv, parseChat, runChat, `${TOP_HELP}\n\nChat options:\n${HELP_TEXT}`, false);
  }
}

process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
/** Waits until what was written to stdout and stderr has been handed to the OS (pipes are async). */
function flushed(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write("", () => resolve()));
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => {});
}

main(process.argv.slice(2)).then((code) => flushed().then(() => process.exit(code)), fatal);
