/**
 * Admission at a listener: which accepted connection gives up its place when the places are
 * full. Pure: it looks at the arrivals (oldest first) and names the one to drop; the
 * rendezvous does the dropping.
 *
 * - Connections that have not spoken wait in a pool of MAX_SILENT_CONNECTIONS, at most
 *   MAX_SILENT_PER_ADDRESS from one host; when full, the oldest silent one goes (of that host
 *   first), never the newcomer: idle connections cannot lock the peer out, since a real peer
 *   speaks at once.
 * - Those that have spoken share MAX_ACCEPTED_HANDSHAKES places; when full, one that has not
 *   offered a key share yet makes room: the oldest of the host holding the most such places.
 *   A real peer holds one place for a round trip (HELLO, then its share), so a flood of HELLOs
 *   from other hosts, however fast, evicts its own first.
 */

import { MAX_ACCEPTED_HANDSHAKES, MAX_SILENT_CONNECTIONS, MAX_SILENT_PER_ADDRESS } from "./limits.ts";

export interface Arrival {
  /** The remote host (without the port: each connection from a host has a port of its own). */
  readonly host: string;
  /** It has sent its first frame. */
  spoke: boolean;
  /** A share from it is being tried against our code. */
  guessing: boolean;
}

/** A connection from `host` was accepted: the silent arrival that must make room, if any. */
export function silentToDrop<A extends Arrival>(arrivals: Iterable<A>, host: string): A | undefined {
  const silent = [...arrivals].filter((a) => !a.spoke);
  const sameHost = silent.filter((a) => a.host === host);
  if (sameHost.length >= MAX_SILENT_PER_ADDRESS) return sameHost[0];
  return silent.length >= MAX_SILENT_CONNECTIONS ? silent[0] : undefined;
}

/** `newcomer` has just spoken: the arrival that must make room, if any (maybe the newcomer). */
export function spokenToDrop<A extends Arrival>(arrivals: Iterable<A>, newcomer: A): A | undefined {
  const speaking = [...arrivals].filter((a) => a.spoke);
  if (speaking.length <= MAX_ACCEPTED_HANDSHAKES) return undefined;
  const byHost = new Map<string, A[]>();
  for (const a of speaking) {
    if (a.guessing) continue;
    const group = byHost.get(a.host) ?? [];
    group.push(a);
    byHost.set(a.host, group);
  }
  let largest: A[] = [];
  for (const group of byHost.values()) if (group.length > largest.length) largest = group;
  return largest[0] ?? newcomer;
}
