/**
 * Deadlines for waits on the mailbox peer that count only the time the mailbox connection is
 * up. While a lost connection is opened again (wormhole.ts), the peer cannot reach us, so a wait
 * for its next message must not run out meanwhile: a 30 s wait for the peer's key or hints
 * ended an outage of 30 s with "it did not answer", long before the 5 minutes of retries.
 */

/** A wait of `ms` in the words the mailbox lines use: "2.5 s", "300 s" (one decimal, none when whole). */
export function secondsWords(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** What a deadline watches: whether the connection is up, and each time it goes or comes back. */
export interface MailboxLink {
  readonly connected: boolean;
  /** Calls `listener` with the change each time the connection is lost or back; returns the unsubscribe. */
  onConnectedChange(listener: (change: { readonly connected: boolean }) => void): () => void;
}

/**
 * Calls `expired` once `ms` of connected time have passed. Returns the cancel.
 * A connection lost stops the clock; its return starts it again with what was left.
 */
export function startConnectedDeadline(link: MailboxLink, ms: number, expired: () => void): () => void {
  let left = ms;
  let since = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = (): void => {
    since = performance.now();
    timer = setTimeout(expired, Math.max(0, left));
  };
  const stop = (): void => {
    if (timer === undefined) return;
    clearTimeout(timer);
    timer = undefined;
    left -= performance.now() - since;
  };
  const unsubscribe = link.onConnectedChange(({ connected }) => (connected ? timer === undefined && run() : stop()));
  if (link.connected) run();
  return () => {
    unsubscribe();
    clearTimeout(timer);
    timer = undefined;
  };
}

/** `promise`, or `error()` once `ms` of connected time have passed first. */
export function withinConnectedTime<T>(
  link: MailboxLink,
  promise: Promise<T>,
  ms: number,
  error: () => Error,
): Promise<T> {
  let cancel: (() => void) | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      cancel = startConnectedDeadline(link, ms, () => reject(error()));
    }),
  ]).finally(() => cancel?.());
}
