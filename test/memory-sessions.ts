/**
 * Test helpers: a manual Clock, and two Sessions over an in-memory Connection pair whose
 * frames move only when the test delivers them, so the order in which the two sides' messages
 * cross can be chosen (no sockets, no handshake, no crypto).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { failureWords } from "../src/cli/reason-words.ts";
import { type MemoryConnection, memoryPair } from "../src/net/index.ts";
import { FrameType, makeHello } from "../src/protocol/index.ts";
import type { Clock, TimerHandle } from "../src/session/clock.ts";
import {
  FrameChannel,
  Session,
  type SessionEvents,
  type SessionOptions,
  type TransferDone,
  type TransferInfo,
} from "../src/session/index.ts";

interface Timer {
  at: number;
  readonly fn: () => void;
  readonly every?: number;
}

/** Time moves only when `advance` is called; immediates run on `advance` too. */
export class ManualClock implements Clock {
  private t = 0;
  private readonly timers = new Set<Timer>();
  private immediates: Array<() => void> = [];

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + ms, fn };
    this.timers.add(timer);
    return timer as unknown as TimerHandle;
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers.delete(handle as unknown as Timer);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + ms, fn, every: ms };
    this.timers.add(timer);
    return timer as unknown as TimerHandle;
  }
  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }
  setImmediate(fn: () => void): void {
    this.immediates.push(fn);
  }

  /** Moves time on by `ms`, running immediates and every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      for (const fn of this.immediates.splice(0)) fn();
      const due = [...this.timers].filter((x) => x.at <= end).sort((x, y) => x.at - y.at)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      if (due.every) due.at += due.every;
      else this.timers.delete(due);
      due.fn();
    }
    this.t = end;
  }
}

export type Seen =
  | { type: "chat"; text: string }
  | { type: "started"; info: TransferInfo }
  | { type: "finished"; done: TransferDone }
  | { type: "failed"; info: TransferInfo; words: string; code: string; peerCode?: string }
  | { type: "progress"; id: number; bytes: number }
  | { type: "peerLeft"; reason: string }
  | { type: "lost"; reason: string }
  | { type: "closed" };

function recorder(seen: Seen[]): SessionEvents {
  return {
    chatReceived: (text) => seen.push({ type: "chat", text }),
    transferStarted: (info) => seen.push({ type: "started", info }),
    transferProgressed: (info, bytes) => seen.push({ type: "progress", id: info.id, bytes }),
    transferFinished: (done) => seen.push({ type: "finished", done }),
    transferFailed: (info, reason, code, why) =>
      seen.push({
        type: "failed",
        info,
        words: failureWords(info, reason, why),
        code,
        ...(why?.by === "peer" ? { peerCode: why.code } : {}),
      }),
    peerLeft: (reason) => seen.push({ type: "peerLeft", reason }),
    connectionLost: (reason) => seen.push({ type: "lost", reason }),
    closed: () => seen.push({ type: "closed" }),
  };
}

export interface MemorySide {
  readonly session: Session;
  /** This side's end: `conn.deliver()` hands what it wrote to the other side. */
  readonly conn: MemoryConnection;
  readonly seen: Seen[];
  readonly dir: string;
  /** Frame types waiting in this side's outbox, oldest first. */
  pendingTypes(): number[];
}

type SideOptions = Partial<Omit<SessionOptions, "peer" | "events" | "downloadDir" | "clock">>;

/** `a` dialed `b` (a's transfer ids are odd). Remove the folders with `close`. */
export function memorySessions(options: { a?: SideOptions; b?: SideOptions } = {}): {
  a: MemorySide;
  b: MemorySide;
  clock: ManualClock;
  close(): void;
} {
  const clock = new ManualClock();
  const [ca, cb] = memoryPair();
  const side = (
    conn: MemoryConnection,
    origin: "dialed" | "accepted",
    name: string,
    extra?: SideOptions,
  ): MemorySide => {
    const seen: Seen[] = [];
    const dir = mkdtempSync(join(tmpdir(), `parley-mem-${name}-`));
    const session = new Session(new FrameChannel(conn, origin), {
      peer: makeHello(origin === "dialed" ? "00000000000000bb" : "00000000000000aa", name === "a" ? "b" : "a"),
      downloadDir: dir,
      checksum: "xxh3",
      events: recorder(seen),
      clock,
      // Writes finish when they return: nothing completes outside the manual clock.
      writeBehind: false,
      ...extra,
    });
    return { session, conn, seen, dir, pendingTypes: () => conn.outbox.map((f) => f[4] as number) };
  };
  const a = side(ca, "dialed", "a", options.a);
  const b = side(cb, "accepted", "b", options.b);
  return {
    a,
    b,
    clock,
    close() {
      a.session.abort("test over");
      b.session.abort("test over");
      rmSync(a.dir, { recursive: true, force: true });
      rmSync(b.dir, { recursive: true, force: true });
    },
  };
}

export { FrameType };
