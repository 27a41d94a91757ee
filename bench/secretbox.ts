/**
 * `bun bench/secretbox.ts`: XSalsa20-Poly1305 (SecretBox) speed of each backend that transit
 * records can use (src/crypto/secretbox.ts), seal and open, per record size. Figures in
 * docs/DESIGN-NOTES.md ("Plain magic-wormhole peers").
 */

import { createSecretBox, loadSodium, type SecretBoxBackend } from "../src/crypto/secretbox.ts";

const TOTAL_MIB = Number(process.argv[2] ?? 128);
const backends: SecretBoxBackend[] = loadSodium() ? ["libsodium", "noble"] : ["noble"];
const key = new Uint8Array(32).fill(7);
const nonce = new Uint8Array(24);

for (const size of [16 * 1024, 64 * 1024, 256 * 1024]) {
  const plain = new Uint8Array(size).fill(1);
  const box = new Uint8Array(size + 16);
  const back = new Uint8Array(size);
  const count = Math.max(1, (TOTAL_MIB * 1024 * 1024) / size);
  for (const backend of backends) {
    const sb = createSecretBox(key, backend);
    let start = performance.now();
    for (let i = 0; i < count; i++) sb.sealInto(nonce, plain, box);
    const seal = TOTAL_MIB / ((performance.now() - start) / 1000);
    start = performance.now();
    for (let i = 0; i < count; i++) if (!sb.openInto(nonce, box, back)) throw new Error("does not open");
    const open = TOTAL_MIB / ((performance.now() - start) / 1000);
    console.log(
      `RESULT\tsecretbox-${backend}-${size / 1024}KiB\tseal=${seal.toFixed(0)} MiB/s\topen=${open.toFixed(0)} MiB/s`,
    );
  }
}
