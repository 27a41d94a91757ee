/**
 * Rendezvous: turns connections (accepted by our listener or dialed by us) into exactly one
 * Session with one peer.
 *
 * 1. Each connection exchanges HELLO. A connection that sends anything else, bad bytes, or no
 *    HELLO within HELLO_TIMEOUT_MS is dropped and reported; the listener keeps waiting.
 * 2. The side whose HELLO nonce is larger ("the leader") picks the one connection to keep and
 *    sends READY on it: the connection it dialed if it dialed the peer, else the one it
 *    accepted. While a dial of its own is still in progress it waits for that dial first, so
 *    when both users typed the other's port at once, both end on the leader's connection.
 * 3. The other side ("the follower") uses nothing until READY arrives; it then starts the
 *    session on that connection and closes its other connections to the same peer.
 * Nothing of the session is sent before READY, so no chat line can be lost on a connection
 * that is about to be dropped. Once a session exists, anyone else is refused with BYE "busy".
 */

import {
  type ConnectionKeys,
  CryptoError,
  confirmMatches,
  finishPake,
  type HandshakeRole,
  loadPake,
  type PakeStart,
  pakeLoaded,
  SecureConnection,
  sessionId,
  startPake,
} from "../crypto/index.ts";
import type { Connection } from "../net/index.ts";
import {
  APP_NAME,
  encodeMessage,
  type Frame,
  FrameType,
  HEADER_BYTES,
  type Hello,
  makeHello,
  PROTOCOL_VERSION,
  ProtocolError,
  parseMessage,
} from "../protocol/index.ts";
import { FrameChannel } from "./channel.ts";
import { DIAL_WAIT_MS, FIRST_HELLO_MS, HELLO_TIMEOUT_MS, MAX_ACCEPTED_HANDSHAKES, MAX_WRONG_CODES } from "./limits.ts";
import { Session, type SessionOptions } from "./session.ts";

export interface RendezvousEvents {
  /** A session began (fires once). */
  connected(session: Session): void;
  /**
   * A handshake failed key confirmation: the code was wrong. `side` says which end we are;
   * `attempts` counts such failures at our listener (0 on the dialing side).
   */
  wrongCode(remoteAddress: string, side: HandshakeRole, attempts: number): void;
  /** A connection was dropped before it became the session (not Parley, busy, our own port). */
  dropped(remoteAddress: string, reason: string): void;
}

export interface RendezvousOptions extends Omit<SessionOptions, "peer" | "security"> {
  readonly name?: string;
  readonly rendezvousEvents: RendezvousEvents;
  /** The words of our listener's code (the PAKE password for dialers that give the code). */
  readonly codeWords?: string;
  /** Refuse dialers that give only the port (a listener bound beyond loopback). */
  readonly requireCode?: boolean;
  /**
   * Benchmark baseline only (`bun run bench`, case parley-unsealed): run the whole handshake
   * but leave the records unsealed, to measure what sealing costs. Both sides must agree; the
   * CLI never sets it.
   */
  readonly unsealedForBenchmark?: boolean;
}

/** How a session's connection was authenticated. */
export interface Security {
  /** "code": both sides proved they know the code; "port": loopback, no code (unverified). */
  readonly mode: "code" | "port";
  /** Six digits both sides show, to compare out of band. */
  readonly verification: string;
}

function checkHello(hello: Hello): Hello {
  if (hello.app !== APP_NAME) throw new ProtocolError("E_UNEXPECTED", "not a Parley client");
  if (hello.v !== PROTOCOL_VERSION) {
    throw new ProtocolError("E_VERSION", `protocol version ${hello.v} (this Parley speaks ${PROTOCOL_VERSION})`);
  }
  return hello;
}

/** A connection whose HELLO exchange is done, waiting to be picked (or dropped). */
interface Candidate {
  readonly channel: FrameChannel;
  readonly peer: Hello;
  readonly security: Security;
  readonly timer: ReturnType<typeof setTimeout>;
  /** Resolves the handshake's promise: this connection became the session or was dropped. */
  readonly decided: () => void;
}

export class Rendezvous {
  /** This process's HELLO nonce: 64 random bits as hex. */
  readonly nonce: string;
  private session: Session | undefined;
  private readonly candidates = new Set<Candidate>();
  /** Dials started whose handshake has not finished yet. */
  private dialsInProgress = 0;
  /** Well-formed handshakes at our listener that failed key confirmation (a wrong code). */
  private wrongCodes = 0;
  /** Handshakes of accepted connections under way. */
  private acceptedHandshakes = 0;
  private pickTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: RendezvousOptions) {
    void loadPake(); // in the background: ready long before a peer's HELLO usually
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    this.nonce = Buffer.from(bytes).toString("hex");
  }

  get current(): Session | undefined {
    return this.session;
  }

  /** A connection our listener accepted. */
  accepted(conn: Connection): void {
    // Guessing the code must be hopeless: after MAX_WRONG_CODES failures nothing more is tried,
    // and only a few handshakes run at once, so parallel attempts cannot slip past the count.
    if (this.wrongCodes >= MAX_WRONG_CODES) return conn.destroy();
    if (this.acceptedHandshakes >= MAX_ACCEPTED_HANDSHAKES) {
      conn.destroy();
      this.options.rendezvousEvents.dropped(conn.remoteAddress, "refused: too many connections at once");
      return;
    }
    this.acceptedHandshakes++;
    const secure = new SecureConnection(conn);
    void this.handshake(new FrameChannel(secure, "accepted"), secure, undefined, () => this.acceptedHandshakes--);
  }

  /**
   * Call when a dial starts, before it connects: a leader waits for it before picking.
   * @param codeWords - the words of the listener's code the user gave; none: port-only mode
   * @returns the function to call with the connection, or with undefined if the dial failed
   */
  dialStarted(codeWords?: string): (conn: Connection | undefined) => Promise<void> {
    this.dialsInProgress++;
    let counted = true;
    // The dial stops counting as "in progress" once its handshake is through (or failed):
    // from then on the leader may pick, this connection included.
    const uncount = (): void => {
      if (!counted) return;
      counted = false;
      this.dialsInProgress--;
    };
    return async (conn) => {
      if (conn) {
        const secure = new SecureConnection(conn);
        await this.handshake(new FrameChannel(secure, "dialed"), secure, codeWords ?? "", uncount);
      }
      uncount();
      this.pickIfLeader();
    };
  }

  /** A connection we dialed (dialStarted and its result in one call). */
  dialed(conn: Connection, codeWords?: string): Promise<void> {
    return this.dialStarted(codeWords)(conn);
  }

  /**
   * HELLO, PAKE share, key confirmation; then the connection is sealed and becomes a
   * candidate. Resolves once it is the session or has been dropped.
   * @param dialerWords - dialer: the code words ("" for port-only mode); listener: undefined
   * @param handshakeDone - called when the handshake ended either way, before anything else
   */
  private handshake(
    channel: FrameChannel,
    secure: SecureConnection,
    dialerWords: string | undefined,
    handshakeDone: () => void = () => {},
  ): Promise<void> {
    const { conn } = channel;
    const role: HandshakeRole = dialerWords === undefined ? "listener" : "dialer";
    return new Promise<void>((resolve) => {
      let settled = false;
      let peer: Hello | undefined;
      let sid: Uint8Array = new Uint8Array(0);
      let pake: PakeStart | undefined;
      let keys: ConnectionKeys | undefined;
      let mode: "code" | "port" = "port";
      /** Listener: a guess was counted when keys were computed from the dialer's share. */
      let guessCounted = false;
      const settle = (): void => {
        settled = true;
        clearTimeout(timer);
        clearTimeout(helloTimer);
        // The record layer has its own copies of the keys; ours go.
        pake?.secret.fill(0);
        if (keys) for (const k of [keys.sendKey, keys.receiveKey, keys.confirm, keys.expectedConfirm]) k.fill(0);
        handshakeDone();
      };
      const drop = (reason: string, graceful = false): void => {
        if (settled) return;
        settle();
        if (graceful) conn.end(500);
        else conn.destroy();
        this.options.rendezvousEvents.dropped(conn.remoteAddress, reason);
        // Gone after its key share: that was a guess at the code all the same.
        if (guessCounted) this.options.rendezvousEvents.wrongCode(conn.remoteAddress, role, this.wrongCodes);
        resolve();
      };
      const timer = setTimeout(() => drop("not a Parley peer (no greeting within 5 s)"), HELLO_TIMEOUT_MS);
      // A Parley peer sends HELLO first thing: a connection silent for longer is dropped early,
      // so idle connections cannot hold the few handshake places for long.
      const helloTimer = setTimeout(() => {
        if (!peer) drop("not a Parley peer (no greeting)");
      }, FIRST_HELLO_MS);
      // Our HELLO first: attaching below may replay the peer's HELLO at once, and what follows
      // must come after ours on the wire.
      const ownMode = role === "listener" ? "listen" : dialerWords ? "code" : "port";
      const ownHello = encodeMessage(makeHello(this.nonce, this.options.name, [], ownMode));
      const ownHelloBody = ownHello.subarray(HEADER_BYTES);
      conn.write(ownHello);
      // The PAKE code loads lazily (not at start-up): frames that arrive before it has are held
      // and handled in order once it is there.
      const held: Array<{ frame: Frame; endsChunk: boolean }> = [];
      const handle = (frame: Frame, endsChunk: boolean): void => {
        if (settled) return;
        if (frame.type === FrameType.Bye && peer) {
          const bye = parseMessage(frame);
          return drop(`the peer refused the connection (${bye.kind === "bye" ? bye.reason : ""})`);
        }
        if (!peer) {
          if (frame.type !== FrameType.Hello) throw new ProtocolError("E_UNEXPECTED", "the first frame was not HELLO");
          peer = checkHello(parseMessage(frame) as Hello);
          if (peer.nonce === this.nonce) {
            // Both ends are ours: report it once, on the side that dialed.
            if (role === "dialer") return drop("that is this Parley's own port; enter the peer's");
            settle();
            conn.destroy();
            return resolve();
          }
          if (role === "listener") {
            mode = peer.mode === "code" ? "code" : "port";
            if (mode === "port" && this.options.requireCode) {
              conn.write(encodeMessage({ kind: "bye", reason: "this listener needs its code, not just the port" }));
              return drop("refused: the peer gave the port without the code (this listener needs it)", true);
            }
          } else mode = dialerWords ? "code" : "port";
          const password =
            mode === "code" ? (role === "listener" ? (this.options.codeWords ?? "") : (dialerWords ?? "")) : "";
          // The exact HELLO bytes go into the session id: a HELLO changed on the way fails.
          sid = role === "dialer" ? sessionId(ownHelloBody, frame.payload) : sessionId(frame.payload, ownHelloBody);
          pake = startPake(password, mode, sid);
          conn.write(encodeMessage({ kind: "share", share: pake.share }));
          return;
        }
        if (!keys) {
          if (frame.type !== FrameType.Share || !pake)
            throw new ProtocolError("E_UNEXPECTED", "expected the key share");
          const share = (parseMessage(frame) as { share: Uint8Array }).share;
          if (role === "listener") {
            // Computing keys from a share tests one guess at the code: count it now (and give
            // it back if the confirmation matches), so that guesses are bounded whatever the
            // dialer does next: confirm, close, or stall.
            if (this.wrongCodes >= MAX_WRONG_CODES) return drop("refused: too many wrong codes already");
            this.wrongCodes++;
            guessCounted = true;
          }
          try {
            keys = finishPake(role, pake, sid, share, this.nonce, peer.nonce);
          } catch (err) {
            if (err instanceof CryptoError) throw new ProtocolError("E_BAD_MESSAGE", "an invalid key share");
            throw err;
          }
          conn.write(encodeMessage({ kind: "confirm", mac: keys.confirm }));
          if (!this.options.unsealedForBenchmark) secure.startSealing(keys.sendKey);
          return;
        }
        if (frame.type !== FrameType.Confirm) throw new ProtocolError("E_UNEXPECTED", "expected the key confirmation");
        // CONFIRM must end its plain record: bytes behind it in the same record were never
        // authenticated and must not reach the sealed part of the connection.
        if (!endsChunk) {
          throw new ProtocolError("E_UNEXPECTED", "data after the key confirmation in its record");
        }
        const mac = (parseMessage(frame) as { mac: Uint8Array }).mac;
        if (!confirmMatches(keys, mac)) {
          guessCounted = false;
          settle();
          conn.end(500);
          this.options.rendezvousEvents.wrongCode(conn.remoteAddress, role, role === "listener" ? this.wrongCodes : 0);
          return resolve();
        }
        if (guessCounted) {
          this.wrongCodes--; // the right code: not a wrong guess after all
          guessCounted = false;
        }
        if (this.options.unsealedForBenchmark) secure.continueUnsealedForBenchmark();
        else secure.startOpening(keys.receiveKey);
        settle();
        this.helloCompleted(channel, peer, resolve, { mode, verification: keys.verification });
      };
      const handleHeld = (): void => {
        while (held.length > 0 && !settled && !conn.closed) {
          try {
            const next = held.shift() as { frame: Frame; endsChunk: boolean };
            handle(next.frame, next.endsChunk);
          } catch (err) {
            if (err instanceof ProtocolError) return channel.fail(err);
            throw err;
          }
        }
        held.length = 0;
      };
      channel.setOwner({
        onFrame: (frame) => {
          if (pakeLoaded() && held.length === 0) return handle(frame, channel.frameEndsChunk);
          held.push({ frame, endsChunk: channel.frameEndsChunk });
          if (held.length === 1) void loadPake().then(handleHeld);
        },
        onDrain: () => {},
        onClose: (why) => {
          if (why.protocol) drop(`not a Parley peer (${why.protocol.message})`);
          else if (why.error instanceof CryptoError) drop("not a Parley peer (bytes that are not Parley records)");
          else drop("closed before the greeting");
        },
      });
    });
  }

  private helloCompleted(channel: FrameChannel, peer: Hello, decided: () => void, security: Security): void {
    if (!this.takeCandidate(channel, peer, decided, security)) decided();
  }

  /** @returns false when the connection was dropped at once (not a candidate) */
  private takeCandidate(channel: FrameChannel, peer: Hello, decided: () => void, security: Security): boolean {
    const { conn } = channel;
    if (this.session) {
      if (peer.nonce === this.session.peer.nonce) {
        conn.destroy(); // the other half of a simultaneous dial, already decided
        return false;
      }
      this.refuse(channel);
      return false;
    }
    for (const c of this.candidates) {
      if (c.peer.nonce !== peer.nonce) {
        // Someone else got here first: one peer at a time.
        this.refuse(channel);
        return false;
      }
    }
    const candidate: Candidate = {
      channel,
      peer,
      security,
      timer: setTimeout(() => this.dropCandidate(candidate, "no answer to the greeting"), HELLO_TIMEOUT_MS),
      decided,
    };
    this.candidates.add(candidate);
    channel.setOwner({
      onFrame: (frame) => {
        if (frame.type === FrameType.Bye) {
          const bye = parseMessage(frame);
          const reason = bye.kind === "bye" ? bye.reason : "";
          return this.dropCandidate(candidate, `the peer refused the connection (${reason})`);
        }
        if (frame.type !== FrameType.Ready || this.isLeader(peer)) {
          throw new ProtocolError("E_UNEXPECTED", "a frame before the connection was picked");
        }
        parseMessage(frame);
        this.start(candidate);
      },
      onDrain: () => {},
      onClose: (why) => {
        clearTimeout(candidate.timer);
        this.candidates.delete(candidate);
        if (why.protocol) this.options.rendezvousEvents.dropped(conn.remoteAddress, why.protocol.message);
        decided();
      },
    });
    this.pickIfLeader();
    return true;
  }

  private isLeader(peer: Hello): boolean {
    return this.nonce > peer.nonce;
  }

  /**
   * The leader keeps the connection it dialed, else the one it accepted. While a dial of its
   * own is in progress it waits for it, but at most DIAL_WAIT_MS: that dial may go somewhere
   * else entirely (a wrong port, a silent host).
   */
  private pickIfLeader(force = false): void {
    if (this.session) return;
    const leading = [...this.candidates].filter((c) => this.isLeader(c.peer));
    if (leading.length === 0) return;
    if (this.dialsInProgress > 0 && !force) {
      this.pickTimer ??= setTimeout(() => {
        this.pickTimer = undefined;
        this.pickIfLeader(true);
      }, DIAL_WAIT_MS);
      return;
    }
    clearTimeout(this.pickTimer);
    this.pickTimer = undefined;
    const pick = leading.find((c) => c.channel.origin === "dialed") ?? (leading[0] as Candidate);
    pick.channel.conn.write(encodeMessage({ kind: "ready" }));
    if (pick.channel.conn.closed) return; // gone while we wrote: its onClose already dropped it
    this.start(pick);
  }

  private start(chosen: Candidate): void {
    for (const c of [...this.candidates]) {
      clearTimeout(c.timer);
      this.candidates.delete(c);
      if (c !== chosen) c.channel.conn.destroy();
    }
    this.session = new Session(chosen.channel, { ...this.options, peer: chosen.peer, security: chosen.security });
    this.options.rendezvousEvents.connected(this.session);
    chosen.decided();
  }

  private dropCandidate(candidate: Candidate, reason: string): void {
    if (!this.candidates.delete(candidate)) return;
    candidate.channel.conn.destroy();
    this.options.rendezvousEvents.dropped(candidate.channel.conn.remoteAddress, reason);
    candidate.decided();
  }

  private refuse(channel: FrameChannel): void {
    channel.conn.write(encodeMessage({ kind: "bye", reason: "busy: already connected to a peer" }));
    channel.conn.end(500);
    this.options.rendezvousEvents.dropped(channel.conn.remoteAddress, "refused: already connected to a peer");
  }
}
