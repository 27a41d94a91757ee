/**
 * `parley send` and `parley receive`: one side listens, the other dials; the sender sends
 * every path one after another and waits for each verification; both exit when done, with
 * an exit code that says how it went (exit-codes.ts). Events go to a Reporter (human or JSON).
 */

import { receiverFeatures, receivesOnly } from "../protocol/features.ts";
import type { OfferDecision, Session, TransferInfo } from "../session/index.ts";
import type * as StreamReceiverModule from "../transfer/stream-receiver.ts";
import type * as AskerModule from "../ui/asker.ts";
import type { Asker } from "../ui/asker.ts";
import type * as AskOffers from "./ask-offers.ts";
import type { ReceiveOptions, SendOptions } from "./command-args.ts";
import { dialTarget, signalExitCode } from "./connect.ts";
import { absolutePath, prepareDownloadDir } from "./download-dir.ts";
import { EXIT_TRANSFER } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { expandHome } from "./input.ts";
import { type CliIo, SIGNAL_WORDS, type Signal } from "./io.ts";
import { OneShotRun, type RoleHooks } from "./one-shot-run.ts";
import {
  NOTHING_SENT,
  planSends,
  resumeSecretWarning,
  type SendPlan,
  skippedLines,
  startSends,
  UnsendablePaths,
} from "./send-plan.ts";
import { downloadDirWarning, SHARED_DIR_CODE } from "./shared-dir.ts";
import { StartingReporter } from "./starting-reporter.ts";
import type * as StreamOutputModule from "./stream-output.ts";
import type { StreamOutput } from "./stream-output.ts";

/** --stdout's checks and output (node:fs), loaded only for --stdout. */
function streamOutput(): typeof StreamOutputModule {
  return require("./stream-output.ts") as typeof StreamOutputModule;
}

/** Said when `-` (standard input) is this terminal: a new user may have meant to pipe a file in. */
const STDIN_IS_TERMINAL =
  "Note: standard input (-) is this terminal: what you type is sent, and Ctrl-D ends it (to send a file: parley send FILE, or cmd | parley send -).";

export async function runSend(options: SendOptions, io: CliIo): Promise<number> {
  const reporter = new StartingReporter({ json: options.json, progress: options.progress, stdoutTaken: false }, io);
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
  // A signal that came during the walk reaches its listener on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const signal = signalled();
  if (signal !== undefined) {
    reporter.note(`${SIGNAL_WORDS[signal]}: nothing was sent.`);
    return signalExitCode(signal);
  }
  const exposed = resumeSecretWarning();
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
    if (settled === plan.sends.length) session.exit();
  };
  const run = new OneShotRun(
    "send",
    options,
    reporter,
    {
      start: (session) => {
        // Said once the peer is a Parley: a plain wormhole peer's folder is zipped, and its
        // own skipped lines come with that (plain-folders.ts).
        for (const line of skippedLines(plan.skipped)) reporter.note(line);
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
        session.exit(); // BYE goes out behind the line
      },
      settled: () => {},
      allDone: () => true,
    },
    io,
    { refuseOffers: { code: "E_SEND_ONLY", reason: "parley send takes no files" } },
  );
  return run.run(options.to, io.cwd);
}

const BOTH_RECEIVING =
  "the peer is receiving too (parley receive): nothing will come; run parley send on one side (with the code)";

export async function runReceive(options: ReceiveOptions, io: CliIo): Promise<number> {
  const reporter = new StartingReporter(
    { json: options.json, progress: options.progress, stdoutTaken: options.stdout },
    io,
  );
  const unfit = options.stdout && streamOutput().stdoutProblem(io.stdoutClosed?.() === true, io.stdout.isTTY === true);
  if (unfit) throw new UsageError(`--stdout: ${unfit}`);
  const dir = options.stdout ? io.cwd : prepareDownloadDir(absolutePath(options.dir, io.cwd));
  const shared = options.stdout ? undefined : await downloadDirWarning(dir);
  if (shared) reporter.warning(SHARED_DIR_CODE, shared);
  // Questions on stderr, answers from stdin, one offer at a time: made once the code is shown
  // (hooks.loaded), before any offer can come.
  let asker: Asker | undefined;
  const folderAnswers = new Map<number, Promise<boolean>>();
  let streamed = false;
  let output: StreamOutput | undefined;
  const decideOffer = async (offer: TransferInfo, stillWanted: () => boolean): Promise<OfferDecision> => {
    // JSON readers get the offer as an event at once; a person sees "Receiving" only after a yes.
    const announceNow = !asker || options.json;
    if (announceNow) reporter.offered(offer);
    if (options.stdout && offer.folder) {
      return { code: "E_STDOUT_FOLDER", reason: "--stdout takes one file, not a folder" };
    }
    if (options.stdout && streamed) return { code: "E_STDOUT_ONE_FILE", reason: "--stdout takes one file" };
    if (asker) {
      const { askFor } = require("./ask-offers.ts") as typeof AskOffers;
      const yes = await askFor(asker, offer, stillWanted, folderAnswers);
      if (!yes) {
        // The peer hears which: a closed terminal (or < /dev/null) is not a no.
        if (asker.inputEnded) return { code: "E_NO_ANSWER", reason: "nobody answered (the receiver's input ended)" };
        return "the receiver said no";
      }
      if (!announceNow) reporter.offered(offer);
    }
    if (options.stdout) streamed = true;
    return true;
  };
  const hooks: RoleHooks = {
    start(session) {
      // Two receivers (the other side meant to run parley send): nothing would ever come, and
      // both would wait in silence. Both say so and leave.
      if (!receivesOnly(session.peer)) return;
      reporter.error("E_BOTH_RECEIVING", BOTH_RECEIVING);
      run.record(EXIT_TRANSFER);
      session.exit();
    },
    settled() {},
    interrupted: () => asker?.endLine(),
    loaded: () => {
      if (!options.ask) return;
      const { Asker } = require("../ui/asker.ts") as typeof AskerModule;
      asker = new Asker(io.stdin, io.stderr);
      reporter.shareLinesWith(asker);
    },
  };
  const run = new OneShotRun("receive", options, reporter, hooks, io, {
    decideOffer,
    // A receiver's HELLO says it sends nothing (a peer that only receives too can tell), and --stdout that it keeps nothing.
    features: receiverFeatures(options.stdout),
    // --stdout: the file's bytes are written to fd 1 itself (writeSync, no copy into a stream's
    // queue: the speed of `receive --stdout > file`), not to io.stdout; with another io (a test
    // in-process) they still go to the real standard output. Everything else printed goes to
    // stderr then (stdoutTaken), so nothing interleaves with the file.
    // A pipe is written through a non-blocking descriptor of our own (stream-output.ts).
    ...(options.stdout
      ? {
          openSink: (offer: TransferInfo, algo) => {
            const { openStreamOutput, outputStallMs } = streamOutput();
            output ??= openStreamOutput();
            const { StreamReceiver } = require("../transfer/stream-receiver.ts") as typeof StreamReceiverModule;
            return new StreamReceiver(output.fd, offer.name, offer.size, algo, outputStallMs(io.env));
          },
        }
      : {}),
  });
  try {
    return await run.run(options.peer, dir);
  } finally {
    asker?.close();
    output?.close();
  }
}
