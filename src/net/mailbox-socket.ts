/**
 * The WebSocket to a magic-wormhole mailbox server (Bun's WebSocket client). Each message either
 * way is one JSON object; this adapter only frames and parses: what the objects mean is the
 * mailbox client's business (session/mailbox-client.ts).
 */

import { NetError } from "./errors.ts";

/** How long opening the WebSocket may take. */
const OPEN_TIMEOUT_MS = 10_000;

export type MailboxMessage = Record<string, unknown> & { readonly type: string };

export interface MailboxSocketEvents {
  /** One message from the server (an object with a string `type`). */
  onMessage(message: MailboxMessage): void;
  /** The socket closed (by either side); fires once. */
  onClose(): void;
}

export interface MailboxSocket {
  send(message: Record<string, unknown>): void;
  /** Closes the socket; onClose fires. */
  close(): void;
  readonly closed: boolean;
}

/**
 * Opens the WebSocket at `url` (ws:// or wss://).
 * @throws NetError E_CONNECT when it cannot be opened (nothing there, not a WebSocket, timeout)
 */
export function openMailboxSocket(url: string, events: MailboxSocketEvents): Promise<MailboxSocket> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (cause) {
      reject(new NetError("E_CONNECT", `cannot reach the mailbox at ${url}: not a WebSocket address`, { cause }));
      return;
    }
    ws.binaryType = "arraybuffer";
    let opened = false;
    let closed = false;
    const timer = setTimeout(() => {
      reject(new NetError("E_CONNECT", `cannot reach the mailbox at ${url}: no answer within 10 s`));
      ws.close();
    }, OPEN_TIMEOUT_MS);
    const socket: MailboxSocket = {
      send(message) {
        if (!closed) ws.send(JSON.stringify(message));
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
    const finish = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      if (opened) events.onClose();
      else reject(new NetError("E_CONNECT", `cannot reach the mailbox at ${url}`));
    };
    ws.addEventListener("open", () => {
      opened = true;
      clearTimeout(timer);
      resolve(socket);
    });
    ws.addEventListener("message", (event) => {
      if (closed) return;
      const data = event.data;
      const text = typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer);
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return; // not JSON: ignored, as the protocol asks of unknown input
      }
      if (typeof message === "object" && message !== null && typeof (message as MailboxMessage).type === "string") {
        events.onMessage(message as MailboxMessage);
      }
    });
    ws.addEventListener("close", finish);
    ws.addEventListener("error", finish);
  });
}
