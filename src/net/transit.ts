/**
 * Transit: one TCP connection between two peers that met in a mailbox, found the way
 * magic-wormhole's transit.py finds it. Each side offers hints (its listening addresses,
 * `direct-tcp-v1`; a transit relay, `relay-v1`); each dials every direct hint of the other's,
 * and every relay a moment later (at once when no direct hint is left to wait for); connections
 * accepted by our own listener count too. The first connection to finish the handshake wins.
 * Bytes only: the handshake lines come from the caller (crypto/wormhole-keys.ts).
 *
 *   relay only:   us -> relay  "please relay TOKEN for side SIDE\n"   relay -> us "ok\n"
 *   every path:   both send their line, "transit sender|receiver HEX ready\n\n", and check the other's
 *   sender:       the first connection that got the receiver's line: "go\n"; the others are closed
 *   receiver:     uses the connection on which "go\n" arrives; closes the others
 *
 * "go" is not authenticated (nor in magic-wormhole's transit): a relay that passed the sender's
 * line on can send the receiver a "go" of its own. Taken, it closed the direct connection the
 * sender had chosen, and both sessions failed. So a receiver's "go" on a relayed connection waits
 * while a direct connection is still in its handshake: the sender's "go" on that one wins; once
 * each has closed (a sender that chose the relay closes the others) or DIRECT_GRACE_MS has
 * passed, the relay's is taken. A record sealed with the sender's key right after the relay's
 * "go" proves it the sender's: taken at once (TransitPlan.senderRecord; the records are the
 * caller's, these bytes are still handed over whole). Where the sender always writes one first
 * (senderWritesFirst) the grace is not used: a forged "go" (no such record follows it) waits for
 * the direct connection's own "go". Elsewhere a forged "go" fails a session only on a direct path
 * whose round trip is longer than the grace.
 *
 * Whatever follows the handshake on the winning connection is the caller's (records).
 */

import { networkInterfaces } from "node:os";
import { type Connection, EARLY_MAX_BYTES } from "./connection.ts";
import { dial } from "./endpoints.ts";
import { NetError } from "./errors.ts";
import { HandedOver } from "./handed-over.ts";
import type { TransitListener } from "./transit-listener.ts";

import {
  DIRECT_GRACE_MS,
  HELD_PROOF_BYTES,
  TransitError,
  type TransitHint,
  type TransitPath,
  type TransitPlan,
  type TransitResult,
} from "./transit-plan.ts";

export { MAX_HELD_CONNECTIONS, MAX_HELD_SILENT_PER_HOST, TransitListener } from "./transit-listener.ts";
export * from "./transit-plan.ts";

const GO = new TextEncoder().encode("go\n");
const OK = new TextEncoder().encode("ok\n");

function startsWith(buffer: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(buffer.length, prefix.length);
  for (let i = 0; i < n; i++) if (buffer[i] !== prefix[i]) return false;
  return true;
}

type Step = "relay" | "handshake" | "decision" | "held" | "done";

/**
 * Races every path; resolves with the first connection that finished the handshake.
 * `listener` (ours, already listening) hands its accepted connections to `accept`.
 * @throws TransitError E_RELAY_UNREACHABLE when the relay was the only way and could not be
 *   reached, E_NO_PATH when nothing worked within `timeoutMs`
 */
export function connectTransit(plan: TransitPlan, listener?: TransitListener): Promise<TransitResult> {
  return new Promise((resolve, reject) => {
    let finished = false;
    const live = new Set<Connection>();
    let directLeft = plan.direct.length;
    let relayStarted = false;
    let relayReached = false;
    /** Dials not yet answered. */
    let dialing = 0;
    let winner: Connection | undefined;
    /** Relays that took our connection and have not answered our line ("ok"): named if time runs out. */
    const silentRelays = new Set<string>();
    /** Relays that said "ok" and then passed on nothing of the peer's yet: named if time runs out. */
    const mutedRelays = new Set<string>();
    /** Relays that answered bytes that were neither "ok" nor the peer's: named if nothing works. */
    const garbledRelays = new Set<string>();
    /** Why each relay's dial failed (refused, no such host): said with it when no relay could be reached. */
    const relayFailures = new Map<string, string>();
    const unreachable = (): TransitError =>
      new TransitError(
        "E_RELAY_UNREACHABLE",
        plan.relays
          .map((relay) => {
            const where = `${relay.host}:${relay.port}`;
            const why = relayFailures.get(where);
            return why === undefined ? where : `${where}: ${why}`;
          })
          .join("; "),
      );
    /** What the relays that were tried did wrong, for the line that says no path worked. */
    const relayWords = (): string => {
      const said = (set: Set<string>) => `the transit relay ${[...set].join(", ")}`;
      const words = [
        silentRelays.size > 0 ? `${said(silentRelays)} took the connection but never answered` : "",
        mutedRelays.size > 0 ? `${said(mutedRelays)} said ok but passed on nothing from the peer` : "",
        garbledRelays.size > 0
          ? `${said(garbledRelays)} answered with bytes that were neither its ok nor the peer's`
          : "",
      ].filter(Boolean);
      return words.length > 0 ? ` (${words.join("; ")})` : "";
    };
    let relayTimer: ReturnType<typeof setTimeout> | undefined;
    let timeoutTimer: ReturnType<typeof setTimeout> | undefined;
    /** Direct connections still in their handshake or waiting for the decision (a "go" may come on them). */
    const directContenders = new Set<Connection>();
    /** Relayed connections whose "go" came while a direct one was a contender: the first is taken after the wait. */
    const heldGos: Array<{ conn: Connection; take: () => void }> = [];
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    /**
     * A held relay's "go" is taken: `conn`'s, its sender's record having come; else the first
     * held, no direct contender being left or the grace over.
     */
    const takeHeldGo = (conn?: Connection): void => {
      clearTimeout(graceTimer);
      graceTimer = undefined;
      const at = conn === undefined ? 0 : heldGos.findIndex((h) => h.conn === conn);
      if (at >= 0) heldGos.splice(at, 1)[0]?.take();
    };

    const finish = (error?: TransitError): void => {
      if (finished) return;
      finished = true;
      clearTimeout(relayTimer);
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      for (const c of live) if (c !== winner) c.destroy();
      listener?.stop();
      if (error) reject(error);
    };

    const noMoreContenders = (): boolean => relayStarted && dialing === 0 && live.size === 0 && !listener;

    const checkExhausted = (): void => {
      if (finished || !noMoreContenders()) return;
      if (plan.relays.length > 0 && !relayReached) {
        finish(unreachable());
      } else finish(new TransitError("E_NO_PATH", `no direct address or relay worked${relayWords()}`));
    };

    const negotiate = (
      conn: Connection,
      path: TransitPath,
      viaRelay: boolean,
      address: string,
      dialedIn = false,
    ): void => {
      live.add(conn);
      let buffer = new Uint8Array(0);
      let step: Step = viaRelay ? "relay" : "handshake";
      let handed: HandedOver | undefined;
      /** Held, reading on for the sender's first record (senderRecord). */
      let proving = false;
      const consume = (expected: Uint8Array): boolean | "bad" => {
        if (!startsWith(buffer, expected)) return "bad";
        if (buffer.length < expected.length) return false;
        buffer = buffer.subarray(expected.length);
        return true;
      };
      const drop = (garbled = false): void => {
        if (viaRelay) {
          silentRelays.delete(address);
          mutedRelays.delete(address);
          if (garbled) garbledRelays.add(address);
        }
        live.delete(conn);
        conn.destroy();
        const held = heldGos.findIndex((h) => h.conn === conn);
        if (held >= 0) heldGos.splice(held, 1);
        // The last direct contender gone (a sender that chose the relay closes the others): its "go" stands.
        if (directContenders.delete(conn) && directContenders.size === 0 && !finished) takeHeldGo();
        checkExhausted();
      };
      const advance = (): void => {
        // The race is over (the winner's reads go to its next owner, never here).
        if (finished) return drop();
        if (step === "relay") {
          const r = consume(OK);
          if (r === "bad") return drop(true);
          if (!r) return;
          step = "handshake";
          silentRelays.delete(address);
          mutedRelays.add(address);
          conn.write(plan.send);
        }
        if (step === "handshake") {
          const r = consume(plan.expect);
          if (r === "bad") return drop(viaRelay);
          if (!r) return;
          if (viaRelay) mutedRelays.delete(address);
          listener?.proven(conn); // it knows the key: a flood of idle connections cannot take its place
          if (plan.role === "sender") {
            conn.write(GO);
            return win();
          }
          step = "decision";
        }
        if (step === "decision") {
          const r = consume(GO);
          if (r === "bad") return drop(); // "nevermind": another connection won
          if (!r) return;
          if (viaRelay && directContenders.size > 0) return holdGo();
          return win();
        }
        // "held": what follows the relay's "go" waits for the decision (reading paused, or read
        // for the sender's first record).
        if (step === "held") {
          if (proving) return proveHeld();
          if (buffer.length > EARLY_MAX_BYTES) drop();
        }
      };
      /** The held "go" is the sender's once its first record opens; not, once one does not. */
      const proveHeld = (): void => {
        const proof = plan.senderRecord?.(buffer);
        if (proof === true) return takeHeldGo(conn);
        if (proof === false) return drop();
        if (buffer.length < HELD_PROOF_BYTES) return;
        // Too large to wait for: reading pauses, and the "go" waits as one not yet proven: for
        // the grace, as without senderRecord; where the sender writes first, never for the grace
        // alone (a forger's length prefix of a record too large to read here would bring it back).
        proving = false;
        conn.pauseReading?.(true);
        if (!plan.senderWritesFirst) {
          graceTimer ??= setTimeout(() => takeHeldGo(), plan.directGraceMs ?? DIRECT_GRACE_MS);
        }
      };
      /**
       * A "go" on this relayed connection while a direct one may still get the sender's: waits
       * (reading paused, what came after the "go" kept) for that one, its close, or the grace.
       */
      const holdGo = (): void => {
        step = "held";
        proving = plan.senderRecord !== undefined;
        if (!proving) conn.pauseReading?.(true);
        heldGos.push({
          conn,
          take: () => {
            win();
            conn.pauseReading?.(false); // what comes now is the next owner's (HandedOver holds it)
          },
        });
        if (!proving || !plan.senderWritesFirst) {
          graceTimer ??= setTimeout(() => takeHeldGo(), plan.directGraceMs ?? DIRECT_GRACE_MS);
        }
        if (proving) proveHeld(); // the record may have come with the "go"
      };
      const win = (): void => {
        step = "done";
        winner = conn;
        live.delete(conn);
        directContenders.delete(conn);
        handed = new HandedOver(conn, buffer);
        finish();
        resolve({ connection: handed, path, address, dialedIn });
      };
      if (viaRelay) silentRelays.add(address);
      else directContenders.add(conn);
      // Our line goes first: attaching may replay the peer's early bytes, and GO must follow it.
      conn.write(viaRelay ? plan.relayHandshake : plan.send);
      conn.setEvents({
        onData: (chunk) => {
          // Won: what comes until the next owner takes over is the owner's.
          if (handed) return handed.hold(chunk);
          const joined = new Uint8Array(buffer.length + chunk.length);
          joined.set(buffer);
          joined.set(chunk, buffer.length);
          buffer = joined;
          advance();
        },
        onDrain: () => {},
        onClose: () => {
          if (step !== "done") drop();
        },
      });
    };

    const startRelays = (): void => {
      if (relayStarted || finished) return;
      relayStarted = true;
      clearTimeout(relayTimer);
      for (const relay of plan.relays) {
        const where = `${relay.host}:${relay.port}`;
        dialing++;
        dial(relay.host, relay.port, plan.timeoutMs)
          .then((conn) => {
            dialing--;
            relayReached = true;
            if (finished) return conn.destroy();
            negotiate(conn, "relay", true, where);
          })
          .catch((err: unknown) => {
            dialing--;
            const why = dialFailureWords(err);
            if (why !== undefined) relayFailures.set(where, why);
            checkExhausted();
          });
      }
      checkExhausted();
    };

    relayTimer = setTimeout(startRelays, plan.direct.length > 0 ? plan.relayDelayMs : 0);
    timeoutTimer = setTimeout(() => {
      if (plan.relays.length > 0 && !relayReached && relayStarted) {
        finish(unreachable());
      } else {
        // A relay that accepts and never answers, or says ok and passes nothing on (a dead or
        // hostile one), is why, when it is the one left.
        finish(new TransitError("E_NO_PATH", `nothing connected within ${plan.timeoutMs / 1000} s${relayWords()}`));
      }
    }, plan.timeoutMs);
    for (const hint of plan.direct) {
      dialing++;
      dial(hint.host, hint.port, plan.timeoutMs)
        .then((conn) => {
          dialing--;
          directLeft--;
          if (finished) return conn.destroy();
          // The address connected to, not the hint as written: `010.0.0.1` is dialed as 8.0.0.1
          // (inet_aton's octal), `0177.0.0.1` as 127.0.0.1 (bound31).
          negotiate(conn, "direct", false, conn.remoteAddress);
        })
        .catch(() => {
          dialing--;
          directLeft--;
          // Every direct hint failed at once (unreachable, refused): no reason to wait for the relay.
          if (directLeft === 0 && live.size === 0) startRelays();
          checkExhausted();
        });
    }
    listener?.onAccept((conn) => {
      if (finished) return conn.destroy();
      negotiate(conn, "direct", false, conn.remoteAddress, true);
    });
  });
}

/**
 * Our direct hints: a listener's `port` at each of `addresses` (the user's PARLEY_HINT_ADDRESSES),
 * or at this machine's (localAddresses) where none are given.
 */
export function directHints(port: number, addresses: readonly string[] = localAddresses()): TransitHint[] {
  return addresses.map((host) => ({ host, port }));
}

/** This machine's addresses for direct hints: IPv4 beyond loopback, or loopback when there is nothing else. */
export function localAddresses(): string[] {
  const found: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (info.family === "IPv4" && !info.internal) found.push(info.address);
  }
  return found.length > 0 ? found : ["127.0.0.1"];
}

/**
 * Why a dial failed, in the words the mailbox's own line uses (`refused the connection (nothing
 * listens there)`); undefined when its error says nothing beyond the address.
 */
function dialFailureWords(err: unknown): string | undefined {
  if (!(err instanceof NetError)) return undefined;
  return err.code === "E_CONNECT_REFUSED" ? "it refused the connection (nothing listens there)" : err.reason;
}
