/**
 * `parley send` / `parley receive`'s reporter as they start (the chat's is ui/starting-terminal.ts):
 * the code line, and a note before it, are written at once by the process's line writer
 * (`io.writeLineNow`: fd 1 or 2, before it returns), before Node's stdio streams are made (the
 * first costs 14-16 ms here) and before the reporters' own modules load (reporter.ts: node:readline,
 * the ui layer, the transfers' wording). The real reporter is made by `open()` (with the session
 * layer, once the code is shown) or as soon as anything else is to be said, whichever comes
 * first; every call goes to it from then on. What the writer wrote is out before it returns, so
 * nothing the real reporter writes can come before it. Without a line writer (a test's streams)
 * the real reporter is made at once.
 */

import type { CliIo } from "./io.ts";
import { jsonLine } from "./json-line.ts";
import { listeningEvent, listeningLine } from "./listening-words.ts";
import type * as ReporterModule from "./reporter.ts";
import type { Reporter, ReporterOptions } from "./reporter-interface.ts";

/** A Reporter that writes its first lines itself and makes the real one (reporter.ts) when needed. */
export class StartingReporter implements Reporter {
  private real: Reporter | undefined;
  /** A `--json` event went out (the real JSON reporter holds warnings until one has). */
  private eventOut = false;
  private readonly writeLineNow: ((line: string, fd?: 1 | 2) => void) | undefined;
  /** Standard output cannot be written (not EPIPE): handed to the real reporter's stream (set before it is made). */
  outputFailed: ((err: NodeJS.ErrnoException) => void) | undefined;

  constructor(
    private readonly options: ReporterOptions,
    private readonly io: CliIo,
  ) {
    this.writeLineNow = io.writeLineNow;
    if (!this.writeLineNow) this.open();
  }

  /** Makes the real reporter (asking for the streams it prints to) unless it is made. */
  open(): Reporter {
    if (!this.real) {
      const { makeReporter } = require("./reporter.ts") as typeof ReporterModule;
      this.real = makeReporter(this.options, this.io, this.eventOut, (err) => {
        if (!this.outputFailed) throw err;
        this.outputFailed(err);
      });
    }
    return this.real;
  }

  listening(host: string, port: number, reachableAt: readonly string[], code: string, hint: string): void {
    if (this.real || !this.writeLineNow) return this.open().listening(host, port, reachableAt, code, hint);
    if (this.options.json) {
      this.writeLineNow(jsonLine(listeningEvent(host, port, reachableAt, code)), this.options.stdoutTaken ? 2 : 1);
      this.eventOut = true;
      return;
    }
    const fd = this.options.stdoutTaken ? 2 : 1;
    this.writeLineNow(listeningLine(host, port, reachableAt, code), fd);
    this.writeLineNow(hint, fd);
  }

  note(message: string): void {
    if (this.real || !this.writeLineNow) return this.open().note(message);
    // As the reporters print it: a person's line on stdout, beside JSON events (or the file) on stderr.
    this.writeLineNow(message, this.options.json || this.options.stdoutTaken ? 2 : 1);
  }

  connected(...args: Parameters<Reporter["connected"]>): void {
    this.open().connected(...args);
  }
  mailboxCode(code: string, hint: string): void {
    this.open().mailboxCode(code, hint);
  }
  path(...args: Parameters<Reporter["path"]>): void {
    this.open().path(...args);
  }
  mailboxLost(line: string, withinMs: number): void {
    this.open().mailboxLost(line, withinMs);
  }
  mailboxBack(line: string): void {
    this.open().mailboxBack(line);
  }
  plainConnected(...args: Parameters<Reporter["plainConnected"]>): void {
    this.open().plainConnected(...args);
  }
  chat(text: string, from?: string): void {
    this.open().chat(text, from);
  }
  offered(...args: Parameters<Reporter["offered"]>): void {
    this.open().offered(...args);
  }
  receiving(...args: Parameters<Reporter["receiving"]>): void {
    this.open().receiving(...args);
  }
  progressed(...args: Parameters<Reporter["progressed"]>): void {
    this.open().progressed(...args);
  }
  resumed(...args: Parameters<Reporter["resumed"]>): void {
    this.open().resumed(...args);
  }
  done(...args: Parameters<Reporter["done"]>): void {
    this.open().done(...args);
  }
  entryStored(...args: Parameters<Reporter["entryStored"]>): void {
    this.open().entryStored(...args);
  }
  failed(...args: Parameters<Reporter["failed"]>): void {
    this.open().failed(...args);
  }
  sessionEnded(): number {
    return this.open().sessionEnded();
  }
  error(code: string, message: string, saidAbove?: boolean): void {
    this.open().error(code, message, saidAbove);
  }
  bye(reason: string): void {
    this.open().bye(reason);
  }
  warning(code: string, message: string): void {
    this.open().warning(code, message);
  }
  skipped(...args: Parameters<Reporter["skipped"]>): void {
    this.open().skipped(...args);
  }
  shareLinesWith(...args: Parameters<Reporter["shareLinesWith"]>): void {
    this.open().shareLinesWith(...args);
  }
}
