/**
 * How the path to the peer is worded, by the chat and the one-shot commands alike: the line a
 * plain wormhole peer's path gets on its own, and the words a Parley peer's one connected line
 * says it with (`Connected to bob directly at X.`, `... through the relay at R.`).
 *
 * Where the peer dialed us, the connection's far end is its address and a port its system picked
 * for this one connection: nothing listens there, and "at 127.0.0.1:51234" read as a place to
 * reach the peer. So that side names the host alone (which machine or network the peer is on,
 * as seen from here); the dialing side names the host and the port it dialed, which listens.
 * `--json` events keep the whole address (a script matching it to `ss` or a firewall log).
 */

import { hostOfAddress } from "../net/endpoints.ts";
import type { MetPath } from "../session/index.ts";

/** The peer's end as said to a person: without the port when the peer dialed in (see above). */
export function peerAddressWords(address: string, dialedIn: boolean | undefined): string {
  return dialedIn ? hostOfAddress(address) : address;
}

/** "Connected directly to HOST:PORT" (HOST alone when the peer dialed in) / "Connected through the relay HOST:PORT". */
export function pathLine(via: MetPath): string {
  return via.path === "direct"
    ? `Connected directly to ${peerAddressWords(via.address, via.dialedIn)}`
    : `Connected through the relay ${via.address}`;
}

/**
 * Where the peer is, said after "Connected to NAME": `at ADDRESS` (the direct flow: the
 * connection's far end), or the mailbox flow's path, `directly at ADDRESS` or `through the
 * relay at RELAY` (the relay as named: the connection's far end is then the relay, not the peer).
 * ADDRESS is the host alone when the peer dialed in (see above).
 * @param address - the connection's remote address (the direct flow's)
 * @param peerDialedIn - the peer dialed us (Session.peerDialedIn)
 * @param via - the mailbox flow's path, when met through a mailbox
 */
export function connectedWhere(address: string, peerDialedIn: boolean, via?: MetPath): string {
  if (!via) return `at ${peerAddressWords(address, peerDialedIn)}`;
  if (via.path === "relay") return `through the relay at ${via.address}`;
  return `directly at ${peerAddressWords(via.address, peerDialedIn)}`;
}
