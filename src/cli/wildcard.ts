/**
 * A shell wildcard for one name, matched in time linear in the name for each `*` (`*`, `?`,
 * `[abc]`, `[!a-z]`, `[[:digit:]]`; an unclosed `[` is itself), by code point. Pure.
 *
 * Not a RegExp: `^.*a.*a.*a.*a.*b$` backtracks, and JSC took 2.9 s for a 200-character name of
 * a's (more for each `*`); the chat's turn, Ctrl-C included, waited that long for
 * `transfer /tmp/*a*a*a*a*a*a*b` where another user had put such a name.
 */

type Piece =
  | { readonly kind: "star" }
  | { readonly kind: "one" }
  | { readonly kind: "char"; readonly cp: number }
  | {
      readonly kind: "set";
      readonly negate: boolean;
      readonly ranges: readonly (readonly [number, number])[];
      /** `[:digit:]` and the like: each tests one character (no backtracking in them). */
      readonly classes: readonly RegExp[];
    };

/**
 * bash's character classes in a set (`[[:digit:]]`), as a UTF-8 locale's: each tested on one
 * character. Before they were sets of their letters (`[[:digit:]]`, `[:digt` and then `]`).
 */
const CLASSES: Readonly<Record<string, RegExp>> = {
  alnum: /^[\p{L}\p{Nd}]$/u,
  alpha: /^\p{L}$/u,
  ascii: /^[\0-\x7f]$/u,
  blank: /^[\t\p{Zs}]$/u,
  cntrl: /^\p{Cc}$/u,
  digit: /^[0-9]$/u,
  graph: /^[^\p{C}\p{Z}]$/u,
  lower: /^\p{Ll}$/u,
  print: /^[^\p{C}\p{Zl}\p{Zp}]$/u,
  punct: /^[\p{P}\p{S}]$/u,
  space: /^\s$/u,
  upper: /^\p{Lu}$/u,
  word: /^[\p{L}\p{Nd}_]$/u,
  xdigit: /^[0-9A-Fa-f]$/u,
};

export type Wildcard = readonly Piece[];

/**
 * `pattern` as pieces; undefined for a set no name can match (a range backwards, `[z-a]`; a class
 * bash does not know, `[[:foo:]]`), which leaves the path as typed, as in a shell.
 * @param literal - by code point: true for a character that was quoted or escaped where it was
 *   typed (`"*"`, `\*`, `[a\]]`), which a shell never takes as a wildcard's (nor as a set's `]`,
 *   `-` or `!`)
 */
export function compileWildcard(pattern: string, literal: readonly boolean[] = []): Wildcard | undefined {
  const cps = Array.from(pattern, (ch) => ch.codePointAt(0) as number);
  /** The character at `i` as typed unquoted, or -1 (it is only itself). */
  const special = (i: number): number => (literal[i] === true ? -1 : (cps[i] ?? -1));
  const pieces: Piece[] = [];
  const OPEN = 0x5b; // [
  const CLOSE = 0x5d; // ]
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i] as number;
    const open = special(i) === OPEN;
    const negate = open && (special(i + 1) === 0x21 || special(i + 1) === 0x5e); // [! or [^
    const first = i + (negate ? 2 : 1);
    /** Where a `[:name:]` (`[.c.]`, `[=c=]`) starting at `j` ends (its `]`), or -1: none there. */
    const bracketEnd = (j: number): number => {
      const kind = special(j) === OPEN ? special(j + 1) : -1;
      if (kind !== 0x3a && kind !== 0x2e && kind !== 0x3d) return -1; // : . =
      for (let k = j + 2; k + 1 < cps.length; k++) if (special(k) === kind && special(k + 1) === CLOSE) return k + 1;
      return -1;
    };
    // A `]` first in the set is a member, as in a shell: the set ends at a later one, not one
    // closing a `[:name:]` inside it.
    let end = -1;
    for (let j = first; open && j < cps.length && end < 0; j++) {
      if (special(j) === CLOSE && j > first) end = j;
      else j = Math.max(j, bracketEnd(j));
    }
    if (special(i) === 0x2a) pieces.push({ kind: "star" });
    else if (special(i) === 0x3f) pieces.push({ kind: "one" });
    else if (end > 0) {
      const ranges: [number, number][] = [];
      const classes: RegExp[] = [];
      for (let j = first; j < end; j++) {
        const inner = bracketEnd(j);
        if (inner > 0) {
          const name = String.fromCodePoint(...cps.slice(j + 2, inner - 1));
          const one = name.codePointAt(0) as number;
          // bash: an unknown class, or a collating symbol of more than one character, matches nothing.
          if (special(j + 1) === 0x3a && CLASSES[name]) classes.push(CLASSES[name]);
          else if (special(j + 1) !== 0x3a && name.length > 0 && String.fromCodePoint(one) === name) {
            ranges.push([one, one]);
          } else return undefined;
          j = inner;
          continue;
        }
        const lo = cps[j] as number;
        if (special(j + 1) === 0x2d && j + 2 < end) {
          const hi = cps[j + 2] as number;
          if (hi < lo) return undefined;
          ranges.push([lo, hi]);
          j += 2;
        } else ranges.push([lo, lo]);
      }
      pieces.push({ kind: "set", negate, ranges, classes });
      i = end;
    } else pieces.push({ kind: "char", cp });
  }
  return pieces;
}

/** Whether the wildcard matches anything but one name (it has a `*`, `?` or set): else it is a name. */
export function isWildcard(wildcard: Wildcard): boolean {
  return wildcard.some((piece) => piece.kind !== "char");
}

function takes(piece: Piece, cp: number): boolean {
  switch (piece.kind) {
    case "one":
      return true;
    case "char":
      return piece.cp === cp;
    case "set":
      return (
        (piece.ranges.some(([lo, hi]) => cp >= lo && cp <= hi) ||
          (piece.classes.length > 0 && piece.classes.some((c) => c.test(String.fromCodePoint(cp))))) !== piece.negate
      );
    default:
      return false;
  }
}

/**
 * Whether `name` matches the whole wildcard. A `*` that did not fit is retried one character
 * further, the later ones never: what follows the last `*` seen decides, so the work is at most
 * the name's length times the pattern's.
 */
export function wildcardMatches(wildcard: Wildcard, name: string): boolean {
  const cps = Array.from(name, (ch) => ch.codePointAt(0) as number);
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < cps.length) {
    const piece = wildcard[p];
    if (piece?.kind === "star") {
      starP = p++;
      starN = n;
    } else if (piece !== undefined && takes(piece, cps[n] as number)) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else return false;
  }
  while (wildcard[p]?.kind === "star") p++;
  return p === wildcard.length;
}
