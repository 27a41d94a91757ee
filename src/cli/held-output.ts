/**
 * What this process wrote to its standard output or error that the OS has not taken yet, and
 * waiting for it before the process exits. A pipe read slower than we write (`parley receive
 * --json | slow-consumer`) makes Bun hold the rest in memory, and `process.exit` throws that
 * away: the consumer lost the run's last events, its `done` line among them (review19: 65,536
 * of 5,120,000 bytes arrived). Bun says so only in the return of each `write` (false: held
 * back) and in each write's callback (called once that write is handed to the OS); its
 * `writableLength` and `writableNeedDrain` stay 0 and false, a callback of `write("")` comes at
 * once, and "drain" is no end either: Bun emits one per write held back, the first once all
 * were handed over, the rest after it, also while a write made since waits (review19b: a 70,000
 * character line written on the first "drain" lost 24,576 of them). So each stream handed out
 * is watched: its writes' returns and callbacks, then "error" or "close" (a reader gone:
 * nothing more will be taken).
 */

import { isOutputFailure } from "./output-failure.ts";

interface Watched {
  /** A write returned false since the stream last had no write waiting. */
  held: boolean;
  /** Writes whose callback has not come yet. */
  waiting: number;
  /** The stream failed or closed: nothing held will be taken. */
  over: boolean;
  /** Called when `waiting` falls to 0 or the stream is over. */
  readonly idle: Set<() => void>;
  /** The first error of a write but a reader gone (EPIPE, a terminal's EIO): see outputFailure. */
  failure: unknown;
  /** The stream is a terminal (its EIO is a hang-up, a reader gone). */
  readonly isTTY: boolean;
}

/** Keeps `err` as the stream's failure when it is the first that is not a reader gone. */
function noteFailure(state: Watched, err: unknown): void {
  if (isOutputFailure(err, state)) state.failure ??= err;
}

/** The part of process.stdout / process.stderr watched here. */
export interface WatchableStream {
  readonly isTTY?: boolean;
  write(...args: never[]): boolean;
  on(event: "error" | "close", listener: (err?: unknown) => void): unknown;
}

const watched = new WeakMap<object, Watched>();

function wake(state: Watched): void {
  for (const resolve of state.idle) resolve();
  state.idle.clear();
}

/** `stream`, its writes watched from now on (once per stream; the same object is returned). */
export function watchHeldOutput<S extends WatchableStream>(stream: S): S {
  if (watched.has(stream)) return stream;
  const isTTY = stream.isTTY === true;
  const state: Watched = { held: false, waiting: 0, over: false, idle: new Set(), failure: undefined, isTTY };
  watched.set(stream, state);
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    const callback = typeof args.at(-1) === "function" ? (args.pop() as (err?: unknown) => void) : undefined;
    state.waiting++;
    args.push((err?: unknown) => {
      noteFailure(state, err);
      state.waiting--;
      if (state.waiting === 0) {
        state.held = false;
        wake(state);
      }
      callback?.(err);
    });
    const taken = write(...args);
    if (!taken) state.held = true;
    return taken;
  };
  const ended = (err?: unknown): void => {
    noteFailure(state, err);
    state.over = true;
    wake(state);
  };
  stream.on("error", ended);
  stream.on("close", ended);
  return stream;
}

/**
 * Resolves once everything written to `stream` has been taken by the OS, or at once when
 * nothing was held back (or it was never watched, or its reader is gone). A reader that never
 * reads keeps us waiting, as any program writing to a full pipe waits; a signal still ends it.
 * Asked again once all was taken: a "drain" listener (the output gate's count of lines not
 * shown) may have written more meanwhile, held back in its turn.
 */
export async function outputTaken(stream: object): Promise<void> {
  const state = watched.get(stream);
  while (state?.held && state.waiting > 0 && !state.over) {
    await new Promise<void>((resolve) => state.idle.add(resolve));
  }
}

/**
 * The first error a write to `stream` failed with but a reader gone (a full disk: ENOSPC), or
 * undefined. A write's error can come after the run has ended: the last lines (a goodbye) fail
 * while main.ts waits for them, when nothing is left to hear the stream's "error" event;
 * main.ts asks here then, so that such a run does not exit 0 unsaid.
 */
export function outputFailure(stream: object): unknown {
  return watched.get(stream)?.failure;
}
