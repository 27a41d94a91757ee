/**
 * Mailbox codes: `<nameplate>-<word>-<word>`, as magic-wormhole writes them. The nameplate (a
 * number the mailbox allocates) says which mailbox to meet in; the whole code, nameplate
 * included, is the SPAKE2 password. Words: one odd and one even PGP word (wormhole-words.ts),
 * 16 bits. Codes typed by a person may have other words (a wormhole user may have chosen
 * them), so parsing does not insist on the list.
 */

import { oneTypoApart } from "./codes.ts";
import { unwrapTypedCode } from "./typed-code.ts";
import { EVEN_WORDS, ODD_WORDS } from "./wormhole-words.ts";

export interface WormholeCode {
  /** "7" */
  readonly nameplate: string;
  /** "7-crossover-clockwork": the password. */
  readonly code: string;
}

/** Two fresh words, odd then even: "crossover-clockwork". */
export function randomWormholeWords(): string {
  const [a, b] = crypto.getRandomValues(new Uint8Array(2));
  return `${ODD_WORDS[a as number]}-${EVEN_WORDS[b as number]}`;
}

/** A nameplate as a code carries it (parseWormholeCode): 1-9 digits. */
export function isNameplate(text: string): boolean {
  return /^\d{1,9}$/.test(text);
}

/**
 * Reads a code as typed: quotes around it (typed-code.ts) and surrounding space dropped, letters
 * lowercased, spaces between parts
 * taken as "-". Undefined unless it is digits, then at least one word of letters and digits.
 */
export function parseWormholeCode(text: string): WormholeCode | undefined {
  const code = unwrapTypedCode(text.normalize("NFC"))
    .toLowerCase()
    .replace(/[\s-]+/g, "-");
  const match = /^(\d{1,9})(-[\p{L}\p{N}]+)+$/u.exec(code);
  if (!match) return undefined;
  return { nameplate: match[1] as string, code };
}

/** The PGP words, odd then even (disjoint), as a list (to find near ones) and a set; made at first use. */
let pgpWords: { readonly list: readonly string[]; readonly set: ReadonlySet<string> } | undefined;

/**
 * Why a mailbox code (as parseWormholeCode gives it) looks mistyped, or undefined: each of its
 * words is a PGP word or one typo from one (oneTypoApart), and at least one is not a PGP word.
 * Trying it would spend the code on both sides (a wrong code ends both), so it is said first,
 * with the word meant: `"burban" is not a word of mailbox codes (did you mean "burbank"?)`.
 * Words far from the list are a code the peer chose (`wormhole send --code`): undefined.
 */
export function wormholeCodeTypo(code: string): string | undefined {
  if (!pgpWords) {
    const list = [...ODD_WORDS, ...EVEN_WORDS];
    pgpWords = { list, set: new Set(list) };
  }
  const known = pgpWords;
  const problems: string[] = [];
  for (const word of code.split("-").slice(1)) {
    if (known.set.has(word)) continue;
    const near = known.list.filter((w) => oneTypoApart(word, w)).slice(0, 3);
    if (near.length === 0) return undefined;
    problems.push(`"${word}" is not a word of mailbox codes (did you mean ${near.map((w) => `"${w}"`).join(" or ")}?)`);
  }
  return problems.length === 0 ? undefined : problems.join("; ");
}
