/**
 * Test helper: a command's io (src/cli/io.ts) held by the test, for commands run in-process
 * with `runCli`: stdin a PassThrough, stdout and stderr captured as text (each can be awaited
 * for a pattern), an empty environment, and signals the test sends.
 */

import { PassThrough } from "node:stream";
import type { CliIo, OutStream, Signal } from "../src/cli/io.ts";

/** What a stream received so far, and a wait for a pattern in it. */
export interface CapturedText {
  readonly text: string;
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

export interface TestIo extends CliIo {
  readonly out: CapturedText;
  readonly err: CapturedText;
  signal(signal: Signal): void;
}

function capture(): { stream: OutStream; captured: CapturedText } {
  const waiters: Array<() => void> = [];
  let text = "";
  const stream: OutStream = {
    write(chunk: string | Uint8Array, callback?: (err?: Error | null) => void): boolean {
      text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      for (const w of waiters.splice(0)) w();
      callback?.();
      return true;
    },
  };
  const captured: CapturedText = {
    get text() {
      return text;
    },
    async waitFor(re: RegExp): Promise<RegExpMatchArray> {
      for (;;) {
        const m = text.match(re);
        if (m) return m;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
  return { stream, captured };
}

/** An io whose working directory is `cwd`. */
export function testIo(cwd: string): TestIo {
  const stdout = capture();
  const stderr = capture();
  const handlers = new Set<(s: Signal) => void>();
  return {
    stdin: new PassThrough(),
    stdout: stdout.stream,
    stderr: stderr.stream,
    cwd,
    env: {},
    stdinBytes: () => new ReadableStream({ start: (c) => c.close() }),
    onSignal: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    out: stdout.captured,
    err: stderr.captured,
    signal: (s) => {
      for (const h of handlers) h(s);
    },
  };
}
