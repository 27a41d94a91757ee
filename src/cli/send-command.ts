/**
 * `parley send`: plans its paths (or a --text line), then listens or dials as `parley receive`
 * does (one-shot-run.ts); sends every path, one after another, and waits for each
 * verification; exits when done, with an exit code that says how it went (exit-codes.ts).
 * Events go to a Reporter (human or JSON). The path to the code line stays light (no
 * receive-only code, no session layer): see one-shot-run.ts.
 */

import type { Session } from "../session/index.ts";
import type * as CodePrompt from "./code-prompt.ts";
import type { SendOptions } from "./command-args.ts";
import { dialTarget } from "./dial-target.ts";
import { EXIT_TRANSFER, signalExitCode } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { expandHome } from "./input.ts";
import { type CliIo, SIGNAL_WORDS, type Signal } from "./io.ts";
import { OneShotRun } from "./one-shot-run.ts";
import {
  NOTHING_SENT,
  planSends,
  resumeSecretWarning,
  type SendPlan,
  skippedLines,
  startSends,
  UnsendablePaths,
} from "./send-plan.ts";
import { StartingReporter } from "./starting-reporter.ts";

/** The code prompt, loaded when a code may be asked for. */
function codePrompt(): typeof CodePrompt {
  return require("./code-prompt.ts") as typeof CodePrompt;
}

/** Said when `-` (standard input) is this terminal: a new user may have meant to pipe a file in. */
const STDIN_IS_TERMINAL =
  "Note: standard input (-) is this terminal: what you type is sent, and Ctrl-D ends it (to send a file: parley send FILE, or cmd | parley send -).";

export async function runSend(given: SendOptions, io: CliIo): Promise<number> {
  let options = given;
  const reporter = new StartingReporter({ json: options.json, progress: options.progress, stdoutTaken: false }, io);
  // `--to 40123` (a port alone: a code ends with its words) at a terminal: the code is asked for (code-prompt.ts).
  if (options.to !== undefined && /\d$/.test(options.to.trim()) && codePrompt().asksForCode(options.to, options, io)) {
    const code = await codePrompt().askCode("send", options.to, options, io, reporter);
    if (typeof code === "number") return code;
    options = { ...options, peerCode: code };
  }
  // A --to that is not a code is said before a big folder is walked (the walk can take seconds).
  if (!options.mailbox && options.to !== undefined) {
    const target = dialTarget(options.to, options);
    if ("problem" in target) throw new UsageError(target.problem);
  }
  if (options.text !== undefined) return runSendText(options, options.text, reporter, io);
  const stdinProblem = options.paths.includes("-") ? io.stdinProblem?.() : undefined;
  if (stdinProblem) throw new UsageError(`- (standard input) ${stdinProblem}`);
  // A big folder's walk is synchronous and can take seconds: a signal meanwhile is caught (not
  // the default end without a word), said once the walk is over, and nothing is contacted.
  // Caught until the run's own handler takes over (it stays subscribed to the end of the run);
  // every way out of here lets go of it (the finally).
  let signalled: Signal | undefined;
  const stopCatching = io.onSignal((signal) => {
    signalled ??= signal;
  });
  try {
    return await sendPlanned(options, reporter, io, () => signalled);
  } finally {
    stopCatching();
  }
}

/** runSend once the --to check is over: walks the paths, then sends what they hold. */
async function sendPlanned(
  options: SendOptions,
  reporter: StartingReporter,
  io: CliIo,
  signalled: () => Signal | undefined,
): Promise<number> {
  let plan: SendPlan;
  try {
    plan = planSends(
      options.paths.map((p) => (p === "-" ? p : expandHome(p))),
      options.streamName,
    );
  } catch (err) {
    if (!(err instanceof UnsendablePaths)) throw err;
    for (const problem of err.problems) reporter.error(problem.code, problem.message);
    if (err.problems.length < options.paths.length) reporter.note(NOTHING_SENT);
    return EXIT_TRANSFER;
  }
  // A signal that came during a folder's walk reaches its listener on a later turn of the event
  // loop. Files alone are a stat each: no turn for them, since a turn before the code line is
  // where Bun's collector runs a full collection (3-16 ms); a signal then is the run's, as one
  // that comes just after.
  if (plan.folders.length > 0) await new Promise((resolve) => setTimeout(resolve, 0));
  const signal = signalled();
  if (signal !== undefined) {
    reporter.note(`${SIGNAL_WORDS[signal]}: nothing was sent.`);
    return signalExitCode(signal);
  }
  const exposed = resumeSecretWarning(io.env);
  if (exposed) reporter.note(exposed);
  // `parley send -` typed at a terminal with nothing piped in: what is typed is the stream.
  if (plan.sends.some((send) => send.kind === "stdin") && (io.stdin as { isTTY?: boolean }).isTTY) {
    reporter.note(STDIN_IS_TERMINAL);
  }
  // Everything is handed to the session at once (it pipelines); the run ends when each
  // planned send has finished or failed.
  let settled = 0;
  const settle = (session: Session, sends = 1): void => {
    settled += sends;
    if (settled === plan.sends.length) session.exit("done");
  };
  const run = new OneShotRun(
    "send",
    options,
    reporter,
    {
      start: (session) => {
        // Said once the peer is a Parley: a plain wormhole peer's folder is zipped, and its
        // own skipped lines come with that (plain-folders.ts).
        if (plan.skipped.length > 0) reporter.skipped(plan.skipped, skippedLines(plan.skipped));
        startSends(
          session,
          plan,
          () => io.stdinBytes(),
          (err) => {
            reporter.error(err.code, err.message);
            run.record(EXIT_TRANSFER);
            settle(session);
          },
        );
      },
      settled: settle,
      allDone: () => settled === plan.sends.length,
    },
    io,
    { refuseOffers: { code: "E_SEND_ONLY", reason: "parley send takes no files" } },
  );
  return run.run(options.to, io.cwd);
}

/** `parley send --text TEXT`: one chat line, then the session ends (the receiver prints it). */
async function runSendText(options: SendOptions, text: string, reporter: StartingReporter, io: CliIo): Promise<number> {
  const { chatFits } = await import("../protocol/messages.ts");
  if (!chatFits(text)) {
    // Known before anything is contacted, as the other --text mistakes are: wrong usage (exit 1).
    throw new UsageError(
      "--text is longer than a chat line may be (64 KiB of UTF-8): send it as a file, or from standard input with parley send - --name NAME",
    );
  }
  const run = new OneShotRun(
    "send",
    options,
    reporter,
    {
      start: (session) => {
        session.sendChat(text);
        reporter.note("Text message sent.");
        session.exit("done"); // BYE goes out behind the line
      },
      settled: () => {},
      allDone: () => true,
    },
    io,
    { refuseOffers: { code: "E_SEND_ONLY", reason: "parley send takes no files" } },
  );
  return run.run(options.to, io.cwd);
}
