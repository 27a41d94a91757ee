/**
 * WriteBehind on fake file calls and a fake clock: synchronous while writes are quick, the
 * thread pool for a span after a slow one (slow by a mark that may change: lower while we chat), bounded memory, the descriptor kept open while
 * writes are in flight, and errors reported once. Then a FileReceiver on a real file whose
 * writes are made to look slow: the bytes it holds back count as its backlog until written; and
 * one whose writes are recorded: none starts on a 256 KiB boundary with more than a page, and each
 * record after the first is one write.
 */

import { expect, test } from "bun:test";
import { readFileSync, write, writeSync, writevSync } from "node:fs";
import { IncomingSinks, SessionWriteMark, slowWriteMark } from "../../src/session/incoming-sinks.ts";
import { CHAT_SLOW_WRITE_MS, FS_STALL_MS, RELAY_SLOW_WRITE_MS } from "../../src/session/limits.ts";
import { FileReceiver } from "../../src/transfer/file-receiver.ts";
import {
  ASYNC_SPAN_BYTES,
  type FileWrites,
  SLOW_WRITE_MS,
  type SlowWriteMark,
  WriteBehind,
} from "../../src/transfer/write-behind.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const PIECE = 256 * 1024;
/** What FileReceiver writes alone from a 256 KiB boundary (write-pieces.ts): a page. */
const LEAD = 4096;

type Done = (err: NodeJS.ErrnoException | null, written: number) => void;

/** Records every call; synchronous writes take `syncMs` of the fake clock; async ones wait for `complete`. */
class FakeFile implements FileWrites {
  t = 0;
  syncMs = 0;
  readonly syncWrites: number[] = [];
  readonly pending: Array<{ position: number; bytes: Uint8Array; done: Done }> = [];
  now(): number {
    return this.t;
  }
  writeSync(_fd: number, bytes: Uint8Array, offset: number, length: number, position: number): number {
    this.syncWrites.push(position);
    this.t += this.syncMs;
    expect(offset + length).toBeLessThanOrEqual(bytes.length);
    return length;
  }
  write(_fd: number, bytes: Uint8Array, offset: number, length: number, position: number, done: Done): void {
    this.pending.push({ position, bytes: bytes.slice(offset, offset + length), done });
  }
  /** Completes the oldest async write (`written` bytes of it, all by default), or fails it. */
  complete(err: NodeJS.ErrnoException | null = null, written?: number): void {
    const next = this.pending.shift();
    if (!next) throw new Error("no write in flight");
    next.done(err, written ?? (err ? 0 : next.bytes.length));
  }
}

function setup(poolBuffers?: number, slowWriteMs?: number | SlowWriteMark) {
  const file = new FakeFile();
  const events = { flushed: 0, failed: [] as unknown[], closed: 0 };
  const writer = new WriteBehind(
    7,
    PIECE,
    () => events.flushed++,
    (err) => events.failed.push(err),
    file,
    poolBuffers,
    slowWriteMs,
  );
  return { file, events, writer };
}

const piece = (fill: number) => new Uint8Array(PIECE).fill(fill);

/** Pieces 0, 1 and 2 at their places, the first one slow: 1 and 2 go to the pool and stay in flight. */
function slowThenTwoInFlight(file: FakeFile, writer: WriteBehind): void {
  file.syncMs = SLOW_WRITE_MS;
  writer.write(piece(0), 0);
  writer.write(piece(1), PIECE);
  writer.write(piece(2), 2 * PIECE);
}

test("quick writes stay synchronous: nothing is held back", () => {
  const { file, writer } = setup();
  file.syncMs = SLOW_WRITE_MS / 10;
  for (let i = 0; i < 10; i++) writer.write(piece(i), i * PIECE);
  expect(file.syncWrites).toHaveLength(10);
  expect(file.pending).toHaveLength(0);
  expect(writer.backlog).toBe(0);
});

test("with a higher mark (through a relay) writes under it stay synchronous, one at it sends the next to the pool", () => {
  const { file, writer } = setup(undefined, RELAY_SLOW_WRITE_MS);
  expect(RELAY_SLOW_WRITE_MS).toBeGreaterThan(SLOW_WRITE_MS);
  file.syncMs = RELAY_SLOW_WRITE_MS - SLOW_WRITE_MS; // slow by the default mark, not by this one
  for (let i = 0; i < 4; i++) writer.write(piece(i), i * PIECE);
  expect(file.syncWrites).toHaveLength(4);
  expect(file.pending).toHaveLength(0);
  file.syncMs = RELAY_SLOW_WRITE_MS;
  writer.write(piece(4), 4 * PIECE);
  writer.write(piece(5), 5 * PIECE);
  expect(file.syncWrites).toHaveLength(5);
  expect(file.pending.map((w) => w.position)).toEqual([5 * PIECE]);
});

test("a SlowWriteMark is asked at each write: at 0 (while we chat) every write goes to the pool, none waits", () => {
  let mark = SLOW_WRITE_MS;
  const { file, writer } = setup(undefined, { ms: () => mark, tookSync: () => {} });
  file.syncMs = SLOW_WRITE_MS / 2; // quick by the default mark
  for (let i = 0; i < 3; i++) writer.write(piece(i), i * PIECE);
  expect(file.syncWrites).toHaveLength(3);
  expect(file.pending).toHaveLength(0);
  mark = CHAT_SLOW_WRITE_MS;
  expect(CHAT_SLOW_WRITE_MS).toBe(0);
  for (let i = 3; i < 5; i++) writer.write(piece(i), i * PIECE);
  // No synchronous write to measure first: the main thread never waits on the file system.
  expect(file.syncWrites).toHaveLength(3);
  expect(file.pending.map((w) => w.position)).toEqual([3 * PIECE, 4 * PIECE]);
  expect(writer.backlog).toBe(2 * PIECE);
  // Past ASYNC_SPAN_BYTES too (a span measures again only by a non-zero mark).
  for (let i = 0; i < 2; i++) file.complete();
  const span = ASYNC_SPAN_BYTES / PIECE + 2;
  for (let i = 5; i < 5 + span; i++) {
    writer.write(piece(i), i * PIECE);
    file.complete();
  }
  expect(file.syncWrites).toHaveLength(3);
  mark = SLOW_WRITE_MS; // the chat over: quick writes are synchronous again
  writer.write(piece(99), 99 * PIECE);
  expect(file.syncWrites).toEqual([0, PIECE, 2 * PIECE, 99 * PIECE]);
});

test("at a mark of 0 memory stays bounded: with every pooled buffer in flight a write is synchronous", () => {
  const { file, writer } = setup(2, 0);
  for (let i = 0; i < 3; i++) writer.write(piece(i), i * PIECE);
  expect(file.pending.map((w) => w.position)).toEqual([0, PIECE]);
  expect(file.syncWrites).toEqual([2 * PIECE]);
  expect(writer.backlog).toBe(2 * PIECE);
});

test("after a slow write the next ones go to the thread pool, copied, and count as backlog until written", () => {
  const { file, events, writer } = setup();
  file.syncMs = SLOW_WRITE_MS;
  writer.write(piece(1), 0); // slow: the next ones are handed off
  const second = piece(2);
  writer.write(second, PIECE);
  second.fill(9); // the caller reuses its buffer at once
  expect(file.syncWrites).toEqual([0]);
  expect(file.pending.map((w) => w.position)).toEqual([PIECE]);
  expect(file.pending[0]?.bytes[0]).toBe(2);
  expect(writer.backlog).toBe(PIECE);
  expect(writer.busy).toBe(true);
  file.complete();
  expect(writer.backlog).toBe(0);
  expect(events.flushed).toBe(1);
});

test("the hand-off lasts ASYNC_SPAN_BYTES, then a synchronous write measures again", () => {
  const { file, writer } = setup();
  file.syncMs = SLOW_WRITE_MS;
  writer.write(piece(0), 0);
  file.syncMs = 0;
  const span = ASYNC_SPAN_BYTES / PIECE;
  for (let i = 1; i <= span + 1; i++) {
    writer.write(piece(i), i * PIECE);
    while (file.pending.length > 0) file.complete();
  }
  expect(file.syncWrites).toEqual([0, (span + 1) * PIECE]);
});

test("with every pooled buffer in flight a write is synchronous: memory stays bounded", () => {
  const { file, writer } = setup(2);
  file.syncMs = SLOW_WRITE_MS;
  writer.write(piece(0), 0);
  file.syncMs = 0;
  for (let i = 1; i <= 3; i++) writer.write(piece(i), i * PIECE);
  expect(file.pending.map((w) => w.position)).toEqual([PIECE, 2 * PIECE]);
  expect(file.syncWrites).toEqual([0, 3 * PIECE]);
  expect(writer.backlog).toBe(2 * PIECE);
});

test("close waits for the writes in flight before the descriptor goes", () => {
  const { file, events, writer } = setup();
  slowThenTwoInFlight(file, writer);
  writer.close(() => events.closed++);
  writer.write(piece(3), 3 * PIECE); // after close: dropped
  expect(events.closed).toBe(0);
  file.complete();
  expect(events.closed).toBe(0);
  file.complete();
  expect(events.closed).toBe(1);
  expect(file.pending).toHaveLength(0);
  expect(file.syncWrites).toEqual([0]);
});

test("a short write is finished; a failed one is reported once and nothing more is written", () => {
  const { file, events, writer } = setup();
  slowThenTwoInFlight(file, writer);
  file.complete(null, 1000); // short: the rest goes out from where it stopped
  expect(file.pending.map((w) => w.position)).toEqual([2 * PIECE, PIECE + 1000]);
  const full = Object.assign(new Error("no space"), { code: "ENOSPC" });
  file.complete(full);
  file.complete(full);
  expect(events.failed).toEqual([full]);
  expect(writer.backlog).toBe(0);
  writer.write(piece(3), 3 * PIECE);
  expect(file.pending).toHaveLength(0);
  expect(file.syncWrites).toEqual([0]);
});

const tempDir = tempDirsRemovedAfterEach("parley-write-behind-");

/**
 * A fresh folder (removed after the test) and real file calls on a clock that says every
 * synchronous write took `msPerWrite`.
 */
function clockedWrites(msPerWrite: number): { dir: string; writes: FileWrites } {
  const dir = tempDir();
  let t = 0;
  const writes: FileWrites = {
    now: () => t,
    writeSync: (...args) => {
      t += msPerWrite;
      return writeSync(...args);
    },
    write: (fd, bytes, offset, length, position, done) => write(fd, bytes, offset, length, position, done),
    writevSync: (fd, parts, position) => {
      t += msPerWrite;
      return writevSync(fd, parts, position);
    },
  };
  return { dir, writes };
}

test("a FileReceiver with slow writes holds bytes back as backlog, says when they are out, and stores them whole", async () => {
  // Every synchronous write took SLOW_WRITE_MS.
  const { dir, writes: slow } = clockedWrites(SLOW_WRITE_MS);
  const size = 3 * PIECE;
  const receiver = FileReceiver.open(dir, "f.bin", 1, size, "xxh3", {}, { writeBehind: slow });
  let flushed = 0;
  const allOut = new Promise<void>((resolve) => {
    receiver.onFlushed = () => {
      flushed++;
      if (receiver.backlog === 0) resolve();
    };
  });
  const chunk = new Uint8Array(PIECE);
  for (let i = 0; i < 3; i++) receiver.write(chunk.fill(i + 1));
  expect(receiver.received).toBe(size);
  // The first write (the first record's first page: write-pieces.ts) was slow: the rest of the
  // bytes are in flight, in four writes: the first record's rest but its last page, each later
  // record with the page before it in front (one pool job a record), and the last page.
  expect(receiver.backlog).toBe(size - LEAD);
  await allOut;
  expect(flushed).toBe(4);
  const stored = receiver.finish();
  const bytes = readFileSync(stored.path);
  expect(bytes.length).toBe(size);
  for (let i = 0; i < 3; i++) expect(bytes[i * PIECE + 5]).toBe(i + 1);
});

test("a FileReceiver never writes more than a page from a 256 KiB boundary, and writes each record after the first in one call", () => {
  const dir = tempDir();
  const calls: Array<[position: number, length: number]> = [];
  const recording: FileWrites = {
    now: () => 0,
    writeSync: (fd, bytes, offset, length, position) => {
      calls.push([position, length]);
      return writeSync(fd, bytes, offset, length, position);
    },
    write: (fd, bytes, offset, length, position, done) => {
      calls.push([position, length]);
      write(fd, bytes, offset, length, position, done);
    },
    writevSync: (fd, parts, position) => {
      calls.push([position, parts.reduce((sum, part) => sum + part.length, 0)]);
      return writevSync(fd, parts, position);
    },
  };
  // Three records from the file's start (every piece on a boundary), then 1,000 bytes and a
  // record that crosses the next boundary.
  const size = 3 * PIECE + 1_000 + PIECE;
  const receiver = FileReceiver.open(dir, "g.bin", 1, size, "xxh3", {}, { writeBehind: recording });
  const chunk = new Uint8Array(PIECE);
  for (let i = 0; i < 3; i++) receiver.write(chunk.fill(i + 1));
  receiver.write(new Uint8Array(1_000).fill(9));
  receiver.write(chunk.fill(4));
  for (const [position, length] of calls) {
    expect(length).toBeLessThanOrEqual(PIECE);
    if (position % PIECE === 0) expect(length).toBeLessThanOrEqual(LEAD);
  }
  // The file's first page alone, then the first record's rest but its last page; each later
  // record is one write, from the page below its boundary (that page carried in front of it).
  expect(calls.slice(0, 4)).toEqual([
    [0, LEAD],
    [LEAD, PIECE - 2 * LEAD],
    [PIECE - LEAD, PIECE],
    [2 * PIECE - LEAD, PIECE],
  ]);
  // 1,000 bytes at 768 KiB: one write with the page before them.
  expect(calls).toContainEqual([3 * PIECE - LEAD, LEAD + 1_000]);
  expect(calls.reduce((sum, [, length]) => sum + length, 0)).toBe(size);
  const bytes = readFileSync(receiver.finish().path);
  expect(bytes.length).toBe(size);
  for (let i = 0; i < 3; i++)
    expect([bytes[i * PIECE], bytes[i * PIECE + LEAD], bytes[(i + 1) * PIECE - 1]]).toEqual([i + 1, i + 1, i + 1]);
  expect([bytes[3 * PIECE], bytes[3 * PIECE + 999], bytes[3 * PIECE + 1_000], bytes[size - 1]]).toEqual([9, 9, 4, 4]);
});

test("IncomingSinks hands its slow-write mark to the files it opens (a relayed session's RELAY_SLOW_WRITE_MS)", () => {
  // Every synchronous write takes a little under the relay's mark.
  const { dir, writes: clocked } = clockedWrites(RELAY_SLOW_WRITE_MS - SLOW_WRITE_MS);
  const offer = (id: number, name: string) => ({ id, name, size: 2 * PIECE, direction: "receive" as const });
  const chunk = new Uint8Array(PIECE);
  const relayed = new IncomingSinks(dir, clocked, RELAY_SLOW_WRITE_MS).open(offer(1, "r.bin"), "xxh3", {});
  for (let i = 0; i < 2; i++) relayed.write(chunk);
  expect(relayed.backlog).toBe(0); // both written at once: neither was slow by the relay's mark
  const plain = new IncomingSinks(dir, clocked).open(offer(3, "p.bin"), "xxh3", {});
  for (let i = 0; i < 2; i++) plain.write(chunk);
  // By the default mark the first write (the first record's first page) was slow: the rest is in flight.
  expect(plain.backlog).toBe(2 * PIECE - LEAD);
});

test("a session's mark: the relay's through a relay; on a direct path CHAT_SLOW_WRITE_MS while it chats, else the default", () => {
  expect(slowWriteMark(true, { chatting: () => true, conversing: () => true, lineStretch: () => 1 })).toBe(
    RELAY_SLOW_WRITE_MS,
  );
  let chatting = false;
  const mark = slowWriteMark(false, {
    chatting: () => chatting,
    conversing: () => chatting,
    lineStretch: () => 1,
  }) as SlowWriteMark;
  const now = () => mark.ms();
  expect(now()).toBe(SLOW_WRITE_MS);
  chatting = true;
  expect(now()).toBe(CHAT_SLOW_WRITE_MS);
  expect(CHAT_SLOW_WRITE_MS).toBeLessThan(SLOW_WRITE_MS);
  // Through IncomingSinks to the files it opens: quick writes stay synchronous unless we chat.
  const { dir, writes: clocked } = clockedWrites((CHAT_SLOW_WRITE_MS + SLOW_WRITE_MS) / 2);
  const offer = (id: number, name: string) => ({ id, name, size: 2 * PIECE, direction: "receive" as const });
  const chunk = new Uint8Array(PIECE);
  chatting = false;
  const quiet = new IncomingSinks(dir, clocked, mark).open(offer(1, "q.bin"), "xxh3", {});
  for (let i = 0; i < 2; i++) quiet.write(chunk);
  expect(quiet.backlog).toBe(0);
  chatting = true;
  const chatty = new IncomingSinks(dir, clocked, mark).open(offer(3, "c.bin"), "xxh3", {});
  for (let i = 0; i < 2; i++) chatty.write(chunk);
  // While we chat no write is synchronous: both records are in flight, none measured first.
  expect(chatty.backlog).toBe(2 * PIECE);
});

/** A SessionWriteMark whose user types nothing; the peer's lines and their stretch set by the test. */
function peerOnlyMark() {
  const lines = { peerChatting: true, stretch: 1 };
  const mark = new SessionWriteMark({
    chatting: () => false,
    conversing: () => lines.peerChatting,
    lineStretch: () => lines.stretch,
  });
  return { lines, mark };
}

test("while only the peer chats, writes stay on the loop until one stalls on the file system; then none does while lines go on", () => {
  const { lines, mark } = peerOnlyMark();
  const { file, writer } = setup(undefined, mark);
  file.syncMs = RELAY_SLOW_WRITE_MS - SLOW_WRITE_MS; // slow by the default mark, not a stall
  expect(RELAY_SLOW_WRITE_MS - SLOW_WRITE_MS).toBeLessThan(FS_STALL_MS);
  writer.write(piece(0), 0); // slow: the next ASYNC_SPAN_BYTES go to the pool, then a write measures again
  let at = 1;
  const span = ASYNC_SPAN_BYTES / PIECE;
  const through = (n: number) => {
    for (const end = at + n; at < end; at++) {
      writer.write(piece(at), at * PIECE);
      while (file.pending.length > 0) file.complete();
    }
  };
  through(span + 1);
  expect(file.syncWrites).toHaveLength(2); // the first, and one measuring again after the span
  expect(mark.ms()).toBe(SLOW_WRITE_MS);
  file.syncMs = FS_STALL_MS; // that write slept on the file system (writeback, the journal)
  through(span + 1); // the span's first write is still synchronous: it measures
  expect(file.syncWrites).toHaveLength(3);
  expect(mark.ms()).toBe(CHAT_SLOW_WRITE_MS);
  through(3 * span); // past any span: while the peer's lines go on, no write waits in our loop
  expect(file.syncWrites).toHaveLength(3);
  lines.peerChatting = false; // the lines stopped: writes measure again, and a new stretch starts unstalled
  file.syncMs = 0;
  through(1);
  expect(file.syncWrites).toHaveLength(4);
  lines.peerChatting = true;
  lines.stretch++;
  expect(mark.ms()).toBe(SLOW_WRITE_MS);
});

test("a stall is held for its own stretch of lines only, though no write came between the stretches", () => {
  const { lines, mark } = peerOnlyMark();
  mark.tookSync(FS_STALL_MS);
  expect(mark.ms()).toBe(CHAT_SLOW_WRITE_MS);
  lines.peerChatting = false; // the lines stop, and no write asks the mark meanwhile
  lines.peerChatting = true; // a minute later, the peer chats again: a new stretch
  lines.stretch++;
  expect(mark.ms()).toBe(SLOW_WRITE_MS);
  mark.tookSync(FS_STALL_MS - 1); // slow, not a stall
  expect(mark.ms()).toBe(SLOW_WRITE_MS);
  mark.tookSync(FS_STALL_MS);
  expect(mark.ms()).toBe(CHAT_SLOW_WRITE_MS);
});

test("a file system stall while no line goes either way leaves the mark as it was (one span, as before)", () => {
  const mark = new SessionWriteMark({ chatting: () => false, conversing: () => false, lineStretch: () => 0 });
  mark.tookSync(10 * FS_STALL_MS);
  expect(mark.ms()).toBe(SLOW_WRITE_MS);
  const { file, writer } = setup(undefined, mark);
  file.syncMs = 10 * FS_STALL_MS;
  writer.write(piece(0), 0);
  const span = ASYNC_SPAN_BYTES / PIECE;
  for (let i = 1; i <= span + 1; i++) {
    writer.write(piece(i), i * PIECE);
    while (file.pending.length > 0) file.complete();
  }
  expect(file.syncWrites).toHaveLength(2); // the span, then a measuring write again
});
