/**
 * Test helper: one side of a session run straight over SecureConnection (record keys given,
 * no handshake), on a connection the test made, with its events recorded.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecureConnection } from "../../src/crypto/secure-connection.ts";
import type { Connection } from "../../src/net/index.ts";
import { FrameChannel, Session, type SessionEvents } from "../../src/session/index.ts";

export interface SecureSide {
  session: Session;
  events: Array<{ type: string; detail?: unknown }>;
  dir: string;
}

/**
 * A session on `conn` sealing with `sendKey` and opening with `receiveKey`, downloading into a
 * new temporary folder; the folder's removal and the session's end are pushed onto `cleanups`.
 * @param options.relayed - the channel is marked as going through a relay
 * @param options.peerFeatures - the HELLO features the peer is taken to have offered (none)
 */
export function secureSessionSide(
  conn: Connection,
  origin: "dialed" | "accepted",
  sendKey: Uint8Array,
  receiveKey: Uint8Array,
  cleanups: Array<() => void>,
  options: { readonly relayed?: boolean; readonly peerFeatures?: readonly string[] } = {},
): SecureSide {
  const dir = mkdtempSync(join(tmpdir(), "parley-secure-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const events: SecureSide["events"] = [];
  const record = (type: string) => (detail?: unknown) => events.push({ type, detail });
  const sessionEvents: SessionEvents = {
    chatReceived: record("chat"),
    transferStarted: () => {},
    transferProgressed: () => {},
    transferFinished: record("finished"),
    transferFailed: record("failed"),
    peerLeft: record("peerLeft"),
    connectionLost: record("lost"),
    closed: record("closed"),
  };
  const secure = new SecureConnection(conn);
  secure.startSealing(sendKey);
  secure.startOpening(receiveKey);
  const session = new Session(new FrameChannel(secure, origin, options.relayed === true), {
    peer: { kind: "hello", v: 1, app: "parley", nonce: "0000000000000000", features: options.peerFeatures ?? [] },
    downloadDir: dir,
    checksum: "xxh3",
    events: sessionEvents,
  });
  cleanups.push(() => session.abort("test over"));
  return { session, events, dir };
}
