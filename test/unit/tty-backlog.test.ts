/**
 * TtyTerminal's backlog of the peer's lines (MAX_PEER_BACKLOG_CHARS, MAX_PEER_BACKLOG_LINES): a
 * flood of short lines is bounded in lines too, not only in characters.
 */

import { expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { MAX_PEER_BACKLOG_LINES, PEER_BURST_MIN_LINES, PEER_BURST_MS, TtyTerminal } from "../../src/ui/tty-terminal.ts";

/** A terminal's output that takes `ms` for each write (a slow terminal) until `fast`, and keeps what it was given. */
function slowOutput(ms: number): { out: NodeJS.WriteStream; text: () => string; fast: () => void } {
  const chunks: string[] = [];
  let msPerWrite = ms;
  const out = Object.assign(new EventEmitter(), {
    isTTY: true,
    columns: 80,
    rows: 24,
    writableLength: 0,
    write(data: string | Uint8Array, cb?: unknown): boolean {
      const end = performance.now() + msPerWrite;
      while (performance.now() < end) {}
      chunks.push(typeof data === "string" ? data : new TextDecoder().decode(data));
      if (typeof cb === "function") cb();
      return true;
    },
  });
  return {
    out: out as unknown as NodeJS.WriteStream,
    text: () => chunks.join(""),
    fast: () => {
      msPerWrite = 0;
    },
  };
}

/** A TtyTerminal on `out` (its input a stream that is a TTY), with `skipped` and `lost` for its count lines. */
function terminalOn(
  out: NodeJS.WriteStream,
  skipped: (n: number) => string,
  lost: (n: number) => string,
): { terminal: TtyTerminal; input: PassThrough } {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const handlers = { line: () => {}, end: () => {}, interrupt: () => {} };
  const terminal = new TtyTerminal(handlers as never, false, input as unknown as NodeJS.ReadStream, out, skipped, lost);
  return { terminal, input };
}

test("a flood of short peer lines waits at most MAX_PEER_BACKLOG_LINES lines; the rest are counted", async () => {
  const { out, text, fast } = slowOutput(PEER_BURST_MS / PEER_BURST_MIN_LINES + 0.1);
  const { terminal, input } = terminalOn(
    out,
    (n) => `${n} NOT SHOWN`,
    (n) => `${n} OWN LOST`,
  );
  const lines = MAX_PEER_BACKLOG_LINES * 3;
  for (let i = 0; i < lines; i++) terminal.printFromPeer(`<p> ${i}`);
  fast(); // the turn was spent at a slow terminal; what waits is written quickly from here
  await terminal.close();
  input.destroy();
  const shown = text().match(/<p> \d+\n/g)?.length ?? 0;
  const counted = Number(/(\d+) NOT SHOWN/.exec(text())?.[1] ?? 0);
  expect(shown + counted).toBe(lines);
  expect(shown).toBeLessThanOrEqual(MAX_PEER_BACKLOG_LINES + PEER_BURST_MIN_LINES * 4);
});

test("closing writes what waits in order in a few writes, not with the bottom redrawn for each line", async () => {
  const { out, text, fast } = slowOutput(PEER_BURST_MS / PEER_BURST_MIN_LINES + 0.1);
  let writes = 0;
  const write = out.write.bind(out);
  out.write = ((data: string | Uint8Array, cb?: () => void) => {
    writes++;
    return write(data, cb);
  }) as typeof out.write;
  const { terminal, input } = terminalOn(out, String, String);
  const lines = 2_000;
  for (let i = 0; i < lines; i++) terminal.printFromPeer(`<p> ${i}`);
  fast();
  const before = writes;
  await terminal.close();
  input.destroy();
  expect(writes - before).toBeLessThan(20);
  const shown = (text().match(/<p> \d+\n/g) ?? []).map((l) => Number(l.slice(4, -1)));
  expect(shown).toEqual(Array.from({ length: lines }, (_, i) => i));
});
