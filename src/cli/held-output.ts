/**
 * What this process wrote to its standard output or error that the OS has not taken yet, and
 * waiting for it before the process exits. A pipe read slower than we write (`parley receive
 * --json | slow-consumer`) makes Bun hold the rest in memory, and `process.exit` throws that
 * away: the consumer lost the run's last events, its `done` line among them (review19: 65,536
 * of 5,120,000 bytes arrived). Bun says so only in the return of each `write` (false: held
 * back); its `writableLength` and `writableNeedDrain` stay 0 and false, and a callback of
 * `write("")` comes at once. So each stream handed out is watched: its writes' returns, then
 * "drain" (all taken), "error" or "close" (a reader gone: nothing more will be taken).
 */

interface Watched {
  /** A write returned false and no "drain" came since. */
  held: boolean;
  /** The stream failed or closed: nothing held will be taken. */
  over: boolean;
}

/** The part of process.stdout / process.stderr watched here. */
export interface WatchableStream {
  write(...args: never[]): boolean;
  on(event: "drain" | "error" | "close", listener: () => void): unknown;
  once(event: "drain" | "error" | "close", listener: () => void): unknown;
}

const watched = new WeakMap<object, Watched>();

/** `stream`, its writes watched from now on (once per stream; the same object is returned). */
export function watchHeldOutput<S extends WatchableStream>(stream: S): S {
  if (watched.has(stream)) return stream;
  const state: Watched = { held: false, over: false };
  watched.set(stream, state);
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    const taken = write(...args);
    if (!taken) state.held = true;
    return taken;
  };
  stream.on("drain", () => {
    state.held = false;
  });
  const ended = (): void => {
    state.over = true;
  };
  stream.on("error", ended);
  stream.on("close", ended);
  return stream;
}

/**
 * Resolves once everything written to `stream` has been taken by the OS, or at once when
 * nothing is held back (or it was never watched, or its reader is gone). A reader that never
 * reads keeps us waiting, as any program writing to a full pipe waits; a signal still ends it.
 */
export function outputTaken(stream: object): Promise<void> {
  const state = watched.get(stream);
  if (!state?.held || state.over) return Promise.resolve();
  const s = stream as WatchableStream;
  return new Promise<void>((resolve) => {
    // Again after "drain": its other listeners may write (the output gate's count of lines not shown).
    s.once("drain", () => resolve(outputTaken(stream)));
    s.once("error", resolve);
    s.once("close", resolve);
  });
}
