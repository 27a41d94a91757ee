/**
 * Wormhole: the mailbox client joined to its WebSocket, with promises for what a rendezvous
 * waits on (the code, the verified key, the peer's messages in order) and a close that waits
 * for the server's answer (bounded).
 *
 * A connection lost after the first welcome is opened again, as the wormhole client's
 * Rendezvous connector does: at once, then after growing pauses (RETRY_FIRST_MS doubling up to
 * RETRY_MAX_MS), until `retryMs` has passed since it was lost; then the Wormhole fails with
 * E_MAILBOX_LOST. The mailbox client picks up on the new connection (MailboxClient.reconnected).
 * A connection back that is lost again within RETRY_MAX_MS goes on with the same outage: its
 * deadline, and the next, longer pause (a server that welcomes and closes at once is not
 * tried in a tight loop for ever). A server that does not answer in time (mailbox-answers.ts)
 * counts as a loss, once it has answered once: the socket is closed and opened again, and the
 * connection is back only once the server answers on it (one that welcomes and answers nothing
 * goes on with the same outage, and at its end fails the Wormhole with E_MAILBOX_SILENT).
 */

import { type MailboxMessage, type MailboxSocket, NetError, OPEN_TIMEOUT_MS, openMailboxSocket } from "../net/index.ts";
import { SERVER_ANSWER_MS, ServerAnswers } from "./mailbox-answers.ts";
import { MailboxClient, WormholeError } from "./mailbox-client.ts";
import { secondsWords } from "./mailbox-deadline.ts";
import { MAX_UNREAD_BYTES, MAX_UNREAD_MESSAGES, MailboxInbox } from "./mailbox-inbox.ts";
import {
  MAILBOX_RETRY_MS,
  type MailboxLinkChange,
  type MailboxLinkListener,
  nextPause,
  notBackWithin,
  RETRY_MAX_MS,
  silentWithin,
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
  /** How long the server has to answer a request once it welcomed us: SERVER_ANSWER_MS (mailbox-answers.ts). */
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
  /** The server answered something owed (on any connection); `back`: on this one, since it opened again. */
  private everAnswered = false;
  private back = true;
  /** The last loss was a silence, and no try since failed to open: what went unanswered, worded. */
  private silence: string | undefined;
  /** close() was called: a loss from now on is not retried. */
  private closing = false;
  /** No more retries after a loss (`quiet()`): the meeting no longer needs the mailbox. */
  private settled = false;
  /**
   * The outage being retried: when its tries end, and the pause before the next. Kept once the
   * connection is back, for a loss within RETRY_MAX_MS of the return (`upSince`).
   */
  private outage: { readonly deadline: number; pause: number } | undefined;
  /** When the connection last came back (performance.now()). */
  private upSince = 0;
  /** A retry under way: stops its pause (close()). */
  private stopRetry: (() => void) | undefined;
  /** The connection being opened, if any: close() gives it up (its 10 s timer and socket go). */
  private opening: AbortController | undefined;
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
    private readonly retry: WormholeOptions,
  ) {
    this.inbox = new MailboxInbox(maxUnreadBytes);
    if (retry.listener) this.linkListeners.add(retry.listener);
    this.client = new MailboxClient(
      {
        send: (m) => this.post(m),
      },
      {
        codeKnown: (c) => this.code.resolve(c),
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
    const answerMs = Math.min(retry.serverAnswerMs ?? SERVER_ANSWER_MS, SERVER_ANSWER_MS);
    const answerWords = (words: string) => `did not answer ${words} within ${secondsWords(answerMs)}`;
    const silent = (words: string): void => {
      // Never answered: no mailbox server to come back to (as one unreachable at first).
      if (!this.everAnswered) {
        return this.fail(new WormholeError("E_MAILBOX_SILENT", `${url} welcomed us but ${answerWords(words)}`));
      }
      this.silence = answerWords(words);
      this.socket?.close(); // a loss: opened again (socketClosed)
    };
    const answered = (all: boolean): void => {
      this.everAnswered = true;
      // Back once everything asked again is answered (a server that answers the claim and drops every add is not).
      if (this.back || !all || !this.socket || this.settled) return;
      this.silence = undefined;
      this.back = true;
      this.answers.bound(Number.POSITIVE_INFINITY);
      this.upSince = performance.now();
      this.tell({ connected: true });
    };
    const ping = (n: number): void => this.post({ type: "ping", ping: n });
    this.answers = new ServerAnswers(this.client.side, answerMs, silent, ping, retry.idleCheckMs, answered);
  }

  /** Sends `message` to the server on the connection, if there is one. */
  private post(message: Record<string, unknown>): void {
    if (!this.socket) return;
    this.answers.sent(message);
    this.socket.send(message);
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
  private async connect(started: () => void, openTimeoutMs = OPEN_TIMEOUT_MS): Promise<void> {
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
          onClose: (broken) => {
            if (socket) this.socketClosed(socket, broken);
            else closedEarly = broken === undefined ? {} : { broken };
          },
        },
        openTimeoutMs,
        undefined,
        opening.signal,
      );
    } finally {
      if (this.opening === opening) this.opening = undefined;
    }
    if (this.closing || this.failure) {
      socket.close(); // given up while this one was opening
      return;
    }
    this.socket = socket;
    started();
    const waiting = early;
    early = undefined;
    for (const m of waiting) this.take(m);
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
    if (broken !== undefined) {
      this.closedByServer.resolve();
      return this.fail(new WormholeError("E_MAILBOX_PROTOCOL", broken));
    }
    const withinMs = Math.min(this.retry.withinMs ?? MAILBOX_RETRY_MS, MAILBOX_RETRY_MS);
    if (this.closing || this.failure || this.settled || withinMs <= 0) {
      this.closedByServer.resolve(); // a close under way has nobody left to confirm it
      return this.fail(new WormholeError("E_MAILBOX_LOST", "the connection to the mailbox was lost"));
    }
    this.socket = undefined;
    const now = performance.now();
    if (this.outage && (!this.back || now - this.upSince < RETRY_MAX_MS)) {
      // Back only briefly, or not at all (open but silent): the same outage goes on, after a longer pause.
      this.outage.pause = nextPause(this.outage.pause);
    } else this.outage = { deadline: now + withinMs, pause: 0 };
    const left = this.outage.deadline - now;
    if (left <= 0) return this.fail(this.gaveUp(withinMs)); // an outage already at its end
    if (this.back) this.tell({ connected: false, withinMs: left }); // one not back yet was never said
    void this.reconnect(this.outage, withinMs);
  }

  /** Opens the connection again, pausing longer each time, until the outage's deadline. */
  private async reconnect(outage: { readonly deadline: number; pause: number }, withinMs: number): Promise<void> {
    const { deadline } = outage;
    for (;;) {
      // Closed (or done) while a try was opening: that try was given up, and no pause follows it.
      if (this.closing || this.failure || this.settled) return;
      const pause = outage.pause;
      if (pause > 0) {
        const left = deadline - performance.now();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(pause, Math.max(0, left)));
          this.stopRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.stopRetry = undefined;
      }
      if (this.closing || this.failure || this.settled) return; // quiet(): the meeting is done
      const left = deadline - performance.now();
      if (left <= 0) break;
      try {
        this.back = false; // until the server answers on it (answered, above)
        await this.connect(() => this.client.reconnected(), Math.max(1_000, Math.min(OPEN_TIMEOUT_MS, left)));
        if (this.socket && !this.settled) {
          this.answers.bound(deadline); // a silent one still ends within the outage's time
          this.answers.check(); // something owed, whatever the client asked again
        }
        return;
      } catch {
        this.silence = undefined; // not there yet: the next try after a pause
      }
      outage.pause = nextPause(pause);
    }
    this.fail(this.gaveUp(withinMs));
  }

  /** The outage's time is up: back never, or only silent. */
  private gaveUp(withinMs: number): WormholeError {
    return this.silence === undefined ? notBackWithin(withinMs) : silentWithin(this.url, this.silence, withinMs);
  }

  private tell(change: MailboxLinkChange): void {
    for (const listener of this.linkListeners) listener(change);
  }

  /**
   * The meeting no longer needs the mailbox (the peer is met and a path stands): a connection
   * lost from now on is not opened again, and nobody is told; one being opened again stops.
   */
  quiet(): void {
    this.settled = true;
    this.answers.stop(); // a release unanswered now ends nothing (the close is bounded)
    // A retry under way stops too: its "Reconnected" would come in the middle of the session,
    // and its tries would go on for minutes for nothing (kept, a connection it already opened
    // lets close() release the nameplate).
    this.stopRetry?.();
  }

  /** Whether the mailbox connection is up (false while a lost one is opened again). */
  get connected(): boolean {
    return this.socket !== undefined && this.back;
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
    this.closing = true;
    this.stopRetry?.();
    this.opening?.abort(); // a connection being opened again: its timer and socket go now
    this.answers.stop(); // the close has its own bound
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
    this.answers.stop();
    this.failedWith.resolve(error);
    this.code.reject(error);
    this.verified.reject(error);
    this.inbox.rejectAll(error);
    // A failed meeting is over on the server too; the socket goes once it confirmed (or now, if lost).
    if (error.code === "E_MAILBOX_LOST") this.socket?.close();
    else void this.close(error.code === "E_WRONG_CODE" ? "scary" : "errory");
  }
}
