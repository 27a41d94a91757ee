/**
 * The codes README.md and src/ show as examples are codes Parley takes for codes: a direct one's
 * two words from the BIP-39 list (`40123-ribbon-walnut`), a mailbox one's from magic-wormhole's
 * PGP lists, the odd word first (`7-crossover-clockwork`), as isMailboxCode and isWholeCode
 * judge them. README's `7-purple-sausage` (~80 places) was neither: typed at a chat that had
 * just connected, it would have gone out as a chat line, and a user copying its shape learned
 * words no mailbox code has.
 */

import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isWholeCode } from "../../src/cli/input.ts";
import codeWordList from "../../src/crypto/bip39-english.json" with { type: "json" };
import { EVEN_WORDS, ODD_WORDS } from "../../src/crypto/wormhole-words.ts";

const ROOT = join(import.meta.dir, "../..");
/** Shown on purpose as a mistyped code (the "did you mean" lines). */
const TYPO_EXAMPLES = new Set(["6-unicorn-burban"]);

function sources(): string[] {
  const files = [join(ROOT, "README.md")];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) files.push(path);
    }
  };
  walk(join(ROOT, "src"));
  return files;
}

test("every example code in README.md and src/ is made of its list's words, a mailbox code's odd word first", () => {
  const direct = new Set<string>(codeWordList);
  const wrong: string[] = [];
  let mailboxCodes = 0;
  for (const file of sources()) {
    for (const [code, , first, second] of readFileSync(file, "utf8").matchAll(/\b(\d{1,9})-([a-z]+)-([a-z]+)\b/g)) {
      if (TYPO_EXAMPLES.has(code)) continue;
      const pgp = ODD_WORDS.includes(first as string) && EVEN_WORDS.includes(second as string);
      if (pgp) mailboxCodes++;
      if (pgp || (direct.has(first as string) && direct.has(second as string))) {
        expect(isWholeCode(code), code).toBe(true);
      } else wrong.push(`${file.slice(ROOT.length + 1)}: ${code}`);
    }
  }
  expect(wrong).toEqual([]);
  // The scan found the mailbox examples (it would pass on a pattern that matches nothing).
  expect(mailboxCodes).toBeGreaterThan(20);
});
