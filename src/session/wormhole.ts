/**
 * Wormhole: the mailbox client joined to its WebSocket, with promises for what a rendezvous
 * waits on (the code, the verified key, the peer's messages in order) and a close that waits
 * for the server's answer (bounded).
 */

import { type MailboxMessage, type MailboxSocket, NetError, openMailboxSocket } from "../net/index.ts";
import { MailboxClient, WormholeError } from "./mailbox-client.ts";

/** How long close() waits for the server to confirm. */
const CLOSE_WAIT_MS = 2000;
/**
 * Most application messages kept unread. A Parley peer's mailbox stays open for the session and
 * nothing reads it after the transit hints: without a bound, a peer with the code could add
 * messages there for as long as the session lasts and each stayed here. The protocols read one
 * or two at a time.
 */
export const MAX_UNREAD_MESSAGES = 64;
/**
 * Once this many bytes wait unread, the next message fails the Wormhole. Each message may be
 * 16 MiB (the socket takes 32 Mi hex characters): the count alone let a peer make us hold 1 GiB.
 * A plain peer's largest, a text offer of 1 Mi characters, is under 7 MiB.
 */
export const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

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
  private readonly inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  private readonly readers: Array<{ resolve: (d: Uint8Array) => void; reject: (e: Error) => void }> = [];
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

  private constructor(
    versions: Record<string, unknown>,
    code: string | undefined,
    private readonly maxUnreadBytes: number,
  ) {
    this.client = new MailboxClient(
      { send: (m) => this.socket?.send(m) },
      {
        codeKnown: (c) => this.code.resolve(c),
        verified: (key, v) => this.verified.resolve({ key, versions: v }),
        received: (data) => {
          const reader = this.readers.shift();
          if (reader) reader.resolve(data);
          else if (this.inbox.length < MAX_UNREAD_MESSAGES && this.inboxBytes < this.maxUnreadBytes) {
            this.inbox.push(data);
            this.inboxBytes += data.length;
          } else {
            this.fail(
              new WormholeError(
                "E_PEER_PROTOCOL",
                `more than ${MAX_UNREAD_MESSAGES} mailbox messages or ${this.maxUnreadBytes} bytes nobody asked for`,
              ),
            );
          }
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
  }

  /**
   * Connects to the mailbox at `url` and starts: allocates a code (no `code`) or joins `code`.
   * @param maxUnreadBytes - unread bytes that fail the next message: MAX_UNREAD_BYTES (tests lower it)
   * @throws WormholeError E_MAILBOX_UNREACHABLE
   */
  static async open(
    url: string,
    versions: Record<string, unknown>,
    code?: string,
    maxUnreadBytes = MAX_UNREAD_BYTES,
  ): Promise<Wormhole> {
    const wormhole = new Wormhole(versions, code, maxUnreadBytes);
    // The server's welcome comes with the socket, before the client has started: it waits for it.
    let early: MailboxMessage[] | undefined = [];
    try {
      wormhole.socket = await openMailboxSocket(url, {
        onMessage: (m) => (early ? early.push(m) : wormhole.client.handle(m)),
        onClose: (broken) => {
          wormhole.closedByServer.resolve();
          wormhole.fail(
            broken === undefined
              ? new WormholeError("E_MAILBOX_LOST", "the connection to the mailbox was lost")
              : new WormholeError("E_MAILBOX_PROTOCOL", broken),
          );
        },
      });
    } catch (err) {
      if (err instanceof NetError) throw new WormholeError("E_MAILBOX_UNREACHABLE", err.message, { cause: err });
      throw err;
    }
    wormhole.client.start();
    const waiting = early;
    early = undefined;
    for (const m of waiting) wormhole.client.handle(m);
    return wormhole;
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
    const ready = this.inbox.shift();
    if (ready) {
      this.inboxBytes -= ready.length;
      return Promise.resolve(ready);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Releases and closes on the server (waits for its answer, at most CLOSE_WAIT_MS), then the socket. */
  async close(mood: "happy" | "lonely" | "scary" | "errory" = "happy"): Promise<void> {
    if (!this.failure) this.failure = new WormholeError("E_MAILBOX_LOST", "the mailbox connection is closed");
    this.client.close(mood);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closedByServer.promise, new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    this.socket?.close();
    this.rejectAll(this.failure);
  }

  private fail(error: WormholeError): void {
    if (this.failure) return;
    this.failure = error;
    this.failedWith.resolve(error);
    this.code.reject(error);
    this.verified.reject(error);
    this.rejectAll(error);
    // A failed meeting is over on the server too; the socket goes once it confirmed (or now, if lost).
    if (error.code === "E_MAILBOX_LOST") this.socket?.close();
    else void this.close(error.code === "E_WRONG_CODE" ? "scary" : "errory");
  }

  private rejectAll(error: Error): void {
    for (const r of this.readers.splice(0)) r.reject(error);
  }
}
