/**
 * `parley send` and `parley receive`: one side listens, the other dials; the sender sends
 * every path one after another and waits for each verification; both exit when done, with
 * an exit code that says how it went (exit-codes.ts). Events go to a Reporter (human or JSON).
 */

import { createInterface, type Interface } from "node:readline";
import { randomCodeWords } from "../crypto/index.ts";
import { dial, type Listener, listen, NetError } from "../net/index.ts";
import {
  MAX_WRONG_CODES,
  type OfferDecision,
  Rendezvous,
  type Session,
  type SessionEvents,
  type TransferInfo,
} from "../session/index.ts";
import { StreamReceiver, TransferError } from "../transfer/index.ts";
import { formatBytes, sanitizeForTerminal } from "../ui/index.ts";
import { connectionCode, dialWords, WHOLE_CODE_NEEDED } from "./codes.ts";
import type { ReceiveOptions, SendOptions } from "./command-args.ts";
import { prepareDownloadDir } from "./download-dir.ts";
import { DropLines } from "./drop-lines.ts";
import {
  EXIT_CONNECTION,
  EXIT_INTEGRITY,
  EXIT_OK,
  EXIT_SIGINT,
  EXIT_SIGTERM,
  EXIT_TRANSFER,
  INTEGRITY_CODES,
} from "./exit-codes.ts";
import { UsageError } from "./flags.ts";
import { expandHome, parsePeerAddress } from "./input.ts";
import { dialHostFor, listenerReach } from "./listening.ts";

import { failureWords } from "./reason-words.ts";
import { makeReporter, type Reporter } from "./reporter.ts";
import { planSends, type SendPlan, startSends } from "./send-plan.ts";

type Role = "send" | "receive";

interface RoleHooks {
  /** The session began. */
  start(session: Session): void;
  /** A transfer of ours finished or failed: the sender moves on. */
  settled(session: Session): void;
  /** Sender: every path has been dealt with. */
  allDone?: () => boolean;
}

/** The parts of a send or receive run that do not depend on the direction. */
class OneShotRun {
  private session: Session | undefined;
  private listener: Listener | undefined;
  private worst = EXIT_OK;
  private finishing = false;
  private pendingSignalCode: number | undefined;
  /** The words of our code, when we listen. */
  private readonly codeWords = randomCodeWords();
  private readonly drops = new DropLines((line) => this.reporter.note(line));
  private resolveExit: (code: number) => void = () => {};
  readonly exitCode = new Promise<number>((resolve) => {
    this.resolveExit = resolve;
  });

  constructor(
    private readonly role: Role,
    private readonly options: SendOptions | ReceiveOptions,
    readonly reporter: Reporter,
    private readonly hooks: RoleHooks,
    private readonly extra: Partial<ConstructorParameters<typeof Rendezvous>[0]> = {},
  ) {}

  /** Listens, or dials `peer`; resolves with the exit code. */
  async run(peer: string | undefined, downloadDir: string): Promise<number> {
    const rendezvous = new Rendezvous({
      downloadDir,
      checksum: this.options.checksum,
      ...("limitRate" in this.options && this.options.limitRate !== undefined
        ? { limitRate: this.options.limitRate }
        : {}),
      ...(this.options.peerName === undefined ? {} : { name: this.options.peerName }),
      events: this.sessionEvents(),
      rendezvousEvents: {
        connected: (session) => {
          this.session = session;
          this.listener?.stop();
          this.reporter.connected(session.peer.name, session.remoteAddress, session.security);
          this.hooks.start(session);
        },
        dropped: (address, reason) => this.drops.dropped(address, reason),
        wrongCode: (address, side, attempts) => {
          if (side === "dialer") {
            this.reporter.error("E_WRONG_CODE", "wrong code: the peer did not accept it");
            return this.finish(EXIT_CONNECTION);
          }
          this.reporter.note(`Wrong code from ${address} (${attempts} of ${MAX_WRONG_CODES}).`);
          if (attempts >= MAX_WRONG_CODES && !this.session) {
            this.reporter.error("E_WRONG_CODE", `${MAX_WRONG_CODES} wrong codes: stopped listening`);
            this.finish(EXIT_CONNECTION);
          }
        },
      },
      codeWords: this.codeWords,
      allowPortOnly: this.options.insecurePortOnly,
      ...this.extra,
    });
    const onSigint = (): void => this.onSignal(EXIT_SIGINT, "interrupted");
    const onSigterm = (): void => this.onSignal(EXIT_SIGTERM, "terminated");
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    try {
      if (peer === undefined) this.listenFor(rendezvous);
      else await this.dialTo(rendezvous, peer);
      return await this.exitCode;
    } finally {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
      this.listener?.stop();
    }
  }

  /** Records a transfer's outcome; the exit code is the worst one. */
  record(code: number): void {
    this.worst = Math.max(this.worst, code);
  }

  finish(code: number): void {
    if (this.finishing) return;
    this.finishing = true;
    this.drops.close();
    this.resolveExit(this.pendingSignalCode ?? code);
  }

  private listenFor(rendezvous: Rendezvous): void {
    try {
      this.listener = listen(this.options.host, this.options.port, (conn) => rendezvous.accepted(conn));
    } catch (err) {
      if (!(err instanceof NetError)) throw err;
      this.reporter.error(err.code, err.message);
      return this.finish(EXIT_CONNECTION);
    }
    const { hostname, port } = this.listener;
    const reach = listenerReach(this.options.host, port);
    const code = connectionCode(this.options.host, port, this.codeWords, reach);
    const other =
      this.role === "send" ? "PARLEY_CODE=<code> parley receive" : "PARLEY_CODE=<code> parley send <paths> --to";
    this.reporter.listening(hostname, port, reach, code, `Waiting for the peer: ${other} ${port}`);
  }

  private async dialTo(rendezvous: Rendezvous, peerText: string): Promise<void> {
    const defaultHost = dialHostFor(this.options.host);
    const address = parsePeerAddress(peerText, defaultHost);
    if (typeof address === "string") throw new UsageError(address);
    const words = dialWords(address.words, this.options.peerCode, this.options.insecurePortOnly);
    if (words === undefined) throw new UsageError(`${peerText} is only a port: ${WHOLE_CODE_NEEDED}`);
    const handshake = rendezvous.dialStarted(words);
    try {
      const conn = await dial(address.host, address.port);
      await handshake(conn);
    } catch (err) {
      await handshake(undefined);
      if (!(err instanceof NetError)) throw err;
      this.reporter.error(err.code, err.message);
      return this.finish(EXIT_CONNECTION);
    }
    if (!this.session && !this.finishing) {
      this.reporter.error("E_CONNECT", `no Parley session with ${peerText}`);
      this.finish(EXIT_CONNECTION);
    }
  }

  private onSignal(code: number, reason: string): void {
    this.reporter.note(reason === "interrupted" ? "Interrupted (Ctrl-C)." : "Terminated (SIGTERM).");
    this.pendingSignalCode = code;
    if (this.session?.isActive) this.session.abort(reason);
    else this.finish(code);
  }

  private sessionEvents(): SessionEvents {
    return {
      chatReceived: (text) => this.reporter.chat(text),
      transferStarted: (info) => {
        if (info.direction === "send") this.reporter.offered(info);
      },
      transferProgressed: (info, bytes) => this.reporter.progressed(info, bytes),
      transferFinished: (done) => {
        this.reporter.done(done);
        if (done.direction === "send" && this.session) this.hooks.settled(this.session);
      },
      transferFailed: (info, reason, code, peer) => {
        this.reporter.failed(info, failureWords(info, reason, peer), code);
        this.record(INTEGRITY_CODES.has(code) ? EXIT_INTEGRITY : EXIT_TRANSFER);
        if (info.direction === "send" && this.session?.isActive) this.hooks.settled(this.session);
      },
      peerLeft: (reason) => {
        this.reporter.bye(reason);
        // The receiver is done when the sender leaves; a sender whose receiver left early failed.
        if (this.role === "send" && !this.hooks.allDone?.()) this.record(EXIT_TRANSFER);
        this.finish(this.worst);
      },
      connectionLost: (reason) => {
        this.reporter.error("E_CONNECTION", reason);
        this.finish(Math.max(this.worst, EXIT_TRANSFER));
      },
      closed: () => {
        this.reporter.bye(this.pendingSignalCode === undefined ? "done" : "interrupted");
        this.finish(this.worst);
      },
    };
  }
}

export async function runSend(options: SendOptions): Promise<number> {
  const reporter = makeReporter({ json: options.json, progress: options.progress, stdoutTaken: false });
  let plan: SendPlan;
  try {
    plan = planSends(
      options.paths.map((p) => (p === "-" ? p : expandHome(p))),
      options.streamName,
    );
  } catch (err) {
    if (!(err instanceof TransferError)) throw err;
    reporter.error(err.code, err.message);
    return EXIT_TRANSFER;
  }
  for (const rel of plan.skipped) reporter.note(`Skipped ${rel}: not a regular file (links are not followed).`);
  // Everything is handed to the session at once (it pipelines); the run ends when each
  // planned send has finished or failed.
  let settled = 0;
  const settle = (session: Session): void => {
    settled++;
    if (settled === plan.sends.length) session.exit();
  };
  const run = new OneShotRun("send", options, reporter, {
    start: (session) =>
      startSends(
        session,
        plan,
        () => Bun.stdin.stream(),
        (err) => {
          reporter.error(err.code, err.message);
          run.record(EXIT_TRANSFER);
          settle(session);
        },
      ),
    settled: settle,
    allDone: () => settled === plan.sends.length,
  });
  return run.run(options.to, process.cwd());
}

export async function runReceive(options: ReceiveOptions): Promise<number> {
  const reporter = makeReporter({ json: options.json, progress: options.progress, stdoutTaken: options.stdout });
  const dir = options.stdout ? process.cwd() : prepareDownloadDir(options.dir);
  const asker = options.ask ? new Asker() : undefined;
  let streamed = false;
  const decideOffer = async (offer: TransferInfo): Promise<OfferDecision> => {
    reporter.offered(offer);
    if (options.stdout && offer.folder)
      return { code: "E_STDOUT_FOLDER", reason: "--stdout takes one file, not a folder" };
    if (options.stdout && streamed) return { code: "E_STDOUT_ONE_FILE", reason: "--stdout takes one file" };
    if (asker) {
      const size = offer.size === null ? "size unknown" : formatBytes(offer.size);
      const yes = await asker.ask(`Accept ${sanitizeForTerminal(offer.name)} (${size})? [y/N] `);
      if (!yes) return "the receiver said no";
    }
    if (options.stdout) streamed = true;
    return true;
  };
  const run = new OneShotRun(
    "receive",
    options,
    reporter,
    { start() {}, settled() {} },
    {
      decideOffer,
      ...(options.stdout
        ? { openSink: (offer: TransferInfo, algo) => new StreamReceiver(1, offer.name, offer.size, algo) }
        : {}),
    },
  );
  try {
    return await run.run(options.peer, dir);
  } finally {
    asker?.close();
  }
}

/** Asks y/n questions on stderr and reads the answers from stdin, one line each. */
class Asker {
  private rl: Interface | undefined;
  private readonly waiting: Array<(answer: string) => void> = [];
  private readonly answers: string[] = [];
  private ended = false;

  ask(question: string): Promise<boolean> {
    process.stderr.write(question);
    this.rl ??= this.open();
    return new Promise<string>((resolve) => {
      const answer = this.answers.shift();
      if (answer !== undefined) resolve(answer);
      else if (this.ended) resolve("");
      else this.waiting.push(resolve);
    }).then((a) => /^\s*y(es)?\s*$/i.test(a));
  }

  close(): void {
    this.rl?.close();
  }

  private open(): Interface {
    const rl = createInterface({ input: process.stdin, terminal: false });
    rl.on("line", (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.answers.push(line);
    });
    rl.on("close", () => {
      this.ended = true;
      for (const w of this.waiting.splice(0)) w("");
    });
    return rl;
  }
}
