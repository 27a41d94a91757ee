/**
 * Connection codes: `[host:]port-word-word`. The port (and host) say where to connect; the
 * words, two from the BIP-39 English list of 2,048 (22 bits), are the PAKE password. With 3
 * attempts allowed before the listener stops, a guesser succeeds about once in 1.4 million.
 */

import { wordlist } from "@scure/bip39/wordlists/english.js";

export const CODE_WORDS = 2;

const WORDS: ReadonlySet<string> = new Set(wordlist);

/** Fresh random words for a listener's code, e.g. "ribbon-walnut". */
export function randomCodeWords(count = CODE_WORDS): string {
  const picks = crypto.getRandomValues(new Uint16Array(count));
  return Array.from(picks, (n) => wordlist[n % wordlist.length] as string).join("-");
}

/** True when `words` is CODE_WORDS words of the list, separated by "-". */
export function isCodeWords(words: string): boolean {
  const parts = words.split("-");
  return parts.length === CODE_WORDS && parts.every((w) => WORDS.has(w));
}

/** Lowercase, spaces or dashes between words, trimmed: "Ribbon Walnut" -> "ribbon-walnut". */
export function normalizeCodeWords(words: string): string {
  return words
    .trim()
    .toLowerCase()
    .split(/[\s-]+/)
    .filter(Boolean)
    .join("-");
}
