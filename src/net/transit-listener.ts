/**
 * The transit listener: our listening socket for the peer's direct dials while the transit race
 * (transit.ts) runs, holding what it accepted until the race takes it, within bounds (a port
 * anyone can reach must not hold a descriptor and a buffer for each who connects).
 */

import type { Connection, SocketConnection } from "./connection.ts";
import { hostOfAddress, type Listener, listen } from "./endpoints.ts";

/**
 * Most connections our listener holds open at once: waiting for the race, or in its handshake.
 * It listens on every address, and a real peer makes one a hint. Unbounded, anyone who reaches
 * the port held a file descriptor each (19,000 idle connections: 19,009 open, against a limit of
 * 20,000, past which no file can be opened) and up to 1 MiB each of bytes sent before the race
 * reads them (SocketConnection's early bytes).
 *
 * When the places are full, the oldest connection that has not proven the key (its handshake
 * line, which only the peer can make; read from its first bytes while it waits for our race)
 * gives up its place, never the newcomer: refusing newcomers let 64 idle connections made first
 * keep the peer's dial out (session 24: another user of the machine, who reads the port in
 * /proc/net/tcp; with no relay the meeting failed). Only a listener full of proven ones refuses.
 */
export const MAX_HELD_CONNECTIONS = 64;
/**
 * Unproven connections from one host held at once; past it, that host's oldest goes: a flood
 * from one host evicts its own first (as the direct listener's admission does: admission.ts).
 */
export const MAX_HELD_SILENT_PER_HOST = 32;

/** One connection the listener holds. */
interface Held {
  readonly conn: SocketConnection;
  /** Its address without the port. */
  readonly host: string;
  /** Its handshake matched ours: it knows the key. */
  proven: boolean;
}

/**
 * Our listening socket for direct connections, opened before our hints go out; connections it
 * accepts wait for `connectTransit` to take them, at most MAX_HELD_CONNECTIONS open at once.
 */
export class TransitListener {
  private handler: ((conn: SocketConnection) => void) | undefined;
  private waiting: SocketConnection[] = [];
  /** Oldest first. */
  private held: Held[] = [];
  private readonly listener: Listener;
  private stopped = false;

  /**
   * @param proofs - the peer's handshake lines (TransitPlan.expect): a dial made before our race
   *   starts (the peer had our hints first) proves the key with one while it waits
   * @throws NetError E_LISTEN
   */
  constructor(
    host = "0.0.0.0",
    private readonly proofs: readonly Uint8Array[] = [],
  ) {
    this.listener = listen(host, 0, (conn) => {
      if (this.stopped) return conn.destroy();
      this.held = this.held.filter((h) => !h.conn.closed);
      const arrival: Held = { conn, host: hostOfAddress(conn.remoteAddress), proven: false };
      if (!this.makeRoomFor(arrival)) return conn.destroy();
      this.waiting = this.waiting.filter((c) => !c.closed);
      this.held.push(arrival);
      if (this.handler) this.handler(conn);
      else this.waiting.push(conn);
    });
  }

  /**
   * Frees a place for `arrival` when its host's unproven places or all places are taken: the
   * oldest unproven connection (of its host first) is closed. @returns false when every place
   * holds a proven connection (then the newcomer is refused)
   */
  private makeRoomFor(arrival: Held): boolean {
    this.proveWaiting();
    const unproven = this.held.filter((h) => !h.proven);
    const sameHost = unproven.filter((h) => h.host === arrival.host);
    let victim: Held | undefined;
    if (sameHost.length >= MAX_HELD_SILENT_PER_HOST) victim = sameHost[0];
    else if (this.held.length >= MAX_HELD_CONNECTIONS) {
      victim = unproven[0];
      if (victim === undefined) return false;
    }
    if (victim !== undefined) {
      const gone = victim;
      this.held = this.held.filter((h) => h !== gone);
      this.waiting = this.waiting.filter((c) => c !== gone.conn);
      gone.conn.destroy();
    }
    return true;
  }

  /** `conn` (one we accepted) sent the peer's handshake: it keeps its place. */
  proven(conn: Connection): void {
    const held = this.held.find((h) => h.conn === conn);
    if (held) held.proven = true;
  }

  /** Marks proven the waiting connections whose early bytes are one of `proofs`. */
  private proveWaiting(): void {
    for (const h of this.held) h.proven ||= this.proofs.some((line) => h.conn.earlyStartsWith(line));
  }

  /** Connections held that proved the key (tests wait on it). */
  get provenCount(): number {
    this.proveWaiting();
    return this.held.filter((h) => h.proven && !h.conn.closed).length;
  }

  /** Connections accepted and still open (the race's, and those waiting for it). */
  get heldCount(): number {
    return this.held.filter((h) => !h.conn.closed).length;
  }

  get port(): number {
    return this.listener.port;
  }

  onAccept(handler: (conn: SocketConnection) => void): void {
    this.handler = handler;
    for (const conn of this.waiting.splice(0)) handler(conn);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.listener.stop();
    for (const conn of this.waiting.splice(0)) conn.destroy();
  }
}
