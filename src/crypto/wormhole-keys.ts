/**
 * What magic-wormhole derives from the SPAKE2 key, and Parley's own keys from it. Pure.
 *
 *   derive(key, purpose, n)   = HKDF-SHA256(ikm = key, salt = none, info = purpose, n)   (RFC 5869)
 *   phase key (side, phase)   = derive(key, "wormhole:phase:" || SHA-256(side) || SHA-256(phase), 32)
 *   phase message body        = nonce (24 random bytes) || XSalsa20-Poly1305(phase key, nonce, plaintext)
 *                               (NaCl SecretBox: the 16-byte tag precedes the ciphertext)
 *   transit key               = derive(key, APPID + "/transit-key", 32)
 *   transit handshakes        = "transit sender " hex(derive(tk, "transit_sender")) " ready\n\n",
 *                               "transit receiver " hex(derive(tk, "transit_receiver")) " ready\n\n",
 *                               "please relay " hex(derive(tk, "transit_relay_token")) " for side " SIDE "\n"
 *   Parley's record keys      = derive(key, "parley/v1/wormhole/key/s2r" | ".../key/r2s", 32)
 *                               (s: the transit sender, the side that allocated the code)
 *   Parley's verification     = derive(key, "parley/v1/wormhole/verify", 4) as six digits
 */

import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { CryptoError } from "./errors.ts";

/** The wormhole file-transfer application id: a wormhole client joins codes only under it. */
export const WORMHOLE_APPID = "lothar.com/wormhole/text-or-file-xfer";
export const SECRETBOX_NONCE_BYTES = 24;
export const SECRETBOX_TAG_BYTES = 16;

const utf8 = new TextEncoder();

/** magic-wormhole's derive_key. */
export function deriveWormholeKey(key: Uint8Array, purpose: string | Uint8Array, length = 32): Uint8Array {
  return hkdf(sha256, key, undefined, typeof purpose === "string" ? utf8.encode(purpose) : purpose, length);
}

/** magic-wormhole's derive_phase_key: the key one side seals one phase's message with. */
export function derivePhaseKey(key: Uint8Array, side: string, phase: string): Uint8Array {
  const purpose = concatBytes(utf8.encode("wormhole:phase:"), sha256(utf8.encode(side)), sha256(utf8.encode(phase)));
  return deriveWormholeKey(key, purpose);
}

/** The verifier a wormhole client shows with --verify. */
export function wormholeVerifier(key: Uint8Array): Uint8Array {
  return deriveWormholeKey(key, "wormhole:verifier");
}

/** SecretBox: nonce || tag || ciphertext. */
export function sealPhaseMessage(
  phaseKey: Uint8Array,
  plaintext: Uint8Array,
  nonce: Uint8Array = crypto.getRandomValues(new Uint8Array(SECRETBOX_NONCE_BYTES)),
): Uint8Array {
  return concatBytes(nonce, xsalsa20poly1305(phaseKey, nonce).encrypt(plaintext));
}

/**
 * Opens a SecretBox.
 * @throws CryptoError E_AUTH_FAILED when it does not open (a wrong code, or tampering)
 */
export function openPhaseMessage(phaseKey: Uint8Array, body: Uint8Array): Uint8Array {
  if (body.length < SECRETBOX_NONCE_BYTES + SECRETBOX_TAG_BYTES) {
    throw new CryptoError("E_AUTH_FAILED", "a mailbox message that does not open");
  }
  try {
    return xsalsa20poly1305(phaseKey, body.subarray(0, SECRETBOX_NONCE_BYTES)).decrypt(
      body.subarray(SECRETBOX_NONCE_BYTES),
    );
  } catch (cause) {
    throw new CryptoError("E_AUTH_FAILED", "a mailbox message that does not open", { cause });
  }
}

/** What both transit ends send and expect, from the wormhole key. */
export interface TransitSecrets {
  /** "transit sender HEX ready\n\n" */
  readonly senderHandshake: Uint8Array;
  /** "transit receiver HEX ready\n\n" */
  readonly receiverHandshake: Uint8Array;
  /** "please relay HEX for side SIDE\n" for our side */
  readonly relayHandshake: Uint8Array;
}

/** @param side - our mailbox side: 16 hex digits */
export function transitSecrets(key: Uint8Array, side: string): TransitSecrets {
  const transitKey = deriveWormholeKey(key, `${WORMHOLE_APPID}/transit-key`);
  const hex = (purpose: string) => Buffer.from(deriveWormholeKey(transitKey, purpose)).toString("hex");
  const secrets = {
    senderHandshake: utf8.encode(`transit sender ${hex("transit_sender")} ready\n\n`),
    receiverHandshake: utf8.encode(`transit receiver ${hex("transit_receiver")} ready\n\n`),
    relayHandshake: utf8.encode(`please relay ${hex("transit_relay_token")} for side ${side}\n`),
  };
  transitKey.fill(0);
  return secrets;
}

export interface ParleyWormholeKeys {
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  /** Six digits both sides show, e.g. "482 913". */
  readonly verification: string;
}

/** Parley's record keys for a session met through a mailbox. */
export function parleyWormholeKeys(key: Uint8Array, transitRole: "sender" | "receiver"): ParleyWormholeKeys {
  const s2r = deriveWormholeKey(key, "parley/v1/wormhole/key/s2r");
  const r2s = deriveWormholeKey(key, "parley/v1/wormhole/key/r2s");
  const verify = deriveWormholeKey(key, "parley/v1/wormhole/verify", 4);
  const digits = (new DataView(verify.buffer).getUint32(0) % 1_000_000).toString().padStart(6, "0");
  return {
    sendKey: transitRole === "sender" ? s2r : r2s,
    receiveKey: transitRole === "sender" ? r2s : s2r,
    verification: `${digits.slice(0, 3)} ${digits.slice(3)}`,
  };
}
