/**
 * `parley receive`: checks its download folder (or --stdout), then listens or dials as `parley
 * send` does (one-shot-run.ts); decides each offer (--ask: asks), stores what comes, and exits
 * when the sender leaves, with an exit code that says how it went (exit-codes.ts). The path to
 * the code line stays light (no send plan, no session layer): see one-shot-run.ts.
 */

import { receiverFeatures, receivesOnly } from "../protocol/features.ts";
import type { OfferDecision, TransferInfo } from "../session/index.ts";
import type * as StreamReceiverModule from "../transfer/stream-receiver.ts";
import type * as AskerModule from "../ui/asker.ts";
import type { Asker } from "../ui/asker.ts";
import type * as AskOffers from "./ask-offers.ts";
import type * as CodePrompt from "./code-prompt.ts";
import type { ReceiveOptions } from "./command-args.ts";
import { absolutePath, prepareDownloadDir } from "./download-dir.ts";
import { EXIT_TRANSFER } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { type CliIo, samePlace } from "./io.ts";
import { OneShotRun, type RoleHooks } from "./one-shot-run.ts";
import { downloadDirWarning, SHARED_DIR_CODE } from "./shared-dir.ts";
import { StartingReporter } from "./starting-reporter.ts";
import type * as StreamOutputModule from "./stream-output.ts";
import type { StreamOutput } from "./stream-output.ts";
import { textLine } from "./text-line.ts";

/** --stdout's checks and output (node:fs), loaded only for --stdout. */
function streamOutput(): typeof StreamOutputModule {
  return require("./stream-output.ts") as typeof StreamOutputModule;
}

const BOTH_RECEIVING =
  "the peer is receiving too (parley receive): nothing will come; run parley send on one side (with the code)";

export async function runReceive(given: ReceiveOptions, io: CliIo): Promise<number> {
  let options = given;
  const reporter = new StartingReporter(
    { json: options.json, progress: options.progress, stdoutTaken: options.stdout },
    io,
  );
  const unfit = options.stdout && streamOutput().stdoutProblem(io.stdoutClosed?.() === true, io.stdout.isTTY === true);
  if (unfit) throw new UsageError(`--stdout: ${unfit}`);
  const dir = options.stdout ? io.cwd : prepareDownloadDir(absolutePath(options.dir, io.cwd));
  // `receive 40123` (a port alone: a code ends with its words) at a terminal: the code is asked
  // for (code-prompt.ts), once the download folder is known to be usable.
  if (options.peer !== undefined && /\d$/.test(options.peer.trim())) {
    const prompt = require("./code-prompt.ts") as typeof CodePrompt;
    if (prompt.asksForCode(options.peer, options, io)) {
      const code = await prompt.askCode("receive", options.peer, options, io, reporter);
      if (typeof code === "number") return code;
      options = { ...options, peerCode: code };
    }
  }
  const shared = options.stdout ? undefined : await downloadDirWarning(dir);
  if (shared) reporter.warning(SHARED_DIR_CODE, shared);
  // Questions on stderr, answers from stdin, one offer at a time: made once the code is shown
  // (hooks.loaded), before any offer can come.
  let asker: Asker | undefined;
  const folderAnswers = new Map<number, Promise<boolean>>();
  /** Offers --ask declined without a question (the input had ended before); made with the asker. */
  let unasked: AskOffers.DeclinedUnasked | undefined;
  /** --stdout holds what the peer sent first: its one file, or its text message. */
  let streamed = false;
  let output: StreamOutput | undefined;
  const decideOffer = async (offer: TransferInfo, stillWanted: () => boolean): Promise<OfferDecision> => {
    // JSON readers get the offer as an event at once; a person sees "Receiving" only after a yes.
    const announceNow = !asker || options.json;
    if (announceNow) reporter.offered(offer);
    if (options.stdout && offer.folder) {
      return { code: "E_STDOUT_FOLDER", reason: "--stdout takes one file, not a folder" };
    }
    if (options.stdout && streamed) {
      return { code: "E_STDOUT_ONE_FILE", reason: "--stdout takes one file or text message, and has one already" };
    }
    if (asker) {
      const { askFor } = require("./ask-offers.ts") as typeof AskOffers;
      const yes = await askFor(asker, offer, stillWanted, folderAnswers, () => unasked?.add(offer));
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
    // `parley send --text` to `receive --stdout`: the text is the output, as a plain wormhole
    // sender's is (mailbox-command.ts); it went to stderr as '<peer> TEXT' and stdout stayed empty.
    // Only what comes first: after a file (or a text) there, more text is a line on stderr.
    text: (text) => {
      if (!options.stdout || streamed) return false;
      streamed = true;
      io.stdout.write(textLine(text));
      return true;
    },
    interrupted: () => asker?.endLine(),
    unasked: (info) => unasked?.take(info) ?? false,
    loaded: () => {
      if (!options.ask) return;
      const { Asker } = require("../ui/asker.ts") as typeof AskerModule;
      // Loaded now, not while the first offer waits for its question.
      unasked = new (require("./ask-offers.ts") as typeof AskOffers).DeclinedUnasked();
      const [input, out, err] = [io.inputStat?.(), io.outputStat?.(false), io.outputStat?.(true)];
      // Answers typed at another terminal than the questions' (2>/dev/pts/5) are echoed after them, as piped ones.
      const typedThere = input && err && (io.stdin as { isTTY?: boolean }).isTTY ? samePlace(input, err) : undefined;
      asker = new Asker(io.stdin, io.stderr, typedThere);
      reporter.shareLinesWith(asker, out && err ? samePlace(out, err) : undefined);
    },
  };
  const run = new OneShotRun("receive", options, reporter, hooks, io, {
    decideOffer,
    // A receiver's HELLO says it sends nothing (a peer that only receives too can tell), --stdout
    // that it keeps nothing, and --ask that it asks first (its sender says what its offers wait for).
    features: receiverFeatures(options.stdout, options.ask),
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
