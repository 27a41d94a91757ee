/**
 * Rendezvous: turns connections (accepted by our listener or dialed by us) into exactly one Session with one peer.
 *
 * 1. Each connection runs the handshake (handshake.ts, driven by handshake-driver.ts): HELLO,
 *    key shares, key confirmation. A connection that sends anything else, bad bytes, or does
 *    not finish in time is dropped and reported; the listener keeps waiting. Accepted
 *    connections are admitted by `accepted` (silent pool, handshake places, guess budget).
 * 2. The side whose HELLO nonce is larger ("the leader") picks the one connection to keep
 *    (candidate-choice.ts) and sends READY on it, waiting first for a dial of its own in
 *    progress, so when both users dialed at once, both end on the leader's connection.
 * 3. The other side ("the follower") uses nothing until READY arrives; it then starts the
 *    session on that connection and closes its other connections to the same peer.
 * Nothing of the session is sent before READY, so no chat line can be lost on a connection
 * that is about to be dropped. Once a session exists, anyone else is refused with BYE "busy".
 */

import { type HandshakeRole, loadPake } from "../crypto/key-schedule.ts";
import { SecureConnection } from "../crypto/secure-connection.ts";
import type { Connection } from "../net/connection.ts";
import { hostOfAddress } from "../net/endpoints.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { OWN_FEATURES } from "../protocol/features.ts";
import { FrameType } from "../protocol/frame-types.ts";
import type { Hello } from "../protocol/message-types.ts";
import { encodeMessage, parseMessage } from "../protocol/messages.ts";
import { displaces, holdsReady, pickCandidate } from "./candidate-choice.ts";
import { FrameChannel } from "./channel.ts";
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
import { type DropReason, knownRefusal } from "./drop-reasons.ts";
import { Refusal, type Security } from "./handshake.ts";
import { driveHandshake, type HandshakeOutcome } from "./handshake-driver.ts";
import { HELLO_TIMEOUT_MS } from "./limits.ts";
import { type Arrival, ListenerPlaces } from "./listener-places.ts";
import type { MetPath, Rendezvoused } from "./meeting.ts";
import { OwnDials } from "./own-dials.ts";
import { Session, type SessionOptions } from "./session.ts";

export { Refusal, type Security } from "./handshake.ts";
export type { MetPath, Rendezvoused } from "./meeting.ts";

export interface RendezvousEvents {
  /**
   * A session began (fires once). `via`: how a connection met another way (Rendezvoused.via)
   * reaches the peer; undefined for a direct one.
   */
  connected(session: Session, via?: MetPath): void;
  /**
   * A handshake failed key confirmation: the code was wrong. `side` says which end we are;
   * `attempts` counts such failures at our listener (0 on the dialing side).
   */
  wrongCode(remoteAddress: string, side: HandshakeRole, attempts: number): void;
  /**
   * A connection was dropped before it became the session (not Parley, busy, our own port).
   * `dialed`: it was one we dialed (a failed dial), not one that came to our listener.
   */
  dropped(remoteAddress: string, reason: DropReason, dialed: boolean): void;
}

export interface RendezvousOptions extends Omit<SessionOptions, "peer" | "security" | "via"> {
  readonly name?: string;
  /** Features our HELLO offers besides OWN_FEATURES (`parley receive`: Feature.ReceiveOnly, ...). */
  readonly features?: readonly string[];
  readonly rendezvousEvents: RendezvousEvents;
  /** The words of our listener's code (the PAKE password for dialers that give the code). */
  readonly codeWords?: string;
  /**
   * Accept dialers that give only the port, unverified (the CLI's --insecure-port-only, on
   * loopback only). Off by default: the code is the only way in.
   */
  readonly allowPortOnly?: boolean;
  /**
   * Benchmark baseline only (`bun run bench`, case parley-unsealed): run the whole handshake
   * but leave the records unsealed, to measure what sealing costs. Both sides must agree; the
   * CLI never sets it.
   */
  readonly unsealedForBenchmark?: boolean;
  /** Loads the PAKE code (tests hold frames with a gate); default: the lazy loader. */
  readonly loadPake?: () => Promise<void>;
  /**
   * How long an accepted connection may send nothing Parley reads before it is dropped:
   * FIRST_HELLO_MS at most (the default). Tests of that drop set it shorter (the CLI reads
   * PARLEY_FIRST_HELLO_MS) instead of waiting out the 2 s.
   */
  readonly firstHelloMs?: number;
}

/** A connection whose handshake is done, waiting to be picked (or dropped). */
interface Candidate extends Rendezvoused {
  readonly timer: TimerHandle;
  /** Resolves the handshake's promise: this connection became the session or was dropped. */
  readonly decided: () => void;
  /** An unverified leader's READY, held while a dial with the code is still under way. */
  readyHeld?: boolean;
}

export class Rendezvous {
  /** This process's HELLO nonce: 64 random bits as hex. */
  readonly nonce: string;

  /** The features our HELLO offers (a mailbox meeting's HELLO offers the same). */
  get helloFeatures(): readonly string[] {
    return this.options.features ? [...OWN_FEATURES, ...this.options.features] : OWN_FEATURES;
  }
  private session: Session | undefined;
  private readonly candidates = new Set<Candidate>();
  /** Our dials under way, and the leader's wait for them (own-dials.ts). */
  private readonly dials: OwnDials;
  /** Accepted connections in their handshake, and the guesses at our code (listener-places.ts). */
  private readonly places = new ListenerPlaces();
  private readonly clock: Clock;

  constructor(private readonly options: RendezvousOptions) {
    this.clock = options.clock ?? systemClock;
    this.dials = new OwnDials(this.clock);
    if (!options.loadPake) void loadPake(); // in the background: ready long before a peer's HELLO usually
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    this.nonce = Buffer.from(bytes).toString("hex");
  }

  get current(): Session | undefined {
    return this.session;
  }

  /** A connection our listener accepted: it takes a place (admission.ts says who gives one up). */
  accepted(conn: Connection): void {
    // None once MAX_WRONG_CODES wrong codes were tried: guessing the code must be hopeless.
    const arrival = this.places.arrived(hostOfAddress(conn.remoteAddress));
    if (!arrival) return conn.destroy();
    const secure = new SecureConnection(conn);
    void this.handshake(new FrameChannel(secure, "accepted"), secure, undefined, arrival);
  }

  /**
   * Call when a dial starts, before it connects: a leader waits for it before picking.
   * @param codeWords - the words of the listener's code the user gave; none: port-only mode
   * @returns the function to call with the connection, or with undefined if the dial failed
   */
  dialStarted(codeWords?: string): (conn: Connection | undefined) => Promise<void> {
    // The dial stops counting as "in progress" once its handshake is through (or failed):
    // from then on the leader may pick, this connection included.
    const uncount = this.dials.started(Boolean(codeWords));
    return async (conn) => {
      if (conn) {
        const secure = new SecureConnection(conn);
        await this.handshake(new FrameChannel(secure, "dialed"), secure, codeWords ?? "", undefined, uncount);
      }
      uncount();
      this.pickIfLeader();
      this.startHeldReady();
    };
  }

  /** A connection we dialed (dialStarted and its result in one call). */
  dialed(conn: Connection, codeWords?: string): Promise<void> {
    return this.dialStarted(codeWords)(conn);
  }

  /**
   * A connection authenticated by another way of meeting (see Rendezvoused): it becomes a
   * candidate like a direct one. Resolves once it is the session or has been dropped.
   */
  joined(met: Rendezvoused): Promise<void> {
    return new Promise((decided) => {
      if (!this.takeCandidate(met.channel, met.peer, decided, met.security, met.via)) decided();
    });
  }

  /**
   * Runs the handshake (handshake-driver.ts); a connection that gets through becomes a
   * candidate. Resolves once it is the session or has been dropped.
   * @param dialerWords - dialer: the code words ("" for port-only mode); listener: undefined
   * @param handshakeDone - called when the handshake ended either way, before anything else
   */
  private handshake(
    channel: FrameChannel,
    secure: SecureConnection,
    dialerWords: string | undefined,
    arrival: Arrival | undefined,
    handshakeDone: () => void = () => {},
  ): Promise<void> {
    const role: HandshakeRole = dialerWords === undefined ? "listener" : "dialer";
    const address = channel.conn.remoteAddress;
    return new Promise<void>((resolve) => {
      const ended = (outcome: HandshakeOutcome): void => {
        if (arrival) this.places.ended(arrival, outcome.ok);
        handshakeDone();
        if (outcome.ok) {
          if (!this.takeCandidate(channel, outcome.peer, resolve, outcome.security)) resolve();
          return;
        }
        const { failure } = outcome;
        const events = this.options.rendezvousEvents;
        if (failure.code === "E_WRONG_CODE") {
          events.wrongCode(address, role, role === "listener" ? this.places.wrongCodes : 0);
        } else if (!(failure.code === "E_OWN_PORT" && role === "listener")) {
          // Both ends ours: reported once, on the side that dialed.
          events.dropped(address, failure, role === "dialer");
          // Gone after its key share: that was a guess at the code all the same.
          if (outcome.guessSpent) events.wrongCode(address, role, this.places.wrongCodes);
        }
        resolve();
      };
      const driven = driveHandshake(
        channel,
        secure,
        {
          role,
          nonce: this.nonce,
          ...(this.options.name === undefined ? {} : { name: this.options.name }),
          words: role === "listener" ? (this.options.codeWords ?? "") : (dialerWords ?? ""),
          allowPortOnly: this.options.allowPortOnly === true,
          features: this.helloFeatures,
          ...(this.options.unsealedForBenchmark ? { unsealedForBenchmark: true } : {}),
          ...(this.options.loadPake ? { loadPake: this.options.loadPake } : {}),
          ...(this.options.firstHelloMs === undefined ? {} : { firstHelloMs: this.options.firstHelloMs }),
          clock: this.clock,
          ...(arrival
            ? { spoke: () => this.places.spoke(arrival), mayGuess: () => this.places.mayGuess(arrival) }
            : {}),
        },
        ended,
      );
      if (arrival) arrival.driven = driven;
    });
  }

  /** @returns false when the connection was dropped at once (not a candidate) */
  private takeCandidate(
    channel: FrameChannel,
    peer: Hello,
    decided: () => void,
    security: Security,
    via?: MetPath,
  ): boolean {
    const { conn } = channel;
    if (this.session) {
      if (peer.nonce === this.session.peer.nonce) {
        conn.destroy(); // the other half of a simultaneous dial, already decided
        return false;
      }
      this.refuse(channel);
      return false;
    }
    for (const c of [...this.candidates]) {
      if (c.peer.nonce === peer.nonce) continue;
      // Someone else got here first: one peer at a time; but a verified peer never loses to an
      // unverified one (--insecure-port-only): the unverified one goes.
      if (displaces(security, c.security)) {
        this.dropCandidate(c, { code: "E_DISPLACED" });
        continue;
      }
      this.refuse(channel);
      return false;
    }
    const candidate: Candidate = {
      channel,
      peer,
      security,
      ...(via ? { via } : {}),
      timer: this.clock.setTimeout(() => this.dropCandidate(candidate, { code: "E_NO_ANSWER" }), HELLO_TIMEOUT_MS),
      decided,
    };
    this.candidates.add(candidate);
    channel.setOwner({
      onFrame: (frame) => {
        if (frame.type === FrameType.Bye) {
          const bye = parseMessage(frame);
          const refusal = bye.kind === "bye" ? knownRefusal(bye.reason, Object.values(Refusal)) : undefined;
          return this.dropCandidate(candidate, { code: "E_WITHDRAWN", refusal });
        }
        if (frame.type !== FrameType.Ready || this.isLeader(peer)) {
          throw new ProtocolError("E_UNEXPECTED", "a frame before the connection was picked");
        }
        parseMessage(frame);
        // An unverified leader waits while a dial of ours with the code is under way.
        if (holdsReady(security, this.dials.verifiedInProgress)) {
          candidate.readyHeld = true;
          return;
        }
        this.start(candidate);
      },
      onDrain: () => {},
      onClose: (why) => {
        this.clock.clearTimeout(candidate.timer);
        this.candidates.delete(candidate);
        if (why.protocol) {
          this.options.rendezvousEvents.dropped(
            conn.remoteAddress,
            { code: "E_PROTOCOL", detail: why.protocol.message },
            channel.origin === "dialed",
          );
        }
        decided();
      },
    });
    this.pickIfLeader();
    return true;
  }

  /** After a dial ended: a READY held for it is honoured now, if nothing better came. */
  private startHeldReady(): void {
    if (this.session || this.dials.verifiedInProgress > 0) return;
    const held = [...this.candidates].find((c) => c.readyHeld);
    if (held) this.start(held);
  }

  private isLeader(peer: Hello): boolean {
    return this.nonce > peer.nonce;
  }

  /**
   * The leader keeps a verified connection over an unverified one; among those, the one it
   * dialed, else the one it accepted. While a dial of its own is in progress it waits for it,
   * but at most DIAL_WAIT_MS: that dial may go somewhere else entirely (a wrong port, a
   * silent host).
   */
  private pickIfLeader(force = false): void {
    if (this.session) return;
    const leading = [...this.candidates].filter((c) => this.isLeader(c.peer));
    if (leading.length === 0) return;
    if (!force && this.dials.waitThen(() => this.pickIfLeader(true))) return;
    this.dials.stopWaiting();
    const pick = pickCandidate(leading.map((c) => ({ c, security: c.security, origin: c.channel.origin }))).c;
    pick.channel.conn.write(encodeMessage({ kind: "ready" }));
    if (pick.channel.conn.closed) return; // gone while we wrote: its onClose already dropped it
    this.start(pick);
  }

  private start(chosen: Candidate): void {
    // A wait for a dial of ours (pickIfLeader) is over too when the session starts on the peer's READY.
    this.dials.stopWaiting();
    for (const c of [...this.candidates]) {
      this.clock.clearTimeout(c.timer);
      this.candidates.delete(c);
      if (c !== chosen) c.channel.conn.destroy();
    }
    const { channel, peer, security, via } = chosen;
    this.session = new Session(channel, { ...this.options, peer, security, via });
    this.options.rendezvousEvents.connected(this.session, via);
    chosen.decided();
  }

  private dropCandidate(candidate: Candidate, reason: DropReason): void {
    if (!this.candidates.delete(candidate)) return;
    this.clock.clearTimeout(candidate.timer);
    candidate.channel.conn.destroy();
    const { channel } = candidate;
    this.options.rendezvousEvents.dropped(channel.conn.remoteAddress, reason, channel.origin === "dialed");
    candidate.decided();
  }

  private refuse(channel: FrameChannel): void {
    channel.conn.write(encodeMessage({ kind: "bye", reason: Refusal.Busy }));
    channel.conn.end(500);
    this.options.rendezvousEvents.dropped(channel.conn.remoteAddress, { code: "E_BUSY" }, channel.origin === "dialed");
  }
}
