/**
 * PARLEY_CHAT_TRACE=PREFIX: the CLI's side of the chat trace (src/session/chat-trace.ts keeps
 * the stamps; the session does no I/O of its own). Here: the main thread's CPU and run-queue
 * times from /proc/thread-self/schedstat, a 2 ms timer that keeps event-loop stalls, and the
 * file written at exit: `<prefix>.<pid>`, a new file only its owner can read (it holds the chat
 * text), never over a file or through a link already at that name (a guessable name in a
 * shared folder). A trace that cannot be written costs one line on stderr, never the exit code.
 *
 * With PARLEY_CHAT_TRACE_LIGHT=1 only the stamps are kept (no thread times, no stall timer: a
 * schedstat read at each pump and socket read, and 500 wake-ups a second, are load of their own
 * on two busy cores): what the bench's CLI cases use to time a line from the typing CLI's line
 * handler to the other CLI's terminal write without adding to what they time.
 */

import { readFileSync, writeFileSync, writeSync } from "node:fs";
import { ChatTrace, installChatTrace, type TraceMark } from "../session/chat-trace.ts";

/** Loop stalls at least this long are kept (a 2 ms interval that fired this late). */
const STALL_MS = 4;
const STALL_CHECK_MS = 2;

/** The calling thread's ms on a CPU and waiting for one (Linux schedstat); zeros elsewhere. */
function threadTimes(): { cpu: number; queued: number } {
  try {
    const [run, wait] = readFileSync("/proc/thread-self/schedstat", "utf8").split(" ");
    return { cpu: Number(run) / 1e6, queued: Number(wait) / 1e6 };
  } catch {
    return { cpu: 0, queued: 0 };
  }
}

/** At exit, where a stream's asynchronous write would be lost: straight to fd 2. */
function warnOnStderr(line: string): void {
  writeSync(2, `${line}\n`);
}

/**
 * Writes `trace` to `file`, created new with mode 0600 ("wx": O_CREAT | O_EXCL, which also
 * refuses to follow a link at the name). @returns whether it was written; else `warn` got one line
 */
export function saveChatTrace(trace: ChatTrace, file: string, warn: (line: string) => void): boolean {
  try {
    writeFileSync(file, trace.text(), { flag: "wx", mode: 0o600 });
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    warn(`parley: chat trace not written to ${file} (${code})`);
    return false;
  }
}

/**
 * Starts tracing this process's chat lines into `<prefix>.<pid>` (written at exit) and
 * installs the trace for the session's hooks; `light`: the stamps only (see the header).
 * @returns the trace
 */
export function startChatTraceFile(
  prefix: string,
  warn: (line: string) => void = warnOnStderr,
  light = false,
): ChatTrace {
  const trace = light ? new ChatTrace() : new ChatTrace(threadTimes);
  installChatTrace(trace);
  const file = `${prefix}.${process.pid}`;
  process.on("exit", () => saveChatTrace(trace, file, warn));
  if (light) return trace;
  let last: TraceMark = trace.begin();
  setInterval(() => {
    const now = trace.begin();
    if (now.at - last.at >= STALL_MS) trace.span("stall", last, now);
    last = now;
  }, STALL_CHECK_MS).unref();
  return trace;
}
