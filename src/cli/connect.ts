/**
 * One way to reach the peer, for every command: listen (and show the code) or dial a code,
 * run the rendezvous (its events, dropped connections and the wrong-code policy:
 * link-events.ts), turn signals into a polite end of the session, and resolve one exit code.
 * Commands supply the words (LinkOutput) and the session events; chat and the one-shot
 * commands differ only there and in `dialerRetries`.
 *
 * Start-up: the listener is bound and the code shown before the session layer (the rendezvous,
 * the transfers, the PAKE) is loaded; it loads right after, and a connection accepted meanwhile
 * waits for it (the connection keeps its bytes until it is handed on).
 */

import { randomCodeWords } from "../crypto/codes.ts";
import type { SocketConnection } from "../net/connection.ts";
import { dial, formatAddress, type Listener, listen } from "../net/endpoints.ts";
import { NetError } from "../net/errors.ts";
import type { MetPath, Rendezvous, RendezvousOptions, Session } from "../session/index.ts";
import { connectionCode } from "./codes.ts";
import { type DialOptions, type DialTarget, dialTarget, type TargetProblem } from "./dial-target.ts";
import { EXIT_CONNECTION, EXIT_OUTPUT_FAILED, SIGNAL_ENDS } from "./exit-codes.ts";
import type { CliIo, Signal } from "./io.ts";
import type { LinkEvents } from "./link-events.ts";
import { listenerReach } from "./listening.ts";
import { OUTPUT_FAILED_REASON, outputFailedLine } from "./output-failure.ts";
import type { WarmUp } from "./warm-up.ts";

/** What the command prints for the link's events (wording stays with the command). */
export interface LinkOutput {
  listening(host: string, port: number, reachableAt: readonly string[], code: string): void;
  /** The session began; `via`: the mailbox flow's path to the peer (RendezvousEvents.connected). */
  connected(session: Session, via?: MetPath): void;
  /** A one-line notice (dropped connections, wrong codes at our listener). */
  note(line: string): void;
  /** A failure with a stable code (E_CONNECT_REFUSED, E_WRONG_CODE, ...). */
  error(code: string, message: string): void;
  /** A signal arrived; `active`: a session is open and will be told. */
  interrupted(signal: Signal, active: boolean): void;
}

export interface LinkOptions extends DialOptions {
  readonly port: number;
  /** A failed dial or a wrong code as the dialer: true (chat) lets the user try again; false ends the run. */
  readonly dialerRetries: boolean;
  /**
   * The warm-up's first pass at once (warm-up.ts FIRST_PASS_BYTES): the chat, whose lines are
   * typed while transfers run. Not send/receive: no lines, and a script's meeting through the
   * mailbox waited for it (time to connected +25 ms).
   */
  readonly warmFirstPass?: boolean;
  /**
   * The command's own code that only a session needs, loaded with the session layer after
   * the code is shown: no connection is handed on, and no session event comes, before it has.
   */
  readonly loadWithSession?: () => Promise<void>;
  /** Everything the Rendezvous needs besides what the link owns. */
  readonly session: Omit<RendezvousOptions, "rendezvousEvents" | "codeWords" | "allowPortOnly">;
}

/** How a dial ended. */
export type DialOutcome = "session" | "failed" | "invalid";

export class PeerLink {
  /** The words of our code: the password a dialer must know. */
  readonly codeWords = randomCodeWords();
  private loadedRendezvous: Rendezvous | undefined;
  private loadingRendezvous: Promise<Rendezvous> | undefined;
  private listener: Listener | undefined;
  /** What the link does with the rendezvous' events (link-events.ts): made with it, after the code is shown. */
  private events: LinkEvents | undefined;
  private session: Session | undefined;
  /** Why the last dialed connection was dropped (said once, by dial()). */
  private dialFailure: string | undefined;
  private finishing = false;
  private pendingSignalCode: number | undefined;
  /** EXIT_OUTPUT_FAILED once standard output failed (outputFailed). */
  private outputFailure: number | undefined;
  /** The connection dial() is running a handshake on: cut when the run ends meanwhile. */
  private handshaking: SocketConnection | undefined;
  /** What the peer hears when the run ended by a signal (SIGNAL_ENDS' reason). */
  private endReason: string | undefined;
  private readonly unsubscribe: () => void;
  /** The record path's warm-up, while it runs (warm-up.ts): stopped once a peer is met, or the run ends. */
  private warmUp: WarmUp | undefined;
  /** A peer was met (peerMet): the warm-up no longer starts. */
  private met = false;
  /** The mailbox flow's code line once it is to come (codeComing): resolves with when it was shown. */
  private codeLine: PromiseWithResolvers<number> | undefined;
  private resolveExit: (code: number) => void = () => {};
  private exited = false;
  /** Resolves once with the exit code. */
  readonly exitCode = new Promise<number>((resolve) => {
    this.resolveExit = (code) => {
      this.exited = true;
      resolve(code);
    };
  });

  constructor(
    private readonly options: LinkOptions,
    private readonly output: LinkOutput,
    private readonly io: CliIo,
    /** Runs before the exit code resolves (a terminal to close). */
    private readonly beforeExit: () => Promise<void> = async () => {},
  ) {
    this.unsubscribe = io.onSignal((signal) => this.signal(signal));
  }

  /** The rendezvous; only once `ready()` has resolved. */
  get rendezvous(): Rendezvous {
    if (!this.loadedRendezvous) throw new Error("PeerLink.ready() must finish before the rendezvous is used");
    return this.loadedRendezvous;
  }

  /**
   * Loads the session layer and the command's `loadWithSession` (once) and makes the
   * rendezvous; listen() starts it once the code is shown. The native code a transfer's first
   * bytes need loads on a later turn (preload.ts).
   */
  ready(): Promise<Rendezvous> {
    this.loadingRendezvous ??= this.load();
    return this.loadingRendezvous;
  }

  private async load(): Promise<Rendezvous> {
    const [{ Rendezvous: RendezvousClass }, { LinkEvents: LinkEventsClass }, { applyEnvSettings }] = await Promise.all([
      import("../session/rendezvous.ts"),
      import("./link-events.ts"),
      import("./env-settings.ts"),
      this.options.loadWithSession?.(),
    ]);
    // Before the first record, digest or token (the preload and warm-up below come after).
    applyEnvSettings(this.io.env);
    setImmediate(() => void this.preloadAndWarmUp());
    return this.makeRendezvous(RendezvousClass, LinkEventsClass);
  }

  /**
   * The native code a session needs, then (unless turned off) the record path warmed (warm-up.ts):
   * a first pass at once (warmFirstPass), the whole warm-up WARM_UP_DELAY_MS after the code is
   * shown; each only while no peer has been met (peerMet). The direct flow shows its code before
   * this load, so the delay counts from the load; the mailbox flow's code comes a round trip or
   * more after it (codeComing, codeShown): the delay waits for that line and counts from it.
   */
  private async preloadAndWarmUp(): Promise<void> {
    const loadedAt = performance.now();
    await import("../session/preload.ts").then((p) => p.preloadSessionCode());
    const { startWarmUp, FIRST_PASS_BYTES, WARM_UP_DELAY_MS, warmUpWanted } = await import("./warm-up.ts");
    if (!warmUpWanted()) return;
    if (this.options.warmFirstPass && !this.finishing && !this.met) {
      this.warmUp = startWarmUp(FIRST_PASS_BYTES);
      await this.warmUp.done;
    }
    for (;;) {
      const from = this.codeLine ? await this.codeLine.promise : loadedAt;
      const left = from + WARM_UP_DELAY_MS - performance.now();
      if (left <= 0) break;
      // Unref'd: a run that ends meanwhile does not wait for it.
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)).unref());
    }
    if (this.finishing || this.met) return;
    this.warmUp = startWarmUp();
  }

  /** The mailbox flow is getting a code to show: the warm-up waits for its line (preloadAndWarmUp). */
  codeComing(): void {
    this.codeLine ??= Promise.withResolvers<number>();
  }

  /** The mailbox flow's code line is out: the warm-up's delay counts from it. */
  codeShown(): void {
    this.codeLine?.resolve(performance.now());
  }

  /**
   * A peer is here and its work begins: a Parley session (the rendezvous' `connected`), or a
   * plain wormhole client met through the mailbox (its one transfer, no Session). The warm-up
   * stops, or never starts: the cores belong to the peer's work now.
   */
  peerMet(): void {
    this.met = true;
    this.warmUp?.stop();
  }

  private makeRendezvous(RendezvousClass: typeof Rendezvous, LinkEventsClass: typeof LinkEvents): Rendezvous {
    const { options, output } = this;
    this.events = new LinkEventsClass({
      note: (line) => output.note(line),
      error: (code, message) => output.error(code, message),
      dialerRetries: options.dialerRetries,
      hasSession: () => this.session !== undefined,
      began: (session, via) => this.began(session, via),
      dialDropped: (words) => {
        this.dialFailure = words;
      },
      stopListening: () => this.stopListening(),
      finish: (code) => this.finish(code),
    });
    this.loadedRendezvous = new RendezvousClass({
      ...options.session,
      ...firstHelloFromEnv(process.env),
      codeWords: this.codeWords,
      allowPortOnly: options.insecurePortOnly,
      rendezvousEvents: this.events,
    });
    return this.loadedRendezvous;
  }

  /** The rendezvous' session began: the link's, unless the run ended meanwhile. */
  private began(session: Session, via?: MetPath): void {
    if (this.finishing) {
      // The run ended (a signal) while this handshake was under way: the peer is told
      // why, and nothing starts (no "Connected" after "Interrupted", no offers).
      session.abort(this.endReason ?? "leaving");
      return;
    }
    this.session = session;
    this.listener?.stop();
    this.peerMet(); // the peer's work comes first
    this.output.connected(session, via);
  }

  get current(): Session | undefined {
    return this.session;
  }

  get finished(): boolean {
    return this.finishing;
  }

  /** Starts listening and shows the code; false (and the run ends with 2) when the port cannot be had. */
  listen(): boolean {
    try {
      this.listener = listen(this.options.host, this.options.port, (conn) => this.accepted(conn));
    } catch (err) {
      if (!(err instanceof NetError)) throw err;
      this.output.error(err.code, err.message);
      this.finish(EXIT_CONNECTION);
      return false;
    }
    const { hostname, port } = this.listener;
    const reach = listenerReach(this.options.host, port);
    this.output.listening(hostname, port, reach, connectionCode(this.options.host, port, this.codeWords, reach));
    void this.ready();
    return true;
  }

  private accepted(conn: SocketConnection): void {
    if (this.loadedRendezvous) this.loadedRendezvous.accepted(conn);
    else void this.ready().then((rendezvous) => rendezvous.accepted(conn));
  }

  /** Where a typed code points (see dialTarget). */
  target(text: string): DialTarget | TargetProblem {
    return dialTarget(text, this.options);
  }

  /** `target` is this link's own code (its port and words): the code to give the peer, not to dial. */
  isOwnCode(target: DialTarget): boolean {
    return this.listener !== undefined && target.port === this.listener.port && target.words === this.codeWords;
  }

  /**
   * Dials the peer and runs the handshake; resolves when the connection became the session or
   * did not. A failed dial says "could not connect to HOST:PORT: reason" (lower case, as every
   * error message: after "Error: ", or a sentence of the chat's own that capitalises it).
   */
  async dial(target: DialTarget): Promise<DialOutcome> {
    // The PAKE code first: once connected, a listener under a flood of half handshakes gives
    // each only the time the real peer needs to answer at once.
    const rendezvous = await this.ready();
    await (await import("../crypto/key-schedule.ts")).loadPake();
    // Ended meanwhile (Ctrl-C while the session code loaded): nobody is dialed.
    if (this.finishing) return "failed";
    const handshake = rendezvous.dialStarted(target.words);
    const where = formatAddress(target.host, target.port);
    this.dialFailure = undefined;
    let code = "E_CONNECT";
    try {
      const conn = await dial(target.host, target.port);
      if (this.finishing) {
        // Ended while the connection was being made: no handshake is begun on it.
        conn.destroy();
        await handshake(undefined);
        return "failed";
      }
      this.handshaking = conn;
      await handshake(conn);
    } catch (err) {
      this.handshaking = undefined;
      await handshake(undefined);
      if (!(err instanceof NetError)) throw err;
      code = err.code;
      this.dialFailure = err.code === "E_CONNECT_REFUSED" ? "connection refused" : err.message.replace(/^.*?: /, "");
    }
    this.handshaking = undefined;
    if (this.session) return "session";
    if (this.finishing) return "failed";
    // A wrong code was said already (LinkEvents.wrongCode); anything else is said here, once.
    if (this.dialFailure !== undefined) this.output.error(code, `could not connect to ${where}: ${this.dialFailure}`);
    if (!this.options.dialerRetries) this.finish(EXIT_CONNECTION);
    return "failed";
  }

  stopListening(): void {
    this.listener?.stop();
  }

  /** SIGINT/SIGTERM/SIGHUP (or Ctrl-C at a terminal): tell the peer and close, else end at once. */
  signal(signal: Signal): void {
    // The first signal counts. A second is most often the same Ctrl-C again: at a terminal it
    // reaches the `parley` launcher and Bun alike, and the launcher passes its own on.
    if (this.finishing || this.pendingSignalCode !== undefined) return;
    const { code, reason } = SIGNAL_ENDS[signal];
    const active = this.session?.isActive === true;
    try {
      this.output.interrupted(signal, active);
    } catch {
      // A hung-up terminal may refuse the line (EIO): nobody is there to read it; the peer is still told.
    }
    this.pendingSignalCode = code;
    this.end(code, reason, active);
  }

  /**
   * Standard output cannot be written (output-failure.ts): one line on stderr, the run ends as on a
   * signal (the peer told), exit at least EXIT_OUTPUT_FAILED, also when already ending.
   */
  outputFailed(err: unknown): void {
    if (this.outputFailure !== undefined || this.exited) return; // after the exit: main.ts says it
    const active = !this.finishing && this.session?.isActive === true;
    this.outputFailure = EXIT_OUTPUT_FAILED;
    this.io.stderr.on?.("error", () => {}); // a stderr that fails too: nothing can be said anywhere
    this.io.stderr.write(`${outputFailedLine(err, active)}\n`);
    if (!this.finishing) this.end(EXIT_OUTPUT_FAILED, OUTPUT_FAILED_REASON, active);
  }

  private end(code: number, reason: string, active: boolean): void {
    this.endReason = reason;
    if (active) this.session?.abort(reason);
    else this.finish(code);
  }

  /** Ends the run with `code` (a signal's code wins, a failed output's unless higher); the first call counts. */
  finish(code: number): void {
    if (this.finishing) return;
    this.finishing = true;
    this.listener?.stop();
    // A handshake under way ends now (the run does not wait for it); one that was already
    // through is told by the `connected` event (abort).
    this.handshaking?.destroy();
    this.warmUp?.stop();
    this.events?.close();
    this.unsubscribe();
    // Read once the terminal has closed: its last lines may be what failed.
    const exit = () => this.pendingSignalCode ?? Math.max(code, this.outputFailure ?? code);
    void this.beforeExit().then(() => this.resolveExit(exit()));
  }

  /** The exit code a signal asked for, if one came. */
  get signalCode(): number | undefined {
    return this.pendingSignalCode;
  }
}

/**
 * PARLEY_FIRST_HELLO_MS (whole milliseconds): how long the listener lets an accepted connection
 * stay silent, for the tests of that drop; the session caps it at FIRST_HELLO_MS (2 s), so it
 * can only shorten the wait. Unset or not a positive integer: the default.
 */
export function firstHelloFromEnv(env: Readonly<Record<string, string | undefined>>): { firstHelloMs?: number } {
  const value = env.PARLEY_FIRST_HELLO_MS;
  return value !== undefined && /^[1-9]\d{0,5}$/.test(value) ? { firstHelloMs: Number(value) } : {};
}
