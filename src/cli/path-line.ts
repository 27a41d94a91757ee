/**
 * How the path to the peer is worded, by the chat and the one-shot commands alike: the line a
 * plain wormhole peer's path gets on its own, and the words a Parley peer's one connected line
 * says it with (`Connected to bob directly at X.`, `... through the relay at R.`).
 */

import type { MetPath } from "../session/index.ts";

/** "Connected directly to HOST:PORT" / "Connected through the relay HOST:PORT". */
export function pathLine(via: MetPath): string {
  return via.path === "direct" ? `Connected directly to ${via.address}` : `Connected through the relay ${via.address}`;
}

/**
 * Where the peer is, said after "Connected to NAME": `at ADDRESS` (the direct flow: the
 * connection's far end), or the mailbox flow's path, `directly at ADDRESS` or `through the
 * relay at RELAY` (the relay as named: the connection's far end is then the relay, not the peer).
 * @param address - the connection's remote address (the direct flow's)
 * @param via - the mailbox flow's path, when met through a mailbox
 */
export function connectedWhere(address: string, via?: MetPath): string {
  if (!via) return `at ${address}`;
  return via.path === "relay" ? `through the relay at ${via.address}` : `directly at ${via.address}`;
}
