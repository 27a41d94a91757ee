/**
 * Test helpers: two in-process Parley peers on 127.0.0.1, each a real listener plus a
 * Rendezvous, with every session event recorded and awaitable.
 */

import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropWords } from "../../src/cli/drop-words.ts";
import { dial, type Listener, listen } from "../../src/net/index.ts";
import {
  type FailureWhy,
  Rendezvous,
  type Session,
  type SessionEvents,
  type SessionOptions,
  type TransferDone,
  type TransferInfo,
} from "../../src/session/index.ts";
import type { ChecksumAlgo } from "../../src/transfer/index.ts";
import { markAsOurs } from "../../src/transfer/part-mark.ts";
import { resumeTokenFor } from "../../src/transfer/resume-token.ts";
import { type RawParley, rawParley } from "../raw-parley.ts";

export type Recorded =
  | { type: "chat"; text: string }
  | { type: "started"; info: TransferInfo }
  | { type: "finished"; done: TransferDone }
  | { type: "failed"; info: TransferInfo; reason: string; code: string; why?: FailureWhy | undefined }
  | { type: "peerLeaving"; reason: string }
  | { type: "chatAfterLeaving" }
  | { type: "peerLeft"; reason: string }
  | { type: "lost"; reason: string }
  | { type: "closed" }
  | { type: "dropped"; address: string; reason: string }
  | { type: "wrongCode"; address: string; side: string; attempts: number };

export class TestPeer {
  readonly events: Recorded[] = [];
  readonly dir: string;
  readonly rendezvous: Rendezvous;
  readonly listener: Listener;
  session: Session | undefined;
  /** Bytes so far per transfer id. */
  readonly progress = new Map<number, number>();
  /** Called on every progress event (after `progress` is updated). */
  onProgress: (info: TransferInfo, bytes: number) => void = () => {};
  private waiters: Array<() => void> = [];

  /** The words of this peer's code (what a dialer must know). */
  readonly codeWords: string;

  constructor(
    name: string,
    checksum: ChecksumAlgo = "sha256",
    options: {
      codeWords?: string;
      allowPortOnly?: boolean;
      loadPake?: () => Promise<void>;
      /** How long the listener lets a connection stay silent (RendezvousOptions.firstHelloMs). */
      firstHelloMs?: number;
      session?: Partial<Pick<SessionOptions, "decideOffer" | "openSink">>;
    } = {},
  ) {
    this.codeWords = options.codeWords ?? "ribbon-walnut";
    this.dir = mkdtempSync(join(tmpdir(), `parley-${name}-`));
    const record = (e: Recorded): void => {
      this.events.push(e);
      for (const w of this.waiters.splice(0)) w();
    };
    const events: SessionEvents = {
      chatReceived: (text) => record({ type: "chat", text }),
      transferStarted: (info) => record({ type: "started", info }),
      transferProgressed: (info, bytes) => {
        this.progress.set(info.id, bytes);
        this.onProgress(info, bytes);
      },
      transferFinished: (done) => record({ type: "finished", done }),
      transferFailed: (info, reason, code, why) => record({ type: "failed", info, reason, code, why }),
      peerLeaving: (reason) => record({ type: "peerLeaving", reason }),
      peerChattedAfterLeaving: () => record({ type: "chatAfterLeaving" }),
      peerLeft: (reason) => record({ type: "peerLeft", reason }),
      connectionLost: (reason) => record({ type: "lost", reason }),
      closed: () => record({ type: "closed" }),
    };
    this.rendezvous = new Rendezvous({
      downloadDir: this.dir,
      checksum,
      name,
      codeWords: this.codeWords,
      ...(options.allowPortOnly ? { allowPortOnly: true } : {}),
      ...(options.loadPake ? { loadPake: options.loadPake } : {}),
      ...(options.firstHelloMs === undefined ? {} : { firstHelloMs: options.firstHelloMs }),
      ...options.session,
      events,
      rendezvousEvents: {
        connected: (session) => {
          this.session = session;
          for (const w of this.waiters.splice(0)) w();
        },
        dropped: (address, reason) => record({ type: "dropped", address, reason: dropWords(reason) }),
        wrongCode: (address, side, attempts) => record({ type: "wrongCode", address, side, attempts }),
      },
    });
    this.listener = listen("127.0.0.1", 0, (conn) => this.rendezvous.accepted(conn));
  }

  /** Dials `other` with its code (`words` "" for port-only mode). */
  async dialTo(other: TestPeer, words: string = other.codeWords): Promise<void> {
    const conn = await dial("127.0.0.1", other.listener.port);
    await this.rendezvous.dialed(conn, words);
  }

  /** Resolves with the first recorded event (from index `from`) matching `pred`. */
  async waitFor<T extends Recorded["type"]>(
    type: T,
    pred: (e: Extract<Recorded, { type: T }>) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Extract<Recorded, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e): e is Extract<Recorded, { type: T }> => e.type === type && pred(e as never));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type}; have ${JSON.stringify(this.events)}`);
      await this.nextEvent(deadline - Date.now());
    }
  }

  /** Resolves once `cond()` holds, looked at again after every recorded event. */
  async waitUntil(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting; have ${JSON.stringify(this.events)}`);
      await this.nextEvent(deadline - Date.now());
    }
  }

  async waitForSession(timeoutMs = 10_000): Promise<Session> {
    const deadline = Date.now() + timeoutMs;
    while (!this.session) {
      if (Date.now() > deadline) throw new Error("timed out waiting for a session");
      await this.nextEvent(deadline - Date.now());
    }
    return this.session;
  }

  private nextEvent(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(timeoutMs, 1));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.session?.abort("test over");
    this.listener.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Two connected peers: `a` dialed `b`. */
export async function connectedPair(checksum: ChecksumAlgo = "sha256"): Promise<[TestPeer, TestPeer]> {
  const a = new TestPeer("alice", checksum);
  const b = new TestPeer("bob", checksum);
  await a.dialTo(b);
  await Promise.all([a.waitForSession(), b.waitForSession()]);
  return [a, b];
}

/** Writes a file of `size` random bytes and returns them. */
export function writeRandomFile(path: string, size: number): Uint8Array {
  const bytes = randomBytes(size);
  writeFileSync(path, bytes);
  return bytes;
}

/**
 * Marks a hand-made `.part` as Parley's own, as an interrupted transfer leaves it: for the
 * sender of `source` (its resume token), or for an offer without a token.
 */
export function markAsParleyPart(path: string, source?: string): void {
  const fd = openSync(path, "r+");
  try {
    markAsOurs(fd, source === undefined ? undefined : resumeTokenFor(source));
  } finally {
    closeSync(fd);
  }
}

/**
 * A hand-made client that completes the real handshake with `target` as the follower
 * (smallest nonce), so what it sends next comes from an authenticated peer.
 */
export async function rawFollower(target: TestPeer): Promise<RawParley> {
  const raw = await rawParley(target.listener.port, { leader: false, words: target.codeWords });
  await target.waitForSession();
  return raw;
}
