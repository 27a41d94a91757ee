/**
 * The record path warmed before the first transfer: one transfer (WARM_UP_BYTES) inside this process,
 * between two sessions over a loopback TCP pair of our own, sealed with throwaway keys, from a
 * sparse file in a private temporary folder to that folder, which is removed after (a killed
 * run's by the next run: warm-up-leftovers.ts).
 *
 * Why: JavaScriptCore compiles a function with its optimising tier only after some tens of
 * calls, and the functions a record passes through (the pump, the file read and its digest,
 * sealing, the socket write; reading, opening, decoding, the digest, the file write, the ACK)
 * are each called once a record. Cold, a transfer's first ~100 records run in the slower tiers
 * while the compiler thread takes a CPU of its own, and on two cores chat lines waited behind
 * both: in the bench's CLI cases most lines over 5 ms came in a transfer's first 300 ms
 * (docs/DESIGN-NOTES.md, "The transfer's cold start (session 15)"). Warmed here while the
 * users read out the code, the first real record runs compiled code. It stops when a peer is
 * met (PeerLink.peerMet: a Parley session, or a plain wormhole client's transfer): its CPU then
 * belongs to the peer's work (run through the connect, it made a transfer typed at once worse:
 * the two shared the cores).
 *
 * The warm-up is invisible: its sessions report to no one, nothing is written outside its own
 * folder, and any failure only ends it early. It does not start where the temporary folder's
 * file system has less than WARM_UP_ROOM_FACTOR times its bytes free (a small tmpfs that others
 * use must not look full, even for the 0.3 s it takes); one with no size (a tmpfs mounted
 * size=0, unlimited) has room (freeBytesAt). `stop()` ends it at once (a real transfer
 * or the end of the run must not wait for it). PARLEY_WARM_UP=0 turns it off (the bench's A/B).
 */

import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecureConnection } from "../crypto/secure-connection.ts";
import type { SocketConnection } from "../net/connection.ts";
import { dial, type Listener, listen } from "../net/endpoints.ts";
import { makeHello } from "../protocol/messages.ts";
import { FrameChannel } from "../session/channel.ts";
import type { SessionEvents } from "../session/events.ts";
import { CHUNK_BYTES } from "../session/limits.ts";
import { Session } from "../session/session.ts";
import { withThrowawaySecret } from "../transfer/resume-token.ts";
import { freeBytesAt } from "../transfer/space-claims.ts";
import { removeLeftoverWarmUps, warmUpFolderPrefix } from "./warm-up-leftovers.ts";

/**
 * Bytes sent: 256 records of CHUNK_BYTES, each per-record function well past the optimising tier's
 * threshold (about 67 calls). 24 MiB (96 records) bought less than a 64 MiB transfer did.
 */
export const WARM_UP_BYTES = 64 * 1024 * 1024;
/**
 * ...but first, in the chat (PeerLink's warmFirstPass), at once (as soon as the session's native
 * code is loaded), a pass of 4 records: every function a transfer's first moments call (the offer
 * and its answer, the file opened and its .part made, the first records sealed, opened, hashed and
 * written, the file stored) gets its bytecode and first calls here, not in the turn that handles a
 * real transfer's first OFFER. That turn took 4.4 ms cold on the receiving side (bun --cpu-prof),
 * and a chat line typed with `transfer` waited behind it: in the bench's flow (a peer connecting
 * at once, `transfer` typed at once) the first line was its run's slowest. Session 16, the first
 * line's handler-to-screen time, medians of 8 ABBA pairs: 4.3 -> 1.85 ms (better in 8 of 8; a
 * scratch switch), then the built change with the preloaded directory calls against neither:
 * 4.45 -> 2.45 ms (better in 4, worse in 3). The bench's own verdicts, an env switch on the built
 * tree, 10 pairs of the one-way CLI case without and with it: chat p99 5.55 -> 4.03 ms (better in
 * 8), lines over 5 ms 10 -> 3, runs meeting the chat goal 4 -> 8 of 10, 1,220 / 1,219 MiB/s. It
 * costs 40-50 ms of CPU once (cold; 20 ms warm): a peer meeting us within that time waits for it
 * (through the mailbox, a script's meeting: time to connected 239-261 -> 271-278 ms, 4 pairs),
 * hence the chat only.
 */
export const FIRST_PASS_BYTES = 4 * CHUNK_BYTES;
/**
 * It starts this long after the code is shown (the mailbox's too, a round trip or more after the
 * load: PeerLink.codeShown): a code is read out and typed in seconds, while a peer that connects
 * sooner is a script or a code given on the command line, and a warm-up then
 * delays the connect (through the mailbox, started at once: 167-182 against 207-236 ms to
 * connected, 3 pairs) and shares the cores with the transfer that follows.
 */
export const WARM_UP_DELAY_MS = 1_000;
/**
 * The free space a warm-up needs where it writes, in multiples of its bytes: with 4, its file
 * takes at most a quarter of what is free (256 MiB free for 64 MiB), so others writing there
 * meanwhile still find room; a warm-up is a nicety, not worth a full file system to anyone.
 */
export const WARM_UP_ROOM_FACTOR = 4;
/** The most a warm-up may take (a loaded host): it is abandoned after this. */
const WARM_UP_LIMIT_MS = 5_000;

export interface WarmUp {
  /** Resolves with the bytes the receiving session verified (0 when it ended early), once everything is removed. */
  readonly done: Promise<number>;
  /** Ends the warm-up now (its sockets closed, its folder removed). */
  stop(): void;
}

/** Whether this run warms up (PARLEY_WARM_UP=0 turns it off). */
export function warmUpWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PARLEY_WARM_UP !== "0";
}

/**
 * Whether a warm-up of `bytes` may write where `freeBytes` are free (undefined: not known, so no).
 * @param freeBytes - bytes an unprivileged user may still write on that file system
 */
export function roomForWarmUp(freeBytes: number | undefined, bytes = WARM_UP_BYTES): boolean {
  return freeBytes !== undefined && freeBytes >= WARM_UP_ROOM_FACTOR * bytes;
}

/**
 * Starts the warm-up, unless the temporary folder's file system lacks the room (roomForWarmUp):
 * then `done` resolves with 0 and nothing is made. It never throws and prints nothing.
 * @param freeBytes - reads the free bytes where the temporary folder is (undefined: not known,
 *   so it is skipped); the transfers' own reader unless a test injects one
 */
export function startWarmUp(bytes = WARM_UP_BYTES, freeBytes = freeBytesAt): WarmUp {
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const done = warmUp(bytes, stopped, freeBytes).catch(() => 0);
  return { done, stop: () => stop() };
}

/** A run removes the folders killed runs left (warm-up-leftovers.ts) once, at its first warm-up. */
let leftoversSwept = false;

async function warmUp(
  bytes: number,
  stopped: Promise<void>,
  freeBytes: (dir: string) => number | undefined,
): Promise<number> {
  const base = tmpdir();
  if (!roomForWarmUp(freeBytes(base), bytes)) return 0;
  if (!leftoversSwept) {
    leftoversSwept = true;
    // Not awaited: its listing is read off the event loop, and this run's folder (our pid) is
    // never its; it never rejects.
    void removeLeftoverWarmUps(base);
  }
  const dir = mkdtempSync(join(base, warmUpFolderPrefix()));
  // The run may exit (process.exit) before the stop's cleanup below has run: the folder goes then.
  const removeAtExit = () => removeFolder(dir);
  process.on("exit", removeAtExit);
  let listener: Listener | undefined;
  const sockets: SocketConnection[] = [];
  const sessions: Session[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const source = join(dir, "source");
    const fd = openSync(source, "wx", 0o600);
    try {
      ftruncateSync(fd, bytes); // a hole: its reads are zeros, with no disk
    } finally {
      closeSync(fd);
    }
    const downloads = join(dir, "in");
    mkdirSync(downloads, { mode: 0o700 });

    let accepted: (conn: SocketConnection) => void = () => {};
    const acceptedConn = new Promise<SocketConnection>((resolve) => {
      accepted = resolve;
    });
    listener = listen("127.0.0.1", 0, (conn) => {
      sockets.push(conn);
      accepted(conn);
    });
    const dialed = await dial("127.0.0.1", listener.port);
    sockets.push(dialed);
    const theirs = await acceptedConn;
    listener.stop();

    let finished: (verified: number) => void = () => {};
    const outcome = new Promise<number>((resolve) => {
      finished = resolve;
    });
    const quiet: SessionEvents = {
      chatReceived() {},
      transferStarted() {},
      transferProgressed() {},
      transferFinished: (result) => {
        if (result.direction === "receive") finished(result.bytes);
      },
      transferFailed: () => finished(0),
      peerLeft: () => finished(0),
      connectionLost: () => finished(0),
      closed() {},
    };
    const there = randomKey();
    const back = randomKey();
    const ends: Array<[SocketConnection, "dialed" | "accepted", Uint8Array, Uint8Array]> = [
      [dialed, "dialed", there, back],
      [theirs, "accepted", back, there],
    ];
    for (const [conn, origin, sealKey, openKey] of ends) {
      const secure = new SecureConnection(conn);
      secure.startSealing(sealKey);
      secure.startOpening(openKey);
      const peerNonce = origin === "dialed" ? "00000000000000bb" : "00000000000000aa";
      sessions.push(
        new Session(new FrameChannel(secure, origin), {
          peer: makeHello(peerNonce, undefined),
          downloadDir: downloads,
          checksum: "xxh3",
          events: quiet,
        }),
      );
    }
    // Its token from a throwaway secret: the user's is neither made nor read for it.
    withThrowawaySecret(() => (sessions[0] as Session).sendFile(source));
    const limit = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(0), WARM_UP_LIMIT_MS);
    });
    return await Promise.race([outcome, limit, stopped.then(() => 0)]);
  } finally {
    clearTimeout(timer);
    for (const session of sessions) session.abort("warm-up over");
    for (const socket of sockets) socket.destroy();
    listener?.stop();
    process.off("exit", removeAtExit);
    removeFolder(dir);
  }
}

/** Removes the warm-up's folder; never throws (at exit, nothing may). */
function removeFolder(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left to the system's cleaning of its temporary folder.
  }
}

function randomKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}
