/**
 * The AES-256-GCM contract both backends meet (aes-gcm-libcrypto.ts, aes-gcm-node.ts) and
 * aes-gcm.ts chooses between: sizes and the sealer/opener interfaces. Apart from the chooser
 * so that the backends depend on it and not on each other's chooser.
 */

export type AeadBackend = "libcrypto" | "node";

/** Bytes of the GCM nonce (96 bits, NIST SP 800-38D §5.2.1.1). */
export const GCM_NONCE_BYTES = 12;
/** Bytes of the GCM tag. */
export const GCM_TAG_BYTES = 16;

export interface GcmSealer {
  readonly backend: AeadBackend;
  /**
   * Encrypts `plaintext` into `out[0, n)` and puts the tag at `out[n, n + 16)`; `out` must be
   * exactly n + 16 bytes and must not overlap `plaintext` (unless it starts at the same byte).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): void;
  /**
   * Seals a record where it lies: the AAD is `record[0, aadBytes)`, the ciphertext of `plaintext`
   * goes to `record[aadBytes, aadBytes + n)` and the tag right after it (`record` may be longer:
   * the rest is left alone; it must not overlap `plaintext`). Makes no view and no buffer, so a
   * record sealed this way allocates nothing (the libcrypto backend passes addresses).
   */
  sealRecord(nonce: Uint8Array, record: Uint8Array, aadBytes: number, plaintext: Uint8Array): void;
  /** Forgets the key (the object is unusable afterwards). */
  destroy(): void;
}

export interface GcmOpener {
  readonly backend: AeadBackend;
  /** Starts one message. */
  begin(nonce: Uint8Array, aad: Uint8Array): void;
  /**
   * Decrypts the next piece of ciphertext into `out` (at least as long as `piece`), returning
   * the plaintext view. Unauthenticated until `finish` says so: the caller must not use it before.
   */
  update(piece: Uint8Array, out: Uint8Array): Uint8Array;
  /**
   * `update` without views: decrypts `source[sourceAt, sourceAt + n)` into `out` at `outAt`
   * (room for n bytes) and returns how many bytes it wrote. Unauthenticated until `finish`.
   */
  updateAt(source: Uint8Array, sourceAt: number, n: number, out: Uint8Array, outAt: number): number;
  /** True when `tag` authenticates everything since `begin`. */
  finish(tag: Uint8Array): boolean;
  destroy(): void;
}
