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

import type { Connection } from "../net/index.ts";
import {
  APP_NAME,
  encodeMessage,
  FrameType,
  type Hello,
  makeHello,
  PROTOCOL_VERSION,
  ProtocolError,
  parseMessage,
} from "../protocol/index.ts";
import { FrameChannel } from "./channel.ts";
import { DIAL_WAIT_MS, HELLO_TIMEOUT_MS } from "./limits.ts";
import { Session, type SessionOptions } from "./session.ts";

export interface RendezvousEvents {
  /** A session began (fires once). */
  connected(session: Session): void;
  /** A connection was dropped before it became the session (not Parley, busy, our own port). */
  dropped(remoteAddress: string, reason: string): void;
}

export interface RendezvousOptions extends Omit<SessionOptions, "peer"> {
  readonly name?: string;
  readonly rendezvousEvents: RendezvousEvents;
}

/** A connection whose HELLO exchange is done, waiting to be picked (or dropped). */
interface Candidate {
  readonly channel: FrameChannel;
  readonly peer: Hello;
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
  private pickTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: RendezvousOptions) {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    this.nonce = Buffer.from(bytes).toString("hex");
  }

  get current(): Session | undefined {
    return this.session;
  }

  /** A connection our listener accepted. */
  accepted(conn: Connection): void {
    void this.handshake(new FrameChannel(conn, "accepted"));
  }

  /**
   * Call when a dial starts, before it connects: a leader waits for it before picking.
   * @returns the function to call with the connection, or with undefined if the dial failed
   */
  dialStarted(): (conn: Connection | undefined) => Promise<void> {
    this.dialsInProgress++;
    let counted = true;
    // The dial stops counting as "in progress" once its HELLO is in (or it failed): from then
    // on the leader may pick, this connection included.
    const uncount = (): void => {
      if (!counted) return;
      counted = false;
      this.dialsInProgress--;
    };
    return async (conn) => {
      if (conn) await this.handshake(new FrameChannel(conn, "dialed"), uncount);
      uncount();
      this.pickIfLeader();
    };
  }

  /** A connection we dialed (dialStarted and its result in one call). */
  dialed(conn: Connection): Promise<void> {
    return this.dialStarted()(conn);
  }

  /**
   * Exchanges HELLO; resolves once this connection is the session or has been dropped.
   * @param helloDone - called when HELLO arrived or the connection failed, before anything else
   */
  private handshake(channel: FrameChannel, helloDone: () => void = () => {}): Promise<void> {
    const { conn } = channel;
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = (): void => {
        settled = true;
        clearTimeout(timer);
      };
      const drop = (reason: string): void => {
        if (settled) return;
        settle();
        helloDone();
        conn.destroy();
        this.options.rendezvousEvents.dropped(conn.remoteAddress, reason);
        resolve();
      };
      const timer = setTimeout(() => drop("not a Parley peer (no greeting within 5 s)"), HELLO_TIMEOUT_MS);
      // Our HELLO first: attaching below may replay the peer's HELLO at once, and what follows
      // (READY, the session) must come after ours on the wire.
      conn.write(encodeMessage(makeHello(this.nonce, this.options.name)));
      channel.setOwner({
        onFrame: (frame) => {
          if (settled) return;
          if (frame.type !== FrameType.Hello) throw new ProtocolError("E_UNEXPECTED", "the first frame was not HELLO");
          const hello = parseMessage(frame) as Hello;
          if (hello.app !== APP_NAME) throw new ProtocolError("E_UNEXPECTED", `a ${hello.app} client, not Parley`);
          if (hello.v !== PROTOCOL_VERSION) {
            throw new ProtocolError(
              "E_VERSION",
              `protocol version ${hello.v} (this Parley speaks ${PROTOCOL_VERSION})`,
            );
          }
          settle();
          helloDone();
          this.helloCompleted(channel, hello, resolve);
        },
        onDrain: () => {},
        onClose: (why) => {
          if (why.protocol) drop(`not a Parley peer (${why.protocol.message})`);
          else drop("closed before the greeting");
        },
      });
    });
  }

  private helloCompleted(channel: FrameChannel, peer: Hello, decided: () => void): void {
    if (!this.takeCandidate(channel, peer, decided)) decided();
  }

  /** @returns false when the connection was dropped at once (not a candidate) */
  private takeCandidate(channel: FrameChannel, peer: Hello, decided: () => void): boolean {
    const { conn } = channel;
    if (peer.nonce === this.nonce) {
      // Both ends of the connection are ours: report it once, on the side that dialed.
      conn.destroy();
      if (channel.origin === "dialed") {
        this.options.rendezvousEvents.dropped(conn.remoteAddress, "that is this Parley's own port; enter the peer's");
      }
      return false;
    }
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
    this.session = new Session(chosen.channel, { ...this.options, peer: chosen.peer });
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
