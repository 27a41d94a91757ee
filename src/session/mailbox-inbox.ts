/**
 * The peer's application messages that came through the mailbox, kept for whoever reads them
 * (Wormhole.nextMessage), bounded: out of wormhole.ts (its 400 lines).
 */

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

export class MailboxInbox {
  private readonly inbox: Uint8Array[] = [];
  private bytes = 0;
  private readonly readers: Array<{ resolve: (d: Uint8Array) => void; reject: (e: Error) => void }> = [];

  /** @param maxBytes - unread bytes that refuse the next message: MAX_UNREAD_BYTES (tests lower it) */
  constructor(readonly maxBytes: number) {}

  /** One message: to a reader waiting, or kept. False when too much waits unread (nothing kept). */
  put(data: Uint8Array): boolean {
    const reader = this.readers.shift();
    if (reader) reader.resolve(data);
    else if (this.inbox.length < MAX_UNREAD_MESSAGES && this.bytes < this.maxBytes) {
      this.inbox.push(data);
      this.bytes += data.length;
    } else return false;
    return true;
  }

  /** The next message; `failure` (when given) once none is kept. */
  next(failure: Error | undefined): Promise<Uint8Array> {
    const ready = this.inbox.shift();
    if (ready) {
      this.bytes -= ready.length;
      return Promise.resolve(ready);
    }
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Every reader waiting gets `error`. */
  rejectAll(error: Error): void {
    for (const r of this.readers.splice(0)) r.reject(error);
  }
}
