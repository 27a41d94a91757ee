/**
 * Rendezvous: turns connections (accepted by our listener or dialed by us) into exactly one
 * Session with one peer.
 *
 * Each connection first exchanges HELLO. A connection that sends anything else, bad bytes, or
 * nothing within HELLO_TIMEOUT_MS is dropped and reported; the listener keeps waiting. When
 * both sides dialed at once and each has two HELLO-complete connections, both keep the one
 * dialed by the side with the larger HELLO nonce and close the other without BYE. Once a
 * session exists, connections from anyone else are refused with BYE "busy".
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
import { HELLO_TIMEOUT_MS } from "./limits.ts";
import { Session, type SessionOptions } from "./session.ts";

export interface RendezvousEvents {
  /** A session began (fires once). */
  connected(session: Session): void;
  /** A connection was dropped before it became the session (not Parley, busy, our own port). */
  dropped(remoteAddress: string, reason: string): void;
}

export interface RendezvousOptions extends Omit<SessionOptions, "peer" | "replacementPending"> {
  readonly name?: string;
  readonly rendezvousEvents: RendezvousEvents;
}

export class Rendezvous {
  /** This process's HELLO nonce: 64 random bits as hex. */
  readonly nonce: string;
  private session: Session | undefined;
  private readonly handshaking = new Set<FrameChannel>();

  constructor(private readonly options: RendezvousOptions) {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    this.nonce = Buffer.from(bytes).toString("hex");
  }

  get current(): Session | undefined {
    return this.session;
  }

  /** A connection our listener accepted. */
  accepted(conn: Connection): void {
    this.handshake(new FrameChannel(conn, "accepted"));
  }

  /** A connection we dialed. Resolves when its handshake ends (whatever the outcome). */
  dialed(conn: Connection): Promise<void> {
    return this.handshake(new FrameChannel(conn, "dialed"));
  }

  private handshake(channel: FrameChannel): Promise<void> {
    const { conn } = channel;
    this.handshaking.add(channel);
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = (): void => {
        settled = true;
        clearTimeout(timer);
        this.handshaking.delete(channel);
        resolve();
      };
      const drop = (reason: string): void => {
        if (settled) return;
        settle();
        conn.destroy();
        this.options.rendezvousEvents.dropped(conn.remoteAddress, reason);
      };
      const timer = setTimeout(() => drop("not a Parley peer (no greeting within 5 s)"), HELLO_TIMEOUT_MS);
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
          this.helloCompleted(channel, hello);
        },
        onDrain: () => {},
        onClose: (why) => {
          if (why.protocol) drop(`not a Parley peer (${why.protocol.message})`);
          else drop("closed before the greeting");
        },
      });
      conn.write(encodeMessage(makeHello(this.nonce, this.options.name)));
    });
  }

  private helloCompleted(channel: FrameChannel, peer: Hello): void {
    const { conn } = channel;
    if (peer.nonce === this.nonce) {
      conn.destroy();
      this.options.rendezvousEvents.dropped(conn.remoteAddress, "that is this Parley's own port");
      return;
    }
    const session = this.session;
    if (!session) {
      this.session = new Session(channel, {
        ...this.options,
        peer,
        replacementPending: () => this.handshaking.size > 0,
      });
      this.options.rendezvousEvents.connected(this.session);
      return;
    }
    if (peer.nonce === session.peer.nonce && session.replaceable) {
      // Both dialed at once: keep the connection dialed by the side with the larger nonce.
      const keepOurDial = this.nonce > peer.nonce;
      if ((channel.origin === "dialed") === keepOurDial) session.replaceChannel(channel);
      else conn.destroy();
      return;
    }
    conn.write(encodeMessage({ kind: "bye", reason: "busy: already connected to a peer" }));
    conn.end(500);
    this.options.rendezvousEvents.dropped(conn.remoteAddress, "refused: already connected to a peer");
  }
}
