/**
 * The user's terminal: which kind the chat gets (openTerminal), and the plain kind. At a TTY
 * that can move its cursor, the TTY's screen (tty-terminal.ts: a prompt, progress rows, repaints).
 * Plain mode (stdin or stdout not a TTY, or a terminal that cannot move its cursor, TERM=dumb: an
 * editor's shell buffer): no prompt, no bars, no escape codes; one line per event, input cut
 * into lines by line-splitter.ts, the peer's lines held back by output-gate.ts while the output
 * is backed up. At a dumb terminal the OS's line discipline echoes and edits what is typed
 * (readline's dumb mode took Backspace and the arrow keys into the line as characters, and
 * redrew the prompt without it). The streams are injected (the process's, or a test's); TTY mode
 * needs real TTY streams.
 */

import { LineSplitter } from "./line-splitter.ts";
import { lostLinesLine, OutputGate } from "./output-gate.ts";
import {
  failedOutput,
  flush,
  type Terminal,
  type TerminalHandlers,
  type TerminalStreams,
} from "./terminal-interface.ts";
import { TtyTerminal } from "./tty-terminal.ts";

/**
 * @param options.skippedLine - the line that says `n` lines from the peer were not shown
 * @param options.tooLongLine - the line that says an input line over MAX_INPUT_LINE_CHARS was dropped
 * @param options.dumb - the terminal cannot move its cursor (TERM=dumb): plain mode at a TTY too
 */
export function openTerminal(
  handlers: TerminalHandlers,
  options: { progress: boolean; skippedLine: (n: number) => string; tooLongLine: string; dumb?: boolean },
  streams: TerminalStreams,
): Terminal {
  const { input, output } = streams;
  return input.isTTY && output.isTTY && !options.dumb
    ? new TtyTerminal(
        handlers,
        options.progress,
        input as NodeJS.ReadStream,
        output as unknown as NodeJS.WriteStream,
        options.skippedLine,
        (n) => lostLinesLine(n).trimEnd(),
      )
    : new PlainTerminal(handlers, options, streams);
}

/**
 * The most characters of one input line held in plain mode: four times what a chat line may
 * be (every character is at least one byte), so no line that could be sent is cut, and a
 * stream without line breaks costs at most this.
 */
export const MAX_INPUT_LINE_CHARS = 256 * 1024;

class PlainTerminal implements Terminal {
  readonly interactive = false;
  readonly typing = false;
  private readonly gate: OutputGate;
  private readonly stopReading: () => void;

  constructor(
    handlers: TerminalHandlers,
    options: { skippedLine: (n: number) => string; tooLongLine: string },
    private readonly streams: TerminalStreams,
  ) {
    this.gate = new OutputGate(streams.output, (n) => `${options.skippedLine(n)}\n`, lostLinesLine);
    // A reader that went away (`parley | head -1`): stop printing, go on, as send and receive
    // do; the chat ends as it would have (input's end, exit, the peer), with its goodbye. Any
    // other error (a full disk) ends it: outputFailed.
    streams.output.on?.("error", (err) => failedOutput(handlers, err, streams.output.isTTY === true));
    const lines = new LineSplitter(MAX_INPUT_LINE_CHARS, {
      line: (text) => handlers.line(text),
      tooLong: () => this.print(options.tooLongLine),
    });
    const input = streams.input;
    const decoder = new TextDecoder();
    const onData = (chunk: Uint8Array | string) =>
      lines.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    let ended = false;
    const onEnd = () => {
      if (ended) return;
      ended = true;
      lines.push(decoder.decode());
      lines.end();
      handlers.end();
    };
    input.on("data", onData);
    input.on("end", onEnd);
    // A read error (EIO when the terminal went away) ends the input like Ctrl-D.
    input.on("error", onEnd);
    this.stopReading = () => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onEnd);
    };
  }

  print(line: string): void {
    this.gate.write(`${line}\n`);
  }

  printFromPeer(line: string): void {
    this.gate.writeFromPeer(`${line}\n`);
  }

  pauseInput(): void {
    this.streams.input.pause();
  }

  resumeInput(): void {
    this.streams.input.resume();
  }

  setPrompt(): void {}
  startProgress(): void {}
  updateProgress(): void {}
  endProgress(): void {}

  close(): Promise<void> {
    this.stopReading();
    this.streams.input.pause();
    return flush(this.streams.output);
  }
}
