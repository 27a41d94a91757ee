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

/**
 * Why `words` (normalized) are not a code's words, for a person who mistyped them: the first
 * word not in the list and the list's words one typo from it ("hotl": did you mean "hotel"), or
 * the count. Undefined when they are a code's words. Only on the error path: it scans the list.
 */
export function codeWordsProblem(words: string): string | undefined {
  const parts = words.split("-");
  wordSet ??= new Set(wordlist);
  const known = wordSet;
  const unknown = parts.find((w) => !known.has(w));
  if (unknown !== undefined) {
    const near = wordlist.filter((w) => oneTypoApart(unknown, w)).slice(0, 3);
    const meant = near.length === 0 ? "" : ` (did you mean ${near.map((w) => `"${w}"`).join(" or ")}?)`;
    return `"${unknown}" is not one of the words codes are made of${meant}`;
  }
  if (parts.length !== CODE_WORDS) return `a code has ${CODE_WORDS} words after its port, not ${parts.length}`;
  return undefined;
}

/** One letter changed, added or left out, or two neighbours swapped. */
export function oneTypoApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1 || a === b) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    return swapped || a.slice(i + 1) === b.slice(i + 1);
  }
  return a.length < b.length ? a.slice(i) === b.slice(i + 1) : a.slice(i + 1) === b.slice(i);
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
