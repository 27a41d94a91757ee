/**
 * Wormhole: the mailbox client joined to its WebSocket, with promises for what a rendezvous
 * waits on (the code, the verified key, the peer's messages in order) and a close that waits
 * for the server's answer (bounded).
 *
 * A connection lost after the first welcome is opened again, as the wormhole client's
 * Rendezvous connector does: at once, then after growing pauses (RETRY_FIRST_MS doubling up to
 * RETRY_MAX_MS), until `withinMs` (WormholeRetry) has passed since it was lost; then the Wormhole
 * fails with E_MAILBOX_LOST (E_MAILBOX_SILENT when it was lost to a silence). The mailbox client picks up on the new connection (MailboxClient.reconnected).
 * A server that does not answer in time (mailbox-answers.ts) counts as a loss, once it has
 * answered once. When each of these happens, and what it leads to, is the connection's life
 * (mailbox-life.ts, a pure state machine): this class keeps the I/O (the socket, the pause's
 * timer, the opening under way) and feeds it what happened.
 */

import { type MailboxMessage, type MailboxSocket, NetError, openMailboxSocket } from "../net/index.ts";
import { answerTimes, ServerAnswers } from "./mailbox-answers.ts";
import { MailboxClient, WormholeError } from "./mailbox-client.ts";
import { MAX_UNREAD_BYTES, MAX_UNREAD_MESSAGES, MailboxInbox } from "./mailbox-inbox.ts";
import { type LifeStep, MailboxLife } from "./mailbox-life.ts";
import {
  MAILBOX_RETRY_MS,
  type MailboxLinkChange,
  type MailboxLinkListener,
  type WormholeRetry,
} from "./mailbox-retry.ts";

export {
  MAILBOX_RETRY_MS,
  type MailboxLinkChange,
  type MailboxLinkListener,
  RETRY_FIRST_MS,
  RETRY_MAX_MS,
  type WormholeRetry,
} from "./mailbox-retry.ts";

/** How long close() waits for the server to confirm. */
const CLOSE_WAIT_MS = 2000;

export { MAX_UNREAD_BYTES, MAX_UNREAD_MESSAGES } from "./mailbox-inbox.ts";

/** How a Wormhole is opened: its retries, how long the server has to answer, and its abort. */
export interface WormholeOptions extends WormholeRetry {
  /** How long the server has to answer a request (SERVER_ANSWER_MS) and to welcome us (OPEN_TIMEOUT_MS): answerTimes. */
  readonly serverAnswerMs?: number;
  /** How long the connection may be idle before a ping checks it: IDLE_CHECK_MS (tests lower it). */
  readonly idleCheckMs?: number;
  /** Aborting while the first connection opens gives it up (nothing is left open). */
  readonly signal?: AbortSignal;
}

export interface WormholeVerified {
  readonly key: Uint8Array;
  readonly versions: Record<string, unknown>;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // whoever awaits it sees the error; nobody awaiting is not a crash
  return { promise, resolve, reject };
}

export class Wormhole {
  readonly code = deferred<string>();
  /** The peer's key exchange message came (its version, which proves the code, follows at once). */
  readonly keyed = deferred<void>();
  readonly verified = deferred<WormholeVerified>();
  private readonly inbox: MailboxInbox;
  private readonly closedByServer = deferred<void>();
  private failure: WormholeError | undefined;
  private readonly failedWith = deferred<WormholeError>();
  /**
   * Resolves, once, with the error that failed this Wormhole (the peer's: E_PEER_PROTOCOL when it
   * added more than nobody read; the server's; a lost mailbox). Never for a close() of ours.
   */
  readonly failed: Promise<WormholeError> = this.failedWith.promise;
  private socket: MailboxSocket | undefined;
  private readonly client: MailboxClient;
  /** What the server owes us: a request unanswered in time is a loss (or, never answered, E_MAILBOX_SILENT). */
  private readonly answers: ServerAnswers;
  /** The connection's life: up, lost and tried again, settled, closed (mailbox-life.ts). */
  private readonly life: MailboxLife;
  /** The pause before the next try, while one runs: close() and quiet() stop it. */
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;
  /** The connection being opened, if any: close() gives it up (its 10 s timer and socket go). */
  private opening: AbortController | undefined;
  /** How long a connection being opened has for the server's welcome (OPEN_TIMEOUT_MS; tests shorten it). */
  private readonly openMs: number;
  /**
   * Who hears each loss and return: the deadlines that pause meanwhile (onConnectedChange), and
   * whoever tells the user (WormholeRetry.listener). One list, told at one point each way.
   */
  private readonly linkListeners = new Set<MailboxLinkListener>();

  private constructor(
    private readonly url: string,
    versions: Record<string, unknown>,
    code: string | undefined,
    maxUnreadBytes: number,
    retry: WormholeOptions,
  ) {
    this.inbox = new MailboxInbox(maxUnreadBytes);
    if (retry.listener) this.linkListeners.add(retry.listener);
    this.client = new MailboxClient(
      {
        send: (m) => this.post(m),
      },
      {
        codeKnown: (c) => this.code.resolve(c),
        keyed: () => this.keyed.resolve(),
        verified: (key, v) => this.verified.resolve({ key, versions: v }),
        received: (data) => {
          if (this.inbox.put(data)) return;
          const bound = `${MAX_UNREAD_MESSAGES} mailbox messages or ${this.inbox.maxBytes} bytes`;
          this.fail(new WormholeError("E_PEER_PROTOCOL", `more than ${bound} nobody asked for`));
        },
        failed: (error) => this.fail(error),
        closed: () => {
          this.closedByServer.resolve();
          this.socket?.close();
        },
      },
      versions,
      code,
    );
    const { answerMs, openMs } = answerTimes(retry.serverAnswerMs);
    this.openMs = openMs;
    const withinMs = Math.min(retry.withinMs ?? MAILBOX_RETRY_MS, MAILBOX_RETRY_MS);
    this.life = new MailboxLife({
      url,
      withinMs,
      answerMs,
      openTimeoutMs: openMs,
      ...(retry.longestPauseMs === undefined ? {} : { longestPauseMs: retry.longestPauseMs }),
    });
    const at = (): number => performance.now();
    this.answers = new ServerAnswers(
      this.client.side,
      answerMs,
      (words, atBound) => this.apply(this.life.step({ type: "silent", words, at: at(), atBound })),
      (n) => this.post({ type: "ping", ping: n }),
      retry.idleCheckMs,
      // The client took the message before (what it asks in turn is owed by then).
      (all) => this.apply(this.life.step({ type: "answered", all, at: at() })),
    );
  }

  /** Sends `message` to the server on the connection, if there is one. */
  private post(message: Record<string, unknown>): void {
    if (!this.socket) return;
    this.answers.sent(message, this.socket.send(message) > 0);
  }

  /**
   * Connects to the mailbox at `url` and starts: allocates a code (no `code`) or joins `code`.
   * @param maxUnreadBytes - unread bytes that fail the next message: MAX_UNREAD_BYTES (tests lower it)
   * @param options - how a lost connection is tried again and who hears of it, how long the
   *   server has to answer, the abort
   * @throws WormholeError E_MAILBOX_UNREACHABLE (the first connection: nothing is tried again)
   */
  static async open(
    url: string,
    versions: Record<string, unknown>,
    code?: string,
    maxUnreadBytes = MAX_UNREAD_BYTES,
    options: WormholeOptions = {},
  ): Promise<Wormhole> {
    const { signal } = options;
    const wormhole = new Wormhole(url, versions, code, maxUnreadBytes, options);
    const giveUp = (): void => wormhole.opening?.abort();
    signal?.addEventListener("abort", giveUp, { once: true });
    try {
      if (signal?.aborted) throw new NetError("E_CONNECT", `opening ${url} was given up`);
      await wormhole.connect(() => wormhole.client.start());
    } catch (err) {
      // Not opened, or opened and the client threw as it started: nothing is left open or owed.
      wormhole.apply(wormhole.life.step({ type: "fail" }));
      if (err instanceof NetError) throw new WormholeError("E_MAILBOX_UNREACHABLE", err.message, { cause: err });
      throw err;
    } finally {
      signal?.removeEventListener("abort", giveUp);
    }
    return wormhole;
  }

  /**
   * Opens a WebSocket to the server and hands it to the client (`started`: bind and what follows).
   * @throws NetError E_CONNECT
   */
  private async connect(started: () => void, openTimeoutMs = this.openMs): Promise<void> {
    // The server's welcome comes with the socket, before the client has started: it waits for it.
    let early: MailboxMessage[] | undefined = [];
    let socket: MailboxSocket | undefined;
    /** Closed between the welcome and this function's turn (the socket was not ours yet). */
    let closedEarly: { broken?: string } | undefined;
    const opening = new AbortController();
    this.opening = opening;
    try {
      socket = await openMailboxSocket(
        this.url,
        {
          onMessage: (m) => (early ? early.push(m) : this.take(m)),
          onWritten: (waiting, restMs) => {
            if (socket === this.socket) this.answers.written(waiting, restMs);
          },
          onClose: (broken) => {
            if (socket) this.socketClosed(socket, broken);
            else closedEarly = broken === undefined ? {} : { broken };
          },
        },
        openTimeoutMs,
        undefined,
        opening.signal,
        this.answers.ms, // the kernel's share of a large send, reckoned: at most one more answer's time
      );
    } finally {
      if (this.opening === opening) this.opening = undefined;
    }
    const step = this.life.step({ type: "opened", at: performance.now() });
    if (step.drop) {
      socket.close(); // given up while this one was opening
      return;
    }
    this.socket = socket;
    const waiting = early;
    early = undefined;
    try {
      started();
      for (const m of waiting) this.take(m);
    } catch (err) {
      // The client threw (a bug of ours): the socket is nobody's now, and its close no loss.
      this.socket = undefined;
      this.answers.reset();
      socket.close();
      throw err;
    }
    this.apply(step); // a connection opened again: something owed, whatever the client asked again
    if (closedEarly) this.socketClosed(socket, closedEarly.broken);
  }

  /** One message from the server: the client takes it, and it answers what it owed. */
  private take(message: MailboxMessage): void {
    this.client.handle(message);
    this.answers.received(message);
  }

  private socketClosed(socket: MailboxSocket, broken: string | undefined): void {
    if (socket !== this.socket) return; // one given up on, or replaced
    this.answers.reset(); // what it owed, the next connection is asked again
    this.gone(this.life.step({ type: "lost", ...(broken === undefined ? {} : { broken }), at: performance.now() }));
  }

  /** The connection is gone (lost, or dropped as silent): tried again, or nobody is left to confirm a close. */
  private gone(step: LifeStep): void {
    if (step.pause === undefined && step.open === undefined) this.closedByServer.resolve();
    else this.socket = undefined;
    this.apply(step);
  }

  /** Does what the connection's life asks after one event (LifeStep's order). */
  private apply(step: LifeStep): void {
    if (step.drop && this.socket) {
      const socket = this.socket;
      this.socket = undefined; // its close is no loss of its own
      this.answers.reset();
      socket.close();
      const { drop: _, ...rest } = step;
      return this.gone(rest);
    }
    if (step.stopAnswers) this.answers.stop();
    if (step.stopPause) {
      clearTimeout(this.pauseTimer);
      this.pauseTimer = undefined;
    }
    if (step.abortOpening) this.opening?.abort();
    if (step.bound !== undefined) this.answers.bound(step.bound);
    if (step.tell) this.tell(step.tell);
    if (step.fail) this.fail(step.fail);
    if (step.pause !== undefined) {
      this.pauseTimer = setTimeout(() => {
        this.pauseTimer = undefined;
        this.apply(this.life.step({ type: "pause-over", at: performance.now() }));
      }, step.pause);
    }
    if (step.open !== undefined) void this.reopen(step.open);
    if (step.check) this.answers.check();
  }

  /** Opens the connection again; the client picks up on it. */
  private async reopen(openTimeoutMs: number): Promise<void> {
    try {
      await this.connect(() => this.client.reconnected(), openTimeoutMs);
    } catch {
      // Not opened; or opened, and the client threw taking it up (connect closed it): a
      // connection back lost, the same outage (its deadline bounds the tries).
      const opened = this.life.state.name === "lost-unanswered";
      this.apply(this.life.step({ type: opened ? "lost" : "open-failed", at: performance.now() }));
    }
  }

  private tell(change: MailboxLinkChange): void {
    for (const listener of this.linkListeners) listener(change);
  }

  /**
   * The meeting no longer needs the mailbox (the peer is met and a path stands): a connection
   * lost from now on is not opened again, and nobody is told; one being opened again stops.
   */
  quiet(): void {
    this.apply(this.life.step({ type: "quiet" }));
  }

  /** Whether the mailbox connection is up (false while a lost one is opened again). */
  get connected(): boolean {
    return this.life.connected;
  }

  /** Calls `listener` each time the connection is lost or back; returns the unsubscribe. */
  onConnectedChange(listener: MailboxLinkListener): () => void {
    this.linkListeners.add(listener);
    return () => {
      this.linkListeners.delete(listener);
    };
  }

  /** Our mailbox side (16 hex digits). */
  get side(): string {
    return this.client.side;
  }

  /** Sends one application message (after `verified`). */
  send(data: Uint8Array): void {
    if (this.failure) throw this.failure;
    this.client.send(data);
  }

  /** The peer's next application message. */
  nextMessage(): Promise<Uint8Array> {
    return this.inbox.next(this.failure);
  }

  /**
   * Releases and closes on the server (waits for its answer, at most CLOSE_WAIT_MS), then the
   * socket. Without a connection (lost, being opened again) there is nobody to tell: it stops.
   */
  async close(mood: "happy" | "lonely" | "scary" | "errory" = "happy"): Promise<void> {
    // A pause stops, a connection being opened again goes (its timer and socket), no answer is
    // looked for (the close has its own bound).
    this.apply(this.life.step({ type: "close" }));
    if (!this.failure) this.failure = new WormholeError("E_MAILBOX_LOST", "the mailbox connection is closed");
    if (!this.socket || this.socket.closed) this.closedByServer.resolve();
    this.client.close(mood);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closedByServer.promise, new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    this.socket?.close();
    this.inbox.rejectAll(this.failure);
  }

  private fail(error: WormholeError): void {
    if (this.failure) return;
    this.failure = error;
    this.apply(this.life.step({ type: "fail" }));
    this.failedWith.resolve(error);
    this.code.reject(error);
    this.keyed.reject(error);
    this.verified.reject(error);
    this.inbox.rejectAll(error);
    // A failed meeting is over on the server too; the socket goes once it confirmed (or now, if lost).
    if (error.code === "E_MAILBOX_LOST") this.socket?.close();
    else void this.close(error.code === "E_WRONG_CODE" ? "scary" : "errory");
  }
}
