#!/usr/bin/env bun
/**
 * Entry point of `parley` and `bun run chat`: runs the command line (cli.ts) against the real
 * process and exits with its code. The only file that calls process.exit.
 */

import { runCli } from "./cli.ts";
import { EXIT_INTERNAL, EXIT_OK, EXIT_OUTPUT_FAILED } from "./exit-codes.ts";
import { outputFailure, outputTaken } from "./held-output.ts";
import { processIo } from "./io.ts";
import { launchedByNpm, watchLauncher } from "./launcher-watch.ts";
import { outputFailedLine } from "./output-failure.ts";
import { enterShellFolder } from "./shell-folder.ts";

function fatal(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`parley: internal error: ${message}\n`);
  if (process.env.PARLEY_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(EXIT_INTERNAL);
}

process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
/**
 * Waits until what was written to stdout and stderr has been handed to the OS (pipes are async):
 * what a slow reader has not taken yet (held-output.ts), then the streams' own last writes.
 */
function flushed(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write("", () => resolve()));
  return Promise.all([outputTaken(process.stdout), outputTaken(process.stderr)])
    .then(() => Promise.all([flush(process.stdout), flush(process.stderr)]))
    .then(() => {});
}

/**
 * `code`, unless the run would end 0 while a write to stdout failed (not a reader gone) unsaid: its last
 * lines, whose error came after the run ended (PeerLink.outputFailed says the rest). Then one
 * line on stderr and EXIT_OUTPUT_FAILED.
 */
function checkedCode(code: number): number {
  const failure = code === EXIT_OK ? outputFailure(process.stdout) : undefined;
  if (failure === undefined) return code;
  process.stderr.write(`${outputFailedLine(failure, false)}\n`);
  return EXIT_OUTPUT_FAILED;
}

// Relative paths name files where the user's shell is, also under `npx bun run chat`.
enterShellFolder();
// `npx bun run chat` or `npx parley` killed by a script: npm passes no signal on (launcher-watch.ts).
if (launchedByNpm(process.env)) {
  void watchLauncher(() => process.kill(process.pid, "SIGTERM"));
}
runCli(process.argv.slice(2), processIo()).then((code) => flushed().then(() => process.exit(checkedCode(code))), fatal);
