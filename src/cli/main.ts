#!/usr/bin/env bun
/**
 * Entry point of `bun run chat`: parses flags, runs the chat, maps errors to one line and an
 * exit code. The only file that calls process.exit.
 */

import pkg from "../../package.json" with { type: "json" };
import { HELP_TEXT, parseChatArgs, UsageError } from "./args.ts";
import { runChat } from "./chat.ts";

const EXIT_USAGE = 1;
const EXIT_INTERNAL = 70;

function fatal(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`parley: internal error: ${message}\n`);
  if (process.env.PARLEY_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(EXIT_INTERNAL);
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseChatArgs>;
  try {
    parsed = parseChatArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`parley: ${err.message} (see --help)\n`);
    return EXIT_USAGE;
  }
  switch (parsed.kind) {
    case "help":
      process.stdout.write(`${HELP_TEXT}\n`);
      return 0;
    case "version":
      process.stdout.write(`parley ${pkg.version}\n`);
      return 0;
    case "chat":
      try {
        return await runChat(parsed.options);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        process.stderr.write(`parley: ${err.message}\n`);
        return EXIT_USAGE;
      }
  }
}

process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
main(process.argv.slice(2)).then((code) => process.exit(code), fatal);
