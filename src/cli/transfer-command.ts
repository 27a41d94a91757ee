/**
 * `parley send` and `parley receive`: one side listens, the other dials; the sender sends
 * every path one after another and waits for each verification; both exit when done, with
 * an exit code that says how it went (exit-codes.ts). Events go to a Reporter (human or JSON).
 */

import { resolve } from "node:path";
import { receiverFeatures, receivesOnly } from "../protocol/index.ts";
import type { OfferDecision, Session, SessionEvents, SessionOptions, TransferInfo } from "../session/index.ts";
import { StreamReceiver } from "../transfer/index.ts";
import { Asker, entriesEnded } from "../ui/index.ts";
import { askFor } from "./ask-offers.ts";
import { codeOnCommandLineNote } from "./codes.ts";
import type { ReceiveOptions, SendOptions } from "./command-args.ts";
import { dialTarget, PeerLink, signalExitCode } from "./connect.ts";
import { prepareDownloadDir } from "./download-dir.ts";
import { EXIT_INTEGRITY, EXIT_OK, EXIT_TRANSFER, INTEGRITY_CODES } from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { expandHome } from "./input.ts";
import { type CliIo, SIGNAL_WORDS, type Signal } from "./io.ts";
import { runWithMailbox } from "./mailbox-command.ts";
import { failureWords, resumable, resumeHint } from "./reason-words.ts";
import { makeReporter, type Reporter } from "./reporter.ts";
import { codeOutputWarning } from "./secret-files.ts";
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
import { openStreamOutput, outputStallMs, type StreamOutput, stdoutProblem } from "./stream-output.ts";

type Role = "send" | "receive";

interface RoleHooks {
  /** The session began. */
  start(session: Session): void;
  /** `sends` transfers of ours finished or failed (more than one: a folder refused whole): the sender moves on. */
  settled(session: Session, sends?: number): void;
  /** Sender: every path has been dealt with. */
  allDone?: () => boolean;
  /** A signal ends the run: called before it is said (a question on the screen ends its line). */
  interrupted?: () => void;
}

/** The parts of a send or receive run that do not depend on the direction. */
class OneShotRun {
  private session: Session | undefined;
  private worst = EXIT_OK;
  private link: PeerLink | undefined;
  /** The reason a lost connection gave the transfers it cut: their lines said it already. */
  private lostSaid: string | undefined;
  /** Received files whose place was opened (accepted): only they keep anything to resume. */
  private readonly opened = new Set<number>();

  constructor(
    private readonly role: Role,
    private readonly options: SendOptions | ReceiveOptions,
    readonly reporter: Reporter,
    private readonly hooks: RoleHooks,
    private readonly io: CliIo,
    private readonly extra: Partial<Pick<SessionOptions, "decideOffer" | "openSink" | "refuseOffers">> = {},
  ) {}

  /** Listens, or dials `peer`; resolves with the exit code. */
  async run(peer: string | undefined, downloadDir: string): Promise<number> {
    const { options, reporter } = this;
    const link = new PeerLink(
      {
        host: options.host,
        port: options.port,
        insecurePortOnly: options.insecurePortOnly,
        ...(options.peerCode === undefined ? {} : { peerCode: options.peerCode }),
        dialerRetries: false,
        session: {
          downloadDir,
          checksum: options.checksum,
          ...("limitRate" in options && options.limitRate !== undefined ? { limitRate: options.limitRate } : {}),
          ...(options.peerName === undefined ? {} : { name: options.peerName }),
          events: this.sessionEvents(),
          // A receiver's HELLO says it sends nothing (a peer that only receives too can tell), and --stdout that it keeps nothing.
          ...(this.role === "receive" ? { features: receiverFeatures((options as ReceiveOptions).stdout) } : {}),
          ...this.extra,
        },
      },
      {
        listening: (host, port, reach, code) => {
          const other = this.role === "send" ? "parley receive <code>" : "parley send <paths> --to <code>";
          reporter.listening(host, port, reach, code, `Waiting for the peer: ${other} (with the code above)`);
          // Said on stderr: nobody reads a warning inside the file that holds the code.
          const exposed = codeOutputWarning(this.io.outputStat?.("stdout" in options && options.stdout));
          if (exposed) this.io.stderr.write(`${exposed}\n`);
        },
        connected: (session) => {
          this.session = session;
          reporter.connected(session.peer.name, session.remoteAddress, session.security);
          this.hooks.start(session);
        },
        note: (line) => reporter.note(line),
        error: (code, message) => reporter.error(code, message),
        interrupted: (signal) => {
          this.hooks.interrupted?.();
          reporter.note(`${SIGNAL_WORDS[signal]}.`);
        },
      },
      this.io,
    );
    this.link = link;
    if (options.mailbox) {
      await link.ready();
      const decide = this.extra.decideOffer;
      return runWithMailbox(
        { role: this.role, options, link, reporter, cli: this.io, downloadDir, ...(decide ? { decide } : {}) },
        peer,
      );
    }
    if (peer === undefined) {
      link.listen();
    } else {
      const target = link.target(peer);
      if ("problem" in target) {
        link.finish(EXIT_OK);
        await link.exitCode;
        throw new UsageError(target.problem);
      }
      const note = codeOnCommandLineNote(peer);
      if (note) reporter.note(note);
      await link.dial(target);
    }
    return link.exitCode;
  }

  /** Records a transfer's outcome; the exit code is the worst one. */
  record(code: number): void {
    this.worst = Math.max(this.worst, code);
  }

  finish(code: number): void {
    this.link?.finish(code);
  }

  private sessionEvents(): SessionEvents {
    return {
      chatReceived: (text) => this.reporter.chat(text),
      transferStarted: (info) => {
        if (info.direction === "send") this.reporter.offered(info);
        else {
          this.opened.add(info.id);
          this.reporter.receiving(info);
        }
      },
      transferProgressed: (info, bytes) => this.reporter.progressed(info, bytes),
      transferFinished: (done) => {
        this.opened.delete(done.id);
        this.reporter.done(done);
        if (done.direction === "send" && this.session) this.hooks.settled(this.session);
      },
      transferFailed: (info, reason, code, peer) => {
        // --stdout keeps nothing of a cut file, nor does an offer still waiting for --ask's answer:
        // no resume to promise (our sender hears it from the session: info.nothingKept).
        const kept = info.direction === "send" || this.opened.delete(info.id);
        const canResume = kept && (this.role === "send" || !(this.options as ReceiveOptions).stdout);
        const hint = canResume ? resumeHint(info, code, peer) : "";
        this.reporter.failed(
          info,
          failureWords(info, reason, peer) + hint,
          code,
          canResume && resumable(info, code, peer),
        );
        if (code === "E_CONNECTION" && !peer) this.lostSaid = reason;
        // A file offered to a one-shot sender is declined: that is not the send failing.
        if (this.role === "send" && info.direction === "receive") return;
        this.record(INTEGRITY_CODES.has(code) ? EXIT_INTEGRITY : EXIT_TRANSFER);
        if (info.direction === "send" && this.session?.isActive) this.hooks.settled(this.session, entriesEnded(info));
      },
      peerLeft: (reason) => {
        // A folder that did not get every announced entry failed, whatever else went well.
        if (this.reporter.sessionEnded() > 0) this.record(EXIT_TRANSFER);
        this.reporter.bye(reason);
        // The receiver is done when the sender leaves; a sender whose receiver left early failed.
        if (this.role === "send" && !this.hooks.allDone?.()) this.record(EXIT_TRANSFER);
        this.finish(this.worst);
      },
      connectionLost: (reason) => {
        this.reporter.sessionEnded();
        // Said once: a file's failed line that gave this reason is where people read it.
        this.reporter.error("E_CONNECTION", reason, reason === this.lostSaid);
        this.finish(Math.max(this.worst, EXIT_TRANSFER));
      },
      closed: () => {
        if (this.reporter.sessionEnded() > 0) this.record(EXIT_TRANSFER);
        this.reporter.bye(this.link?.signalCode === undefined ? "done" : "interrupted");
        this.finish(this.worst);
      },
    };
  }
}

/** Said when `-` (standard input) is this terminal: a new user may have meant to pipe a file in. */
const STDIN_IS_TERMINAL =
  "Note: standard input (-) is this terminal: what you type is sent, and Ctrl-D ends it (to send a file: parley send FILE, or cmd | parley send -).";

export async function runSend(options: SendOptions, io: CliIo): Promise<number> {
  const reporter = makeReporter({ json: options.json, progress: options.progress, stdoutTaken: false }, io);
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
  reporter: Reporter,
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
async function runSendText(options: SendOptions, text: string, reporter: Reporter, io: CliIo): Promise<number> {
  const { chatFits } = await import("../protocol/index.ts");
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
  const reporter = makeReporter({ json: options.json, progress: options.progress, stdoutTaken: options.stdout }, io);
  const unfit = options.stdout && stdoutProblem(io.stdoutClosed?.() === true, io.stdout.isTTY === true);
  if (unfit) throw new UsageError(`--stdout: ${unfit}`);
  const dir = options.stdout ? io.cwd : prepareDownloadDir(resolve(io.cwd, options.dir));
  const shared = options.stdout ? undefined : await downloadDirWarning(dir);
  if (shared) reporter.warning(SHARED_DIR_CODE, shared);
  // Questions on stderr, answers from stdin, one offer at a time.
  const asker = options.ask ? new Asker(io.stdin, io.stderr) : undefined;
  if (asker) reporter.shareLinesWith(asker);
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
  };
  const run = new OneShotRun("receive", options, reporter, hooks, io, {
    decideOffer,
    // --stdout: the file's bytes are written to fd 1 itself (writeSync, no copy into a stream's
    // queue: the speed of `receive --stdout > file`), not to io.stdout; with another io (a test
    // in-process) they still go to the real standard output. Everything else printed goes to
    // stderr then (stdoutTaken), so nothing interleaves with the file.
    // A pipe is written through a non-blocking descriptor of our own (stream-output.ts).
    ...(options.stdout
      ? {
          openSink: (offer: TransferInfo, algo) => {
            output ??= openStreamOutput();
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
