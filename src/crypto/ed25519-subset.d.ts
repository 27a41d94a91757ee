/**
 * Types of ed25519-subset.js (generated; see ed25519-subset.build.ts): the package's own.
 */
export { ed25519, ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
