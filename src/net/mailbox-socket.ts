/**
 * The WebSocket to a magic-wormhole mailbox server (Bun's WebSocket client). Each message either
 * way is one JSON object; this adapter only frames and parses: what the objects mean is the
 * mailbox client's business (session/mailbox-client.ts).
 */

import { NetError } from "./errors.ts";
import { Outflow } from "./mailbox-outflow.ts";

/** How long opening the WebSocket, up to the server's welcome, may take. */
export const OPEN_TIMEOUT_MS = 10_000;
/**
 * Longest message taken from the server, in characters (bytes for a binary one). The longest a
 * real peer makes is a text offer of the 1 Mi characters Parley takes, each escaped (\uXXXX),
 * sealed and hex-encoded: about 12.6 Mi. Bun's client takes messages of 100 MB and more, and
 * JSON.parse of one (5.5 million nameplates, 95 MB) took a joining Parley to 873 MB.
 */
export const MAX_MESSAGE_CHARS = 32 * 1024 * 1024;

export type MailboxMessage = Record<string, unknown> & { readonly type: string };

export interface MailboxSocketEvents {
  /** One message from the server (an object with a string `type`). */
  onMessage(message: MailboxMessage): void;
  /**
   * The socket closed (by either side); fires once. `broken`: we closed it because the server
   * broke the protocol (what it sent, in words).
   */
  onClose(broken?: string): void;
  /**
   * Bytes of our sends left since the last call (or since a send() that returned more than 0):
   * `waiting` still wait in this process; once 0, `restMs` is how long what the kernel took is
   * reckoned to take to leave (mailbox-outflow.ts).
   */
  onWritten?(waiting: number, restMs: number): void;
}

export interface MailboxSocket {
  /**
   * Sends one message; returns how many bytes of what was sent still wait in this process to
   * leave (0: handed to the kernel; more: onWritten says as they go).
   */
  send(message: Record<string, unknown>): number;
  /** Closes the socket; onClose fires. */
  close(): void;
  readonly closed: boolean;
}

/**
 * Opens the WebSocket at `url` (ws:// or wss://). It is open once the server has said its
 * "welcome" (a mailbox server says it first, unasked): a WebSocket of some other service would
 * otherwise be waited on for ever, in silence. The welcome is handed to onMessage too.
 * @param openTimeoutMs - how long until the welcome
 * @param maxMessageChars - a longer message closes the socket (onClose says why): MAX_MESSAGE_CHARS
 * @param maxRestMs - the longest onWritten's `restMs` (the time the server has to answer)
 * @param signal - aborting gives up the opening: its timer and the WebSocket go at once (E_CONNECT);
 *   an open socket is not touched
 * @throws NetError E_CONNECT when it cannot be opened (nothing there, not a WebSocket, no
 *   welcome in time, given up)
 */
export function openMailboxSocket(
  url: string,
  events: MailboxSocketEvents,
  openTimeoutMs = OPEN_TIMEOUT_MS,
  maxMessageChars = MAX_MESSAGE_CHARS,
  signal?: AbortSignal,
  maxRestMs = 10_000,
): Promise<MailboxSocket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new NetError("E_CONNECT", `opening ${url} was given up`));
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (cause) {
      reject(new NetError("E_CONNECT", `${url} is not a WebSocket address`, { cause }));
      return;
    }
    ws.binaryType = "arraybuffer";
    /** The WebSocket opened; welcomed: the server said its welcome (the socket is ours). */
    let opened = false;
    let welcomed = false;
    let closed = false;
    /** Why the WebSocket did not open, from its error event (what answered, or nothing). */
    let whyNot = `${url} did not open a WebSocket`;
    const notMailbox = () =>
      `${url} opened a WebSocket but did not greet as a magic-wormhole mailbox server does: no mailbox server is there`;
    const timer = setTimeout(() => {
      const seconds = Math.round(openTimeoutMs / 100) / 10;
      reject(
        new NetError(
          "E_CONNECT",
          opened ? `${notMailbox()} (no welcome within ${seconds} s)` : `${url} did not answer within ${seconds} s`,
        ),
      );
      closed = true;
      signal?.removeEventListener("abort", giveUp);
      ws.close();
    }, openTimeoutMs);
    const outflow = new Outflow(() => ws.bufferedAmount, events.onWritten?.bind(events), maxRestMs);
    const socket: MailboxSocket = {
      send(message) {
        if (closed) return 0;
        const text = JSON.stringify(message);
        const before = ws.bufferedAmount;
        ws.send(text);
        // Bytes, as bufferedAmount counts them (JSON of hex is ASCII, a character a byte, but a
        // character past U+007F is 2-4): Buffer.byteLength of an 8 MB text took 0.15-0.19 ms
        // here, below JSON.stringify's 0.5 ms for it and the send's own copy of its 8 MB.
        return outflow.sent(Buffer.byteLength(text), before);
      },
      close() {
        if (closed) return;
        ws.close();
        finish();
      },
      get closed() {
        return closed;
      },
    };
    const finish = (broken?: string): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      outflow.stop();
      signal?.removeEventListener("abort", giveUp);
      if (welcomed) events.onClose(broken);
      else reject(new NetError("E_CONNECT", opened ? notMailbox() : whyNot));
    };
    // A close() of the owner while this one opens: no timer or half-open socket is left behind.
    const giveUp = (): void => {
      if (closed || welcomed) return;
      closed = true;
      clearTimeout(timer);
      ws.close();
      reject(new NetError("E_CONNECT", `opening ${url} was given up`));
    };
    signal?.addEventListener("abort", giveUp, { once: true });
    ws.addEventListener("open", () => {
      opened = true;
    });
    ws.addEventListener("message", (event) => {
      if (closed) return;
      const data = event.data;
      const size = typeof data === "string" ? data.length : (data as ArrayBuffer).byteLength;
      if (size > maxMessageChars) {
        ws.close();
        const unit = typeof data === "string" ? "characters" : "bytes";
        finish(`it sent a message of ${size} ${unit}, more than the ${maxMessageChars} taken`);
        return;
      }
      const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return; // not JSON: ignored, as the protocol asks of unknown input
      }
      if (typeof message !== "object" || message === null || typeof (message as MailboxMessage).type !== "string") {
        return;
      }
      if (!welcomed) {
        if ((message as MailboxMessage).type !== "welcome") return; // nothing is asked before it
        welcomed = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", giveUp);
        resolve(socket);
      }
      events.onMessage(message as MailboxMessage);
    });
    ws.addEventListener("close", () => finish());
    ws.addEventListener("error", (event) => {
      if (!opened) whyNot = notOpened(url, event);
      finish();
    });
  });
}

/**
 * Why opening `url` failed, in words: nothing listening, something that is not a web server (the
 * transit relay's port?), or a web server that does not upgrade this path (a mailbox URL without
 * its /v1, as the wormhole client's error "upgrade failed [200]" leaves the user to guess).
 * Bun's error event gives no code for an HTTP status, only its message text: read that here.
 */
function notOpened(url: string, event: Event): string {
  const error = (event as Event & { error?: { code?: string; message?: string } }).error;
  const status = /Expected 101 status code: (\d+)/.exec(error?.message ?? "")?.[1];
  if (status !== undefined) {
    const { protocol, host, pathname } = new URL(url);
    if (!/\/v1\/?$/.test(pathname)) {
      const like = pathname === "/" ? `${protocol}//${host}/v1` : "ws://HOST:PORT/v1";
      return `${url} answered HTTP ${status}, not as a WebSocket: a mailbox URL ends in /v1 (${like})`;
    }
    return `${url} answered HTTP ${status}, not as a WebSocket: no magic-wormhole mailbox server is there`;
  }
  switch (error?.code) {
    case "ECONNREFUSED":
      return `${url} refused the connection (nothing listens there)`;
    case "ENOTFOUND":
    case "EAI_NONAME":
      return `${url}: no such host`;
    case "HPE_INVALID_CONSTANT":
      return `what answers at ${url} is not a web server (the transit relay's port? the mailbox is the other one)`;
    default:
      return error?.message ? `${url}: ${error.message}` : `${url} did not open a WebSocket`;
  }
}
