/**
 * Connection codes: `[host:]port-word-word`. The port (and host) say where to connect; the
 * words, two from the BIP-39 English list of 2,048 (22 bits), are the PAKE password. With 3
 * attempts allowed before the listener stops, a guesser succeeds about once in 1.4 million.
 *
 * The list is a JSON copy of @scure/bip39's `wordlists/english.js` (a unit test keeps them
 * equal): that module freezes its array, which made loading it and building the set 10-20 ms
 * of the chat's start-up; parsed JSON is an ordinary array, ready in 1-2 ms. The set for
 * checking typed words is built at the first check, after the listener's code is shown.
 */

import wordlist from "./bip39-english.json" with { type: "json" };

export const CODE_WORDS = 2;

let wordSet: ReadonlySet<string> | undefined;

/** Fresh random words for a listener's code, e.g. "ribbon-walnut". */
export function randomCodeWords(count = CODE_WORDS): string {
  const picks = crypto.getRandomValues(new Uint16Array(count));
  return Array.from(picks, (n) => wordlist[n % wordlist.length] as string).join("-");
}

/** True when `words` is CODE_WORDS words of the list, separated by "-". */
export function isCodeWords(words: string): boolean {
  const parts = words.split("-");
  wordSet ??= new Set(wordlist);
  const known = wordSet;
  return parts.length === CODE_WORDS && parts.every((w) => known.has(w));
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
