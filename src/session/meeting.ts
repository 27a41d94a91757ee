/**
 * What a way of meeting the peer hands over, whichever it was: the direct handshake on our
 * listener or a dial (rendezvous.ts), or the mailbox and its transit (mailbox-rendezvous.ts).
 * Each ends in a Rendezvoused (a keyed channel, the peer's HELLO, how it was authenticated),
 * which the rendezvous makes the session, and, when met the mailbox's way, a MetPath: how that
 * channel reaches the peer, which the CLI says and the session's lost-connection line names.
 */

import type { Hello } from "../protocol/message-types.ts";
import type { FrameChannel } from "./channel.ts";
import type { Security } from "./handshake.ts";

/**
 * What any way of meeting the peer hands the rendezvous: a channel whose records are already
 * keyed, the peer's HELLO (its nonce picks the leader) and how it was authenticated. The
 * direct handshake makes one; another rendezvous (a mailbox and a relay) makes the same.
 */
export interface Rendezvoused {
  readonly channel: FrameChannel;
  readonly peer: Hello;
  readonly security: Security;
  /** How it reaches the peer, said when it becomes the session (which names it only in a lost connection's line). */
  readonly via?: MetPath;
}

/**
 * How a connection met another way (the mailbox's transit) reaches the peer: straight to it, or
 * through the transit relay. `address` as the path was found: a relay named by host name keeps
 * its name (the connection's remote address may differ); a direct path is the address connected to.
 */
export interface MetPath {
  readonly path: "direct" | "relay";
  readonly address: string;
  /**
   * The peer dialed our transit listener (the direct path): `address` is its end of that
   * connection, with the port its system picked for it, not one that listens.
   */
  readonly dialedIn?: boolean;
}
