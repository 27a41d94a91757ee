/**
 * From the PAKE to the connection's keys. Both sides run CPace (the dialer as initiator) with
 * the code's words as the password (empty in port-only mode), then derive with HKDF-SHA256
 * (RFC 5869) from the ISK, salted with the session id, one key per purpose and direction:
 *
 *   sid      = SHA-512("parley/v1/sid" || len || dialer HELLO body || len || listener HELLO body)[0..16)
 *   keys     = HKDF(ISK, salt = sid, info = "parley/v1/key/d2a" | ".../key/a2d"
 *                                          | "parley/v1/confirm/d" | ".../confirm/a"
 *                                          | "parley/v1/verify")
 *   CONFIRM  = HMAC-SHA256(confirm key of the sender, "parley/v1/confirm" || sid
 *                          || dialer share || listener share)
 *
 * A wrong code gives each side different keys: the CONFIRM it receives does not match, and
 * nothing else is ever sent. The verification string lets two people compare, out of band,
 * that no one sits in the middle.
 */

import { createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

type Cpace = typeof import("./cpace.ts");

/** The CPace module (and the curve library under it), loaded on first need, not at start-up. */
let cpace: Cpace | undefined;
let loading: Promise<void> | undefined;

/**
 * Starts loading the PAKE code (about 10 ms of module loading here: kept out of the time to
 * the "Listening on" line). Resolves when `startPake` / `finishPake` may be called.
 */
export function loadPake(): Promise<void> {
  loading ??= import("./cpace.ts").then((m) => {
    cpace = m;
  });
  return loading;
}

/** True once `loadPake` has finished. */
export function pakeLoaded(): boolean {
  return cpace !== undefined;
}

function loaded(): Cpace {
  if (!cpace) throw new Error("loadPake() must finish before the handshake");
  return cpace;
}

export type HandshakeRole = "dialer" | "listener";

const utf8 = new TextEncoder();

export interface PakeStart {
  readonly secret: Uint8Array;
  /** Our public share, sent in SHARE. */
  readonly share: Uint8Array;
}

export interface ConnectionKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  /** Our CONFIRM. */
  readonly confirm: Uint8Array;
  /** The CONFIRM the peer must send. */
  readonly expectedConfirm: Uint8Array;
  /** Six digits both sides show, e.g. "482 913". */
  readonly verification: string;
}

/**
 * The session id both sides derive from the exact bytes of both HELLO bodies (dialer's first,
 * each length-prefixed): it feeds the CPace generator and the ISK, so a HELLO changed on the
 * way (a name, the mode, the version) makes the key confirmation fail.
 */
export function sessionId(dialerHello: Uint8Array, listenerHello: Uint8Array): Uint8Array {
  const length = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const h = createHash("sha512")
    .update("parley/v1/sid")
    .update(length(dialerHello.length))
    .update(dialerHello)
    .update(length(listenerHello.length))
    .update(listenerHello)
    .digest();
  return new Uint8Array(h.subarray(0, 16));
}

/** Channel identifier: binds the PAKE to Parley v1 and the mode. */
function channelId(mode: "code" | "port"): Uint8Array {
  return utf8.encode(`parley/v1/${mode}`);
}

export function startPake(password: string, mode: "code" | "port", sid: Uint8Array): PakeStart {
  const { secret, message } = loaded().cpaceStart(utf8.encode(password), channelId(mode), sid);
  return { secret, share: message };
}

/**
 * @throws CryptoError E_BAD_POINT when the peer's share is invalid
 */
export function finishPake(
  role: HandshakeRole,
  start: PakeStart,
  sid: Uint8Array,
  peerShare: Uint8Array,
  ownNonce: string,
  peerNonce: string,
): ConnectionKeys {
  const ownAd = utf8.encode(ownNonce);
  const peerAd = utf8.encode(peerNonce);
  const isk =
    role === "dialer"
      ? loaded().cpaceFinishInitiator(start.secret, sid, start.share, ownAd, peerShare, peerAd)
      : loaded().cpaceFinishResponder(start.secret, sid, start.share, ownAd, peerShare, peerAd);
  const [dialerShare, listenerShare] = role === "dialer" ? [start.share, peerShare] : [peerShare, start.share];
  const keys = deriveConnectionKeys(role, isk, sid, dialerShare, listenerShare);
  isk.fill(0);
  return keys;
}

/**
 * The key schedule proper (pure): from the PAKE's ISK to both directions' record keys, both
 * CONFIRM MACs and the verification digits (labels in the header above; pinned by
 * test/unit/key-schedule.test.ts).
 */
export function deriveConnectionKeys(
  role: HandshakeRole,
  isk: Uint8Array,
  sid: Uint8Array,
  dialerShare: Uint8Array,
  listenerShare: Uint8Array,
): ConnectionKeys {
  const derive = (info: string, bytes = 32) => new Uint8Array(hkdfSync("sha256", isk, sid, info, bytes));
  const d2a = derive("parley/v1/key/d2a");
  const a2d = derive("parley/v1/key/a2d");
  const confirmD = derive("parley/v1/confirm/d");
  const confirmA = derive("parley/v1/confirm/a");
  const verify = derive("parley/v1/verify", 4);
  const mac = (key: Uint8Array) =>
    new Uint8Array(
      createHmac("sha256", key)
        .update("parley/v1/confirm")
        .update(sid)
        .update(dialerShare)
        .update(listenerShare)
        .digest(),
    );
  const macD = mac(confirmD);
  const macA = mac(confirmA);
  confirmD.fill(0);
  confirmA.fill(0);
  const code = (new DataView(verify.buffer).getUint32(0) % 1_000_000).toString().padStart(6, "0");
  return {
    sendKey: role === "dialer" ? d2a : a2d,
    receiveKey: role === "dialer" ? a2d : d2a,
    confirm: role === "dialer" ? macD : macA,
    expectedConfirm: role === "dialer" ? macA : macD,
    verification: `${code.slice(0, 3)} ${code.slice(3)}`,
  };
}

/** Constant-time check of the peer's CONFIRM. */
export function confirmMatches(keys: ConnectionKeys, received: Uint8Array): boolean {
  return received.length === keys.expectedConfirm.length && timingSafeEqual(received, keys.expectedConfirm);
}
