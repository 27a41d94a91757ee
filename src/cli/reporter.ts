/**
 * What `parley send` and `parley receive` print: human lines, or with --json one JSON object
 * per line on stdout for every event (schema in the README), human messages then going to
 * stderr. Progress is at most 10 events (or bar redraws) a second per transfer.
 */

import type { TransferDone, TransferInfo } from "../session/index.ts";
import { checksumLabel, isChecksumAlgo } from "../transfer/index.ts";
import { formatBytes, sanitizeForTerminal, TransferProgress } from "../ui/index.ts";

const PROGRESS_EVERY_MS = 100;

export interface Reporter {
  listening(host: string, port: number, reachableAt: readonly string[], hint: string): void;
  connected(peerName: string | undefined, address: string): void;
  chat(text: string): void;
  offered(info: TransferInfo): void;
  progressed(info: TransferInfo, bytes: number): void;
  done(done: TransferDone): void;
  failed(info: TransferInfo, reason: string, code: string): void;
  /** A failure not tied to one transfer (connection refused, lost, ...). */
  error(code: string, message: string): void;
  bye(reason: string): void;
  /** A human message (stderr in JSON mode). */
  note(message: string): void;
}

export function makeReporter(options: { json: boolean; progress: boolean; humanToStderr: boolean }): Reporter {
  return options.json ? new JsonReporter() : new HumanReporter(options.progress, options.humanToStderr);
}

function info(i: TransferInfo) {
  return { id: i.id, direction: i.direction, name: i.name, size: i.size };
}

class JsonReporter implements Reporter {
  private readonly lastProgress = new Map<number, number>();

  private emit(event: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  }

  listening(host: string, port: number, reachableAt: readonly string[]): void {
    this.emit({ type: "listening", host, port, reachableAt });
  }
  connected(peerName: string | undefined, address: string): void {
    this.emit({ type: "connected", peer: { address, ...(peerName === undefined ? {} : { name: peerName }) } });
  }
  chat(text: string): void {
    this.emit({ type: "chat", text });
  }
  offered(i: TransferInfo): void {
    this.emit({ type: "offer", ...info(i) });
  }
  progressed(i: TransferInfo, bytes: number): void {
    const now = Date.now();
    if (now - (this.lastProgress.get(i.id) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastProgress.set(i.id, now);
    this.emit({ type: "progress", id: i.id, direction: i.direction, bytes, size: i.size });
  }
  done(d: TransferDone): void {
    this.lastProgress.delete(d.id);
    this.emit({
      type: "done",
      ...info(d),
      bytes: d.bytes,
      resumedFrom: d.resumedFrom,
      ...(d.path === undefined ? {} : { path: d.path }),
      checksum: { algo: d.algo, digest: d.digest },
    });
  }
  failed(i: TransferInfo, message: string, code: string): void {
    this.lastProgress.delete(i.id);
    this.emit({ type: "error", code, message, id: i.id, direction: i.direction, name: i.name });
  }
  error(code: string, message: string): void {
    this.emit({ type: "error", code, message });
  }
  bye(reason: string): void {
    this.emit({ type: "bye", reason });
  }
  note(message: string): void {
    process.stderr.write(`${message}\n`);
  }
}

class HumanReporter implements Reporter {
  private readonly bars = new Map<number, { bar: TransferProgress; drawnAt: number }>();
  private readonly out: NodeJS.WriteStream;
  private readonly barsOn: boolean;

  constructor(progress: boolean, humanToStderr: boolean) {
    this.out = humanToStderr ? process.stderr : process.stdout;
    // Bars go to stderr, and only to a terminal.
    this.barsOn = progress && Boolean(process.stderr.isTTY);
  }

  private line(text: string): void {
    if (this.barsOn && this.bars.size > 0) process.stderr.write("\r\x1b[K");
    this.out.write(`${text}\n`);
  }

  listening(host: string, port: number, reachableAt: readonly string[], hint: string): void {
    const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    const extra = reachableAt.length > 0 ? ` (a peer can use: ${reachableAt.join(", ")})` : "";
    this.line(`Listening on ${where}${extra}`);
    this.line(hint);
  }
  connected(peerName: string | undefined, address: string): void {
    this.line(`Connected to ${peerName ? sanitizeForTerminal(peerName) : "peer"} at ${address}.`);
  }
  chat(text: string): void {
    this.line(`<peer> ${sanitizeForTerminal(text)}`);
  }
  offered(i: TransferInfo): void {
    const size = i.size === null ? "size not known yet" : `${formatBytes(i.size)}, ${i.size} bytes`;
    this.line(`${i.direction === "send" ? "Sending" : "Receiving"} ${sanitizeForTerminal(i.name)} (${size}).`);
    if (this.barsOn)
      this.bars.set(i.id, { bar: new TransferProgress(sanitizeForTerminal(i.name), i.size), drawnAt: 0 });
  }
  progressed(i: TransferInfo, bytes: number): void {
    const entry = this.bars.get(i.id);
    if (!entry) return;
    entry.bar.update(bytes);
    const now = Date.now();
    if (now - entry.drawnAt < PROGRESS_EVERY_MS) return;
    entry.drawnAt = now;
    process.stderr.write(`\r\x1b[K${entry.bar.render(process.stderr.columns || 80)}`);
  }
  done(d: TransferDone): void {
    this.endBar(d.id);
    const algo = isChecksumAlgo(d.algo) ? checksumLabel(d.algo) : d.algo;
    if (d.resumedFrom > 0) this.line(resumedLine(d));
    if (d.direction === "receive") {
      this.line(`The transfer command is done. The receiver has received a total of ${d.bytes} bytes from the sender.`);
      this.line(`Saved ${d.path === "-" ? "to standard output" : d.path}; ${algo} checksum matched (${d.digest}).`);
    } else {
      this.line(`The transfer command is done. The sender has sent a total of ${d.bytes} bytes to the receiver.`);
      this.line(`${sanitizeForTerminal(d.name)}: the receiver verified its ${algo} checksum (${d.digest}).`);
    }
  }
  failed(i: TransferInfo, reason: string): void {
    this.endBar(i.id);
    const verb = i.direction === "send" ? "Sending" : "Receiving";
    this.line(`${verb} ${sanitizeForTerminal(i.name)} failed: ${sanitizeForTerminal(reason)}.`);
  }
  error(_code: string, message: string): void {
    this.line(`Error: ${sanitizeForTerminal(message)}.`);
  }
  bye(reason: string): void {
    this.line(`Connection closed (${sanitizeForTerminal(reason)}).`);
  }
  note(message: string): void {
    this.line(message);
  }

  private endBar(id: number): void {
    if (this.bars.delete(id) && this.barsOn) process.stderr.write("\r\x1b[K");
  }
}

/** "Resumed: ..." after an interrupted attempt, for humans (chat and send/receive). */
export function resumedLine(d: TransferDone): string {
  return `Resumed ${sanitizeForTerminal(d.name)}: ${d.resumedFrom} bytes were there from an earlier attempt, ${d.bytes - d.resumedFrom} bytes moved now.`;
}
