/**
 * Drives the pure Handshake (handshake.ts) over one connection: writes what it says to send,
 * switches the record layer's keys, owns the two timers and waits for the lazily loaded PAKE
 * code. Reports the outcome once; the connection is closed on failure and left open
 * (sealed) on success, for the rendezvous to take over.
 */

import { CryptoError } from "../crypto/errors.ts";
import { loadPake, pakeLoaded } from "../crypto/key-schedule.ts";
import type { SecureConnection } from "../crypto/secure-connection.ts";
import type { Frame } from "../protocol/frame-decoder.ts";
import type { Hello } from "../protocol/message-types.ts";
import type { FrameChannel } from "./channel.ts";
import { type Clock, systemClock } from "./clock.ts";
import { Handshake, type HandshakeFailure, type HandshakeOptions, type Security } from "./handshake.ts";
import { FIRST_HELLO_MS, HELLO_TIMEOUT_MS } from "./limits.ts";

/** Failures only the adapter sees: time, closes and evictions. */
export type DriverFailure =
  | HandshakeFailure
  /** No HELLO within FIRST_HELLO_MS. */
  | { readonly code: "E_SILENT" }
  /** The handshake did not finish within HELLO_TIMEOUT_MS. */
  | { readonly code: "E_TIMEOUT" }
  /** The peer closed before the handshake was through. */
  | { readonly code: "E_CLOSED" }
  /** The rendezvous dropped it to make room (see Rendezvous.accepted). */
  | { readonly code: "E_EVICTED" };

export type HandshakeOutcome =
  | { readonly ok: true; readonly peer: Hello; readonly security: Security }
  | {
      readonly ok: false;
      readonly failure: DriverFailure;
      /** Listener: a share was tried against our code and never confirmed (a wrong guess). */
      readonly guessSpent: boolean;
    };

export interface DriverOptions extends HandshakeOptions {
  /** Bench baseline only: run the handshake but leave the records unsealed. */
  readonly unsealedForBenchmark?: boolean;
  /** Loads the PAKE code (default loadPake); tests pass a gate to hold frames deterministically. */
  readonly loadPake?: () => Promise<void>;
  /** The peer spoke (its first frame arrived): it is no longer a silent connection. */
  readonly spoke?: () => void;
  /** The timers' clock (tests pass a manual one). Default: the real one. */
  readonly clock?: Clock;
  /** How long a connection may stay silent before it is dropped: FIRST_HELLO_MS at most (the default). */
  readonly firstHelloMs?: number;
}

export interface DrivenHandshake {
  /** Ends a handshake that is still running (the rendezvous needs its place). */
  evict(): void;
}

/**
 * @param ended - called once, synchronously when the last frame is handled: on success the
 *   caller must take the channel over at once, as the next record may follow in the same chunk
 */
export function driveHandshake(
  channel: FrameChannel,
  secure: SecureConnection,
  options: DriverOptions,
  ended: (outcome: HandshakeOutcome) => void,
): DrivenHandshake {
  const { conn } = channel;
  const clock = options.clock ?? systemClock;
  const handshake = new Handshake(options);
  const load = options.loadPake ?? loadPake;
  let loaded = options.loadPake === undefined && pakeLoaded();
  let settled = false;
  let spoke = false;
  let guessOpen = false;

  const settle = (result: HandshakeOutcome): void => {
    if (settled) return;
    settled = true;
    clock.clearTimeout(timer);
    clock.clearTimeout(silentTimer);
    handshake.dispose();
    ended(result);
  };
  const fail = (failure: DriverFailure, graceful = false): void => {
    if (settled) return;
    // Settled first: closing reports a close, which must not pass for the reason.
    settle({ ok: false, failure, guessSpent: guessOpen });
    if (graceful) conn.end(500);
    else conn.destroy();
  };
  const timer = clock.setTimeout(() => fail({ code: "E_TIMEOUT" }), HELLO_TIMEOUT_MS);
  // A Parley peer sends HELLO first thing: a connection silent for longer is dropped early.
  const silentTimer = clock.setTimeout(
    () => {
      if (!spoke) fail({ code: "E_SILENT" });
    },
    Math.min(options.firstHelloMs ?? FIRST_HELLO_MS, FIRST_HELLO_MS),
  );

  const handle = (frame: Frame, endsRecord: boolean): void => {
    if (settled) return;
    const step = handshake.receive(frame, endsRecord);
    for (const bytes of step.send) conn.write(bytes);
    if (step.sealWith && !options.unsealedForBenchmark) secure.startSealing(step.sealWith);
    if (step.guessed) guessOpen = true;
    if (step.guessReturned) guessOpen = false;
    if (step.error) return fail(step.error, step.send.length > 0);
    if (step.done) {
      if (options.unsealedForBenchmark) secure.continueUnsealedForBenchmark();
      else secure.startOpening(step.done.openWith);
      settle({ ok: true, peer: step.done.peer, security: step.done.security });
    }
  };

  // Frames that arrive before the PAKE code has loaded are held and handled in order once it is.
  const held: Array<{ frame: Frame; endsRecord: boolean }> = [];
  let closedWhileHeld: (() => void) | undefined;
  const handleHeld = (): void => {
    loaded = true;
    for (const next of held.splice(0)) handle(next.frame, next.endsRecord);
    closedWhileHeld?.();
  };

  for (const bytes of handshake.start().send) conn.write(bytes);
  channel.setOwner({
    onFrame: (frame) => {
      if (!spoke) {
        spoke = true;
        options.spoke?.();
      }
      if (loaded && held.length === 0) return handle(frame, channel.frameEndsChunk);
      held.push({ frame, endsRecord: channel.frameEndsChunk });
      if (held.length === 1) void load().then(handleHeld);
    },
    onDrain: () => {},
    onClose: (why) => {
      const closed = (): void => {
        if (why.protocol) fail({ code: "E_NOT_PARLEY", detail: why.protocol.message });
        else if (why.error instanceof CryptoError) {
          fail({ code: "E_NOT_PARLEY", detail: "bytes that are not Parley records" });
        } else fail({ code: "E_CLOSED" });
      };
      // A BYE held while the PAKE code loads still says why the peer closed.
      if (held.length > 0 && !settled) closedWhileHeld = closed;
      else closed();
    },
  });
  return { evict: () => fail({ code: "E_EVICTED" }) };
}
