/**
 * SPAKE2 over Ed25519, symmetric mode, byte for byte as python-spake2 0.8 does it (the PAKE of
 * magic-wormhole's mailbox protocol, so a wormhole client and Parley can share one code).
 * Pure: no I/O; the caller carries the 33-byte messages (in the mailbox's `pake` phase).
 *
 *   pw scalar  w = int_be(HKDF-SHA256(ikm = password, salt = "", info = "SPAKE2 pw", 48)) mod L
 *   blinding   S = 8 * P, P the first point with y = int_be(HKDF(seed = "symmetric",
 *                  info = "SPAKE2 arbitrary element", 48)) mod q (+1, +2, ...) and even x
 *   secret     x = int_be(64 random bytes) mod L
 *   message    "S" (0x53) || enc(x*B + w*S)                                     33 bytes
 *   K          = x * (Y - w*S), Y the peer's point (must be in the prime-order subgroup)
 *   key        = SHA-256(SHA-256(pw) || SHA-256(idSymmetric) || min(X, Y) || max(X, Y) || enc(K))
 *                (X, Y: the two 32-byte encodings, compared as byte strings)
 *
 * Both sides with the same password and idSymmetric get the same 32-byte key; with different
 * passwords they get unrelated keys (found out later, when a phase message fails to open).
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { CryptoError } from "./errors.ts";

const Point = ed25519.Point;
type EdPoint = InstanceType<typeof Point>;

/** Order of the prime subgroup (L) and of the field (q). */
const L = Point.Fn.ORDER;
const Q = Point.Fp.ORDER;

/** The side byte of a symmetric message ("S"). */
export const SPAKE2_SIDE_SYMMETRIC = 0x53;
/** Bytes of a message: the side byte and one encoded point. */
export const SPAKE2_MESSAGE_BYTES = 33;
/** Bytes of randomness one start consumes. */
export const SPAKE2_ENTROPY_BYTES = 64;

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

function expand(ikm: Uint8Array, info: string): bigint {
  return bytesToNumberBE(hkdf(sha256, ikm, EMPTY, utf8.encode(info), 48));
}

/** python-spake2's password_to_scalar. */
function passwordScalar(password: Uint8Array): bigint {
  return expand(password, "SPAKE2 pw") % L;
}

/** python-spake2's arbitrary_element(seed): a point of the prime subgroup no one knows the log of. */
function arbitraryElement(seed: string): EdPoint {
  const y0 = expand(utf8.encode(seed), "SPAKE2 arbitrary element") % Q;
  for (let plus = 0n; ; plus++) {
    const y = (y0 + plus) % Q;
    const encoded = new Uint8Array(32);
    let v = y;
    for (let i = 0; i < 32; i++, v >>= 8n) encoded[i] = Number(v & 0xffn); // sign bit 0: even x
    let p: EdPoint;
    try {
      p = Point.fromBytes(encoded);
    } catch {
      continue; // y gives no point on the curve (its x^2 has no root)
    }
    const p8 = p.multiplyUnsafe(8n);
    if (!p8.is0()) return p8;
  }
}

let symmetricBlinding: EdPoint | undefined;
function blinding(): EdPoint {
  symmetricBlinding ??= arbitraryElement("symmetric");
  return symmetricBlinding;
}

/** The blinding point S, encoded (for tests: python-spake2's ParamsEd25519.S). */
export function spake2BlindingPoint(): Uint8Array {
  return blinding().toBytes();
}

/** One side's state between start and finish; `finish` wipes it. */
export interface Spake2State {
  readonly password: Uint8Array;
  readonly idSymmetric: Uint8Array;
  readonly secret: bigint;
  readonly passwordScalar: bigint;
  /** Our point's encoding (the message without its side byte). */
  readonly outbound: Uint8Array;
}

export interface Spake2Start {
  readonly state: Spake2State;
  /** 33 bytes: 0x53 and our point. */
  readonly message: Uint8Array;
}

/**
 * Starts one side.
 * @param entropy - 64 random bytes (tests pass fixed ones; python-spake2 reads them the same way)
 */
export function spake2Start(
  password: Uint8Array,
  idSymmetric: Uint8Array,
  entropy: Uint8Array = crypto.getRandomValues(new Uint8Array(SPAKE2_ENTROPY_BYTES)),
): Spake2Start {
  if (entropy.length !== SPAKE2_ENTROPY_BYTES) throw new RangeError("SPAKE2 needs 64 bytes of entropy");
  const secret = bytesToNumberBE(entropy) % L;
  const w = passwordScalar(password);
  const outbound = Point.BASE.multiplyUnsafe(secret).add(blinding().multiplyUnsafe(w)).toBytes();
  const message = new Uint8Array(SPAKE2_MESSAGE_BYTES);
  message[0] = SPAKE2_SIDE_SYMMETRIC;
  message.set(outbound, 1);
  return { state: { password, idSymmetric, secret, passwordScalar: w, outbound }, message };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Finishes with the peer's message and returns the 32-byte shared key.
 * @throws CryptoError E_BAD_POINT when the message is not a symmetric message carrying a point
 *   of the prime-order subgroup, or is our own message reflected back
 */
export function spake2Finish(state: Spake2State, inbound: Uint8Array): Uint8Array {
  if (inbound.length !== SPAKE2_MESSAGE_BYTES || inbound[0] !== SPAKE2_SIDE_SYMMETRIC) {
    throw new CryptoError("E_BAD_POINT", "not a symmetric SPAKE2 message");
  }
  const peerBytes = inbound.subarray(1);
  let peer: EdPoint;
  try {
    peer = Point.fromBytes(peerBytes);
  } catch (cause) {
    throw new CryptoError("E_BAD_POINT", "the peer's SPAKE2 point does not decode", { cause });
  }
  if (peer.is0() || !peer.isTorsionFree()) throw new CryptoError("E_BAD_POINT", "the peer's point is not usable");
  if (compareBytes(peer.toBytes(), state.outbound) === 0) {
    throw new CryptoError("E_BAD_POINT", "our own SPAKE2 message came back");
  }
  const unblinded = peer.subtract(blinding().multiplyUnsafe(state.passwordScalar));
  const k = unblinded.multiplyUnsafe(state.secret).toBytes();
  const [first, second] =
    compareBytes(peerBytes, state.outbound) < 0 ? [peerBytes, state.outbound] : [state.outbound, peerBytes];
  const transcript = new Uint8Array(32 * 5);
  transcript.set(sha256(state.password), 0);
  transcript.set(sha256(state.idSymmetric), 32);
  transcript.set(first, 64);
  transcript.set(second, 96);
  transcript.set(k, 128);
  const key = sha256(transcript);
  transcript.fill(0);
  k.fill(0);
  return key;
}
