/**
 * CPace password-authenticated key exchange, cipher suite CPACE-RISTR255-SHA512
 * (draft-irtf-cfrg-cpace-21, §7 protocol, §8.3 group object G_Ristretto255). Pure: no I/O, no
 * timers; the caller carries the 32-byte shares and the associated data (AD) over the wire.
 *
 *   A (initiator)                                   B (responder)
 *   g  = calculate_generator(PRS, CI, sid)          g  = calculate_generator(PRS, CI, sid)
 *   ya = random scalar, Ya = ya*g                   yb = random scalar, Yb = yb*g
 *                     ----- Ya (32 bytes), ADa ----->
 *                     <---- Yb (32 bytes), ADb ------
 *   K = ya*Yb  (abort if Yb bad or K = identity)    K = yb*Ya  (abort likewise)
 *   ISK = SHA-512(lv_cat(DSI || "_ISK", sid, K) || transcript(Ya, ADa, Yb, ADb))   64 bytes
 *
 * Encodings (draft Appendix A):
 *   prepend_len(x)   = LEB128(len(x)) || x
 *   lv_cat(a, b, ..) = prepend_len(a) || prepend_len(b) || ..
 *   generator string = lv_cat(DSI, PRS, zero_bytes(zpad), CI, sid), zpad fills the first
 *                      128-byte SHA-512 block after DSI and PRS (§8.1)
 *   transcript_ir    = lv_cat(Ya, ADa) || lv_cat(Yb, ADb)                initiator-responder
 *   transcript_oc    = "oc" || max(lv_cat(Ya, ADa), lv_cat(Yb, ADb)) || min(..)   symmetric
 *
 * ISK is an intermediate key: feed it to HKDF before use (§10.3), and never expose K.
 */

import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { CryptoError } from "./errors.ts";

/** Bytes of an encoded ristretto255 element: a public share Y, the generator, K. */
export const CPACE_SHARE_BYTES = 32;
/** Bytes of a secret scalar (little-endian). */
export const CPACE_SCALAR_BYTES = 32;
/** Bytes of the intermediate session key ISK (SHA-512 output). */
export const CPACE_ISK_BYTES = 64;

const Point = ristretto255.Point;
type RistrettoPoint = InstanceType<typeof Point>;

/** G_Ristretto255.DSI (§8.3). */
const DSI = new TextEncoder().encode("CPaceRistretto255");
/** DSI || "_ISK", the first field hashed into ISK (§7.2). */
const DSI_ISK = new TextEncoder().encode("CPaceRistretto255_ISK");
/** "oc" prefix of ordered concatenation (Appendix A.3.2). */
const OC_PREFIX = new TextEncoder().encode("oc");
/** H.s_in_bytes for SHA-512: the input block size the zero padding fills (§6.2, §8.1). */
const SHA512_BLOCK_BYTES = 128;

// The hasher type marks deriveToCurve optional (not every curve has it); ristretto255 always
// does, so check once at load instead of on every call.
const deriveToCurve: (uniform64: Uint8Array) => RistrettoPoint = (() => {
  const derive = ristretto255_hasher.deriveToCurve;
  if (derive === undefined) throw new Error("@noble/curves lacks ristretto255 element derivation");
  return derive;
})();

/** LEB128 encoding of a byte length (Appendix A.1.1). */
function leb128(length: number): number[] {
  const out: number[] = [];
  let n = length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 0x80); // not >>> 7: lengths above 2^31 must not wrap
  }
  out.push(n);
  return out;
}

/** lv_cat: each part prefixed with its LEB128 length (Appendix A.1.3). One allocation. */
function lvCat(...parts: readonly Uint8Array[]): Uint8Array {
  const fields = parts.map((part) => ({ prefix: leb128(part.length), part }));
  let total = 0;
  for (const { prefix, part } of fields) total += prefix.length + part.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const { prefix, part } of fields) {
    out.set(prefix, at);
    at += prefix.length;
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Lexicographic order of Appendix A.3.1: first differing byte decides, and when one string is a
 * prefix of the other the longer one is larger.
 */
function lexicographicallyLarger(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  // Kept for fidelity to the draft; with 32-byte shares the two lv_cat strings are never
  // proper prefixes of each other, so this line only decides between equal strings.
  return a.length > b.length;
}

/** o_cat: "oc" || larger || smaller (Appendix A.3.2), so both sides build the same bytes. */
function oCat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [first, second] = lexicographicallyLarger(a, b) ? [a, b] : [b, a];
  const out = new Uint8Array(OC_PREFIX.length + first.length + second.length);
  out.set(OC_PREFIX, 0);
  out.set(first, OC_PREFIX.length);
  out.set(second, OC_PREFIX.length + first.length);
  return out;
}

/** G.calculate_generator for ristretto255 (§8.1, §8.3), as a decoded point. */
function generatorPoint(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): RistrettoPoint {
  // len_zpad = max(0, s_in_bytes - 1 - len(prepend_len(PRS)) - len(prepend_len(DSI))).
  // With the padding, the first hash block holds DSI, PRS and zeros only, so its cost does not
  // depend on the password length nor on the session inputs (§8.1, §10.10).
  const zpad = Math.max(
    0,
    SHA512_BLOCK_BYTES - 1 - (leb128(prs.length).length + prs.length) - (leb128(DSI.length).length + DSI.length),
  );
  const genStr = lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
  const genHash = sha512(genStr); // 64 bytes = 2 * field_size_bytes, as element derivation needs
  try {
    // RFC 9496 §4.3.4 element derivation (two Elligator maps, added).
    return deriveToCurve(genHash);
  } finally {
    // Both buffers are password-equivalent: wipe them (the bigints inside noble cannot be).
    genStr.fill(0);
    genHash.fill(0);
  }
}

/** Random scalar per §8.3's RECOMMENDED G.sample_scalar: 32 random bytes, top 4 bits cleared. */
function sampleScalar(): bigint {
  const bytes = new Uint8Array(CPACE_SCALAR_BYTES);
  try {
    for (;;) {
      crypto.getRandomValues(bytes);
      // Keep the low 252 bits (group_size_bits). 2^252 < group order, so the value needs no
      // reduction and every 252-bit string is a valid scalar.
      bytes[CPACE_SCALAR_BYTES - 1] = (bytes[CPACE_SCALAR_BYTES - 1] ?? 0) & 0x0f;
      const y = bytesToNumberLE(bytes);
      // Zero has probability 2^-252, but would make Y the identity, so redraw rather than emit it.
      if (y !== 0n) return y;
    }
  } finally {
    bytes.fill(0);
  }
}

/** Decodes a little-endian scalar and reduces it mod the group order; rejects 0. */
function decodeScalar(bytes: Uint8Array, what: string): bigint {
  if (bytes.length !== CPACE_SCALAR_BYTES) throw new RangeError(`${what} must be ${CPACE_SCALAR_BYTES} bytes`);
  const y = Point.Fn.create(bytesToNumberLE(bytes));
  if (y === 0n) throw new RangeError(`${what} is zero mod the group order (already used and wiped?)`);
  return y;
}

/**
 * G.scalar_mult_vfy (§8.3): decodes the peer's share and multiplies it by our scalar; abort
 * (§7.2) if the share is not a canonical ristretto255 encoding or the product is the identity.
 * Returns K, encoded.
 */
function scalarMultVfy(y: bigint, peerShare: Uint8Array): Uint8Array {
  let peer: RistrettoPoint;
  try {
    peer = Point.fromBytes(peerShare); // rejects wrong length, non-canonical and invalid encodings
  } catch (err) {
    throw new CryptoError("E_BAD_POINT", "peer PAKE share is not a valid group element", { cause: err });
  }
  const k = peer.multiply(y);
  // Prime-order group and y != 0: K is the identity exactly when the share encodes the identity.
  if (k.is0()) throw new CryptoError("E_BAD_POINT", "peer PAKE share is the identity element");
  return k.toBytes();
}

/**
 * Shared tail of the finish functions: K = y*peer, then ISK = H(lv_cat(DSI || "_ISK", sid, K) ||
 * transcript) (§7.2). Wipes `secret` and K whether it succeeds or throws: a scalar must not be
 * reused (§10.9), and an aborted session has no further use for it.
 */
function finish(secret: Uint8Array, sid: Uint8Array, peerMessage: Uint8Array, transcript: Uint8Array): Uint8Array {
  let k: Uint8Array | undefined;
  let prefix: Uint8Array | undefined;
  try {
    const y = decodeScalar(secret, "CPace secret");
    k = scalarMultVfy(y, peerMessage);
    prefix = lvCat(DSI_ISK, sid, k);
    return sha512.create().update(prefix).update(transcript).digest();
  } finally {
    secret.fill(0);
    k?.fill(0);
    prefix?.fill(0);
  }
}

/**
 * The CPace generator g for these inputs, encoded (§8.3 calculate_generator). Exposed for the
 * draft's test vector; the protocol itself needs only `cpaceStart`.
 * @param prs - password-related string, any length (e.g. a KDF output of the password)
 * @param ci - channel identifier, any length, may be empty; both sides must agree
 * @param sid - session identifier, any length, may be empty; should be unique per session (§10.9)
 * @returns 32 bytes
 */
export function cpaceGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  return generatorPoint(prs, ci, sid).toBytes();
}

/**
 * First step for either side: derive g, pick a scalar y, and compute the public share Y = y*g.
 * @param prs - password-related string, any length
 * @param ci - channel identifier, any length, may be empty
 * @param sid - session identifier, any length, may be empty
 * @param scalar - tests only: 32-byte little-endian scalar, reduced mod the group order; random
 *   (§8.3 sample_scalar) when omitted. Never reuse one (§10.9).
 * @returns `secret`: 32-byte scalar to pass to exactly one finish call, which wipes it;
 *   `message`: 32-byte public share to send to the peer
 * @throws RangeError if `scalar` is not 32 bytes or is 0 mod the group order
 */
export function cpaceStart(
  prs: Uint8Array,
  ci: Uint8Array,
  sid: Uint8Array,
  scalar?: Uint8Array,
): { secret: Uint8Array; message: Uint8Array } {
  const y = scalar === undefined ? sampleScalar() : decodeScalar(scalar, "CPace scalar");
  const message = generatorPoint(prs, ci, sid).multiply(y).toBytes();
  return { secret: numberToBytesLE(y, CPACE_SCALAR_BYTES), message };
}

/**
 * ISK for the initiator (party A, who sent first) in initiator-responder mode: the transcript is
 * lv_cat(Ya, ADa) || lv_cat(Yb, ADb) with our share and AD first (§6.3, Appendix A.3.4).
 * @param secret - `secret` from `cpaceStart`; zeroed by this call, success or not
 * @param sid - the same session identifier given to `cpaceStart`
 * @param ownMessage - our 32-byte share from `cpaceStart`
 * @param ownAd - associated data we sent, any length, may be empty
 * @param peerMessage - the peer's share as received (32 bytes when well-formed)
 * @param peerAd - associated data the peer sent, any length, may be empty
 * @returns 64-byte ISK; run it through a KDF before use
 * @throws CryptoError E_BAD_POINT if the peer's share does not decode or yields the identity
 * @throws RangeError if `secret` is not 32 bytes or was already used (zeroed)
 */
export function cpaceFinishInitiator(
  secret: Uint8Array,
  sid: Uint8Array,
  ownMessage: Uint8Array,
  ownAd: Uint8Array,
  peerMessage: Uint8Array,
  peerAd: Uint8Array,
): Uint8Array {
  // transcript_ir(Ya, ADa, Yb, ADb) = lv_cat(Ya, ADa) || lv_cat(Yb, ADb) = lv_cat(Ya, ADa, Yb, ADb)
  return finish(secret, sid, peerMessage, lvCat(ownMessage, ownAd, peerMessage, peerAd));
}

/**
 * ISK for the responder (party B) in initiator-responder mode: the transcript puts the peer's
 * (initiator's) share and AD first, then ours. Parameters, result and errors as
 * `cpaceFinishInitiator`.
 */
export function cpaceFinishResponder(
  secret: Uint8Array,
  sid: Uint8Array,
  ownMessage: Uint8Array,
  ownAd: Uint8Array,
  peerMessage: Uint8Array,
  peerAd: Uint8Array,
): Uint8Array {
  return finish(secret, sid, peerMessage, lvCat(peerMessage, peerAd, ownMessage, ownAd));
}

/**
 * ISK for the symmetric setting, where either side may speak first: the transcript is
 * o_cat(lv_cat(Ya, ADa), lv_cat(Yb, ADb)), the same bytes on both sides (Appendix A.3.6).
 * Per §10.1.1 use this mode only when ADa and ADb are unique per session (e.g. carry random
 * bytes); otherwise use initiator-responder mode. Parameters, result and errors as
 * `cpaceFinishInitiator`.
 */
export function cpaceFinishSymmetric(
  secret: Uint8Array,
  sid: Uint8Array,
  ownMessage: Uint8Array,
  ownAd: Uint8Array,
  peerMessage: Uint8Array,
  peerAd: Uint8Array,
): Uint8Array {
  return finish(secret, sid, peerMessage, oCat(lvCat(ownMessage, ownAd), lvCat(peerMessage, peerAd)));
}
