/**
 * The direct-connection handshake as a pure state machine (sans-I/O, as noise-handshake): it
 * takes frames and returns what to send, never touches a socket or a timer. An adapter
 * (handshake-driver.ts) owns those.
 *
 *   dialer                                   listener
 *   HELLO {nonce, mode: code|port}  ──▶
 *                                   ◀──  HELLO {nonce, mode: listen}
 *   SHARE (CPace)                   ──▶  ◀──  SHARE (CPace)
 *   CONFIRM (HMAC), then sealed     ──▶  ◀──  CONFIRM (HMAC), then sealed
 *
 * Both sides send HELLO at start() and SHARE as soon as the peer's HELLO is in (the session id
 * binds both HELLO bodies), CONFIRM as soon as the peer's SHARE is in. States:
 *
 *   awaiting-hello ──HELLO──▶ awaiting-share ──SHARE──▶ awaiting-confirm ──CONFIRM──▶ confirmed
 *         │                        │                         │
 *         └──────── anything else, BYE, a refusal, a wrong CONFIRM ──────────────▶ failed
 *
 * The PAKE code must be loaded (loadPake) before receive() is given a HELLO.
 */

import { CryptoError } from "../crypto/errors.ts";
import {
  type ConnectionKeys,
  confirmMatches,
  finishPake,
  type HandshakeRole,
  type PakeStart,
  sessionId,
  startPake,
} from "../crypto/key-schedule.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { OWN_FEATURES } from "../protocol/features.ts";
import type { Frame } from "../protocol/frame-decoder.ts";
import { APP_NAME, FrameType, HEADER_BYTES, PROTOCOL_VERSION } from "../protocol/frame-types.ts";
import type { Hello } from "../protocol/message-types.ts";
import { encodeMessage, makeHello, parseMessage } from "../protocol/messages.ts";

export type HandshakeState = "awaiting-hello" | "awaiting-share" | "awaiting-confirm" | "confirmed" | "failed";

/**
 * Codes a listener sends in BYE to refuse a connection before it becomes the session. Before
 * the peer is verified its own text is never shown, only our words for these codes.
 */
export const Refusal = {
  CodeRequired: "E_CODE_REQUIRED",
  Busy: "E_BUSY",
} as const;
export type RefusalCode = (typeof Refusal)[keyof typeof Refusal];

/** Why a handshake failed, as a stable code (the CLI words it). */
export type HandshakeFailure =
  /** The peer broke the protocol (`detail` is our own message, never the peer's text). */
  | { readonly code: "E_NOT_PARLEY"; readonly detail: string }
  /** Both ends are this process. */
  | { readonly code: "E_OWN_PORT" }
  /** Listener: the dialer gave only the port, and this listener accepts only the code. */
  | { readonly code: "E_CODE_REQUIRED" }
  /** The peer sent BYE: a known refusal code, or undefined (its text is not shown). */
  | { readonly code: "E_REFUSED"; readonly refusal: RefusalCode | undefined }
  /** Listener: the wrong-code budget is spent; this share was not tried. */
  | { readonly code: "E_TOO_MANY_GUESSES" }
  /** Key confirmation failed: the code was wrong. */
  | { readonly code: "E_WRONG_CODE" };

/** How a connection was authenticated. */
export interface Security {
  /** "code": both sides proved they know the code; "port": loopback, no code (unverified). */
  readonly mode: "code" | "port";
  /** Six digits both sides show, to compare out of band. */
  readonly verification: string;
}

/** What the adapter must do after one input. Frames in `send` go out in order, before anything else. */
export interface HandshakeStep {
  readonly send: readonly Uint8Array[];
  /** Seal everything written after `send` with this key (our CONFIRM is the last plain frame). */
  readonly sealWith?: Uint8Array;
  /** The handshake is through: open records with `openWith` from now on. */
  readonly done?: { readonly peer: Hello; readonly security: Security; readonly openWith: Uint8Array };
  /** The handshake failed: close the connection (gracefully when `send` holds a BYE). */
  readonly error?: HandshakeFailure;
  /** Listener: a share was tried against our code (one guess, taken back if CONFIRM matches). */
  readonly guessed?: boolean;
  /** Listener: the guess taken at the share turned out to be the right code. */
  readonly guessReturned?: boolean;
}

export interface HandshakeOptions {
  readonly role: HandshakeRole;
  /** Our process nonce (16 hex digits). */
  readonly nonce: string;
  readonly name?: string;
  /**
   * Dialer: the listener's code words, or "" for port-only mode. Listener: our own code words.
   */
  readonly words: string;
  /** Listener: accept a dialer that gives only the port (unverified). */
  readonly allowPortOnly?: boolean;
  /** Listener: asked before a share is tried against our code; false refuses it (guess budget). */
  readonly mayGuess?: () => boolean;
  /** The features our HELLO offers (default OWN_FEATURES). */
  readonly features?: readonly string[];
}

const NOTHING: HandshakeStep = { send: [] };

function checkHello(hello: Hello): Hello {
  if (hello.app !== APP_NAME) throw new ProtocolError("E_UNEXPECTED", "not a Parley client");
  if (hello.v !== PROTOCOL_VERSION) {
    throw new ProtocolError("E_VERSION", `protocol version ${hello.v} (this Parley speaks ${PROTOCOL_VERSION})`);
  }
  return hello;
}

function refusalCode(reason: string): RefusalCode | undefined {
  return (Object.values(Refusal) as string[]).includes(reason) ? (reason as RefusalCode) : undefined;
}

export class Handshake {
  private current: HandshakeState = "awaiting-hello";
  private ownHelloBody: Uint8Array = new Uint8Array(0);
  private peerHello: Hello | undefined;
  private sid: Uint8Array = new Uint8Array(0);
  private pake: PakeStart | undefined;
  private keys: ConnectionKeys | undefined;
  private mode: "code" | "port" = "port";

  constructor(private readonly options: HandshakeOptions) {}

  get state(): HandshakeState {
    return this.current;
  }

  /** The peer's HELLO, once received. */
  get peer(): Hello | undefined {
    return this.peerHello;
  }

  /** Our HELLO: the first frame on the connection. */
  start(): HandshakeStep {
    const { role, words } = this.options;
    const mode = role === "listener" ? "listen" : words ? "code" : "port";
    const features = this.options.features ?? OWN_FEATURES;
    const hello = encodeMessage(makeHello(this.options.nonce, this.options.name, features, mode));
    this.ownHelloBody = hello.subarray(HEADER_BYTES);
    return { send: [hello] };
  }

  /**
   * One frame from the peer.
   * @param endsRecord - the frame is the last thing in its plain record (CONFIRM must be:
   *   bytes behind it were never authenticated and must not reach the sealed part)
   */
  receive(frame: Frame, endsRecord = true): HandshakeStep {
    if (this.current === "confirmed" || this.current === "failed") return NOTHING;
    try {
      return this.step(frame, endsRecord);
    } catch (err) {
      if (err instanceof ProtocolError) return this.fail({ code: "E_NOT_PARLEY", detail: err.message });
      throw err;
    }
  }

  /** Wipes our secrets (the record layer has its own copies of the keys). */
  dispose(): void {
    this.pake?.secret.fill(0);
    const keys = this.keys;
    if (keys) for (const k of [keys.sendKey, keys.receiveKey, keys.confirm, keys.expectedConfirm]) k.fill(0);
  }

  private step(frame: Frame, endsRecord: boolean): HandshakeStep {
    if (frame.type === FrameType.Bye && this.current !== "awaiting-hello") {
      const bye = parseMessage(frame);
      return this.fail({ code: "E_REFUSED", refusal: refusalCode(bye.kind === "bye" ? bye.reason : "") });
    }
    switch (this.current) {
      case "awaiting-hello":
        return this.onHello(frame);
      case "awaiting-share":
        return this.onShare(frame);
      default:
        return this.onConfirm(frame, endsRecord);
    }
  }

  private onHello(frame: Frame): HandshakeStep {
    if (frame.type !== FrameType.Hello) throw new ProtocolError("E_UNEXPECTED", "the first frame was not HELLO");
    const peer = checkHello(parseMessage(frame) as Hello);
    this.peerHello = peer;
    const { role, words } = this.options;
    if (peer.nonce === this.options.nonce) return this.fail({ code: "E_OWN_PORT" });
    if (role === "listener") {
      this.mode = peer.mode === "code" ? "code" : "port";
      if (this.mode === "port" && !this.options.allowPortOnly) {
        this.current = "failed";
        return {
          send: [encodeMessage({ kind: "bye", reason: Refusal.CodeRequired })],
          error: { code: "E_CODE_REQUIRED" },
        };
      }
    } else this.mode = words ? "code" : "port";
    const password = this.mode === "code" ? words : "";
    // The exact HELLO bytes go into the session id: a HELLO changed on the way fails.
    this.sid =
      role === "dialer" ? sessionId(this.ownHelloBody, frame.payload) : sessionId(frame.payload, this.ownHelloBody);
    this.pake = startPake(password, this.mode, this.sid);
    this.current = "awaiting-share";
    return { send: [encodeMessage({ kind: "share", share: this.pake.share })] };
  }

  private onShare(frame: Frame): HandshakeStep {
    if (frame.type !== FrameType.Share || !this.pake || !this.peerHello) {
      throw new ProtocolError("E_UNEXPECTED", "expected the key share");
    }
    const share = (parseMessage(frame) as { share: Uint8Array }).share;
    const { role } = this.options;
    // Computing keys from a share tests one guess at our code: a listener counts it now (and
    // gets it back if the confirmation matches), whatever the dialer does next.
    if (role === "listener" && this.options.mayGuess && !this.options.mayGuess()) {
      return this.fail({ code: "E_TOO_MANY_GUESSES" });
    }
    try {
      this.keys = finishPake(role, this.pake, this.sid, share, this.options.nonce, this.peerHello.nonce);
    } catch (err) {
      if (err instanceof CryptoError) throw new ProtocolError("E_BAD_MESSAGE", "an invalid key share");
      throw err;
    }
    this.current = "awaiting-confirm";
    return {
      send: [encodeMessage({ kind: "confirm", mac: this.keys.confirm })],
      sealWith: this.keys.sendKey,
      ...(role === "listener" ? { guessed: true } : {}),
    };
  }

  private onConfirm(frame: Frame, endsRecord: boolean): HandshakeStep {
    const keys = this.keys;
    const peer = this.peerHello;
    if (frame.type !== FrameType.Confirm || !keys || !peer) {
      throw new ProtocolError("E_UNEXPECTED", "expected the key confirmation");
    }
    if (!endsRecord) throw new ProtocolError("E_UNEXPECTED", "data after the key confirmation in its record");
    const mac = (parseMessage(frame) as { mac: Uint8Array }).mac;
    if (!confirmMatches(keys, mac)) return this.fail({ code: "E_WRONG_CODE" });
    this.current = "confirmed";
    return {
      send: [],
      done: { peer, security: { mode: this.mode, verification: keys.verification }, openWith: keys.receiveKey },
      ...(this.options.role === "listener" ? { guessReturned: true } : {}),
    };
  }

  private fail(error: HandshakeFailure): HandshakeStep {
    this.current = "failed";
    return { send: [], error };
  }
}
