import { expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { outputFailure, outputTaken, watchHeldOutput } from "../../src/cli/held-output.ts";
import { isOutputFailure } from "../../src/cli/output-failure.ts";
import { lostLinesLine, OutputGate } from "../../src/ui/output-gate.ts";

/**
 * A pipe as Bun's process.stdout shows it: a write returns false while `full`; `handOver()`
 * calls back every write waiting and emits one "drain" per write that was held back, as Bun does.
 */
function pipeLike() {
  const emitter = new EventEmitter();
  const state = { full: true, written: [] as string[] };
  const waiting: { held: boolean; callback?: () => void }[] = [];
  const stream = Object.assign(emitter, {
    write(text: string, callback?: () => void): boolean {
      state.written.push(text);
      waiting.push({ held: state.full, callback });
      if (!state.full) queueMicrotask(() => handOver());
      return !state.full;
    },
  });
  const handOver = (): void => {
    const done = waiting.splice(0);
    for (const w of done) w.callback?.();
    for (const w of done) if (w.held) emitter.emit("drain");
  };
  return { stream: watchHeldOutput(stream), state, handOver };
}

/** Whether `promise` has settled once the tasks queued so far have run. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test("nothing held back: taken at once", async () => {
  const { stream, state } = pipeLike();
  state.full = false;
  stream.write("line\n");
  expect(await settled(outputTaken(stream))).toBe(true);
});

test("writes held back are waited for until handed over, or until the reader is gone", async () => {
  const { stream, handOver } = pipeLike();
  stream.write("line 1\n");
  stream.write("line 2\n");
  const taken = outputTaken(stream);
  expect(await settled(taken)).toBe(false);
  handOver();
  expect(await settled(taken)).toBe(true);

  const gone = pipeLike();
  gone.stream.write("line\n");
  const ended = outputTaken(gone.stream);
  gone.stream.emit("error", new Error("EPIPE"));
  expect(await settled(ended)).toBe(true);
  expect(await settled(outputTaken(gone.stream))).toBe(true); // over: nothing more is taken
});

test("a line written on the first drain (the output gate's count), held back again, is waited for too", async () => {
  const { stream, state, handOver } = pipeLike();
  const gate = new OutputGate(stream, (n) => `${n} skipped\n`, lostLinesLine);
  gate.write("our line 1\n"); // held back: the gate counts the peer's text from now on
  gate.write("our line 2\n");
  gate.writeFromPeer("peer's line\n");
  const taken = outputTaken(stream);
  // All handed over: the first drain has the gate write its count, held back; the second
  // drain (Bun's one for the second write) comes all the same.
  handOver();
  expect(state.written.at(-1)).toBe("1 skipped\n");
  expect(await settled(taken)).toBe(false);
  handOver();
  expect(await settled(taken)).toBe(true);
});

/** An error as a failed write's callback gets it. */
function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

test.each([
  ["EPIPE", false, false],
  ["EPIPE", true, false],
  ["EIO", true, false], // a terminal that hung up: a reader gone, as the chat's terminal says
  ["EIO", false, true],
  ["ENOSPC", true, true],
  ["ENOSPC", false, true],
])(
  "a write's %s, isTTY %p: a failure of the output %p (the CLI's streams and the terminal agree)",
  (code, isTTY, fails) => {
    expect(isOutputFailure(errno(code), { isTTY })).toBe(fails);
    // held-output's note, which main.ts's exit code reads: a hung-up terminal turns no exit 0 into 1.
    const stream = Object.assign(new EventEmitter(), {
      isTTY,
      write: (_text: string, callback: (err?: unknown) => void) => {
        callback(errno(code));
        return true;
      },
    });
    watchHeldOutput(stream).write("Bye.\n", () => {});
    expect(outputFailure(stream) !== undefined).toBe(fails);
  },
);
