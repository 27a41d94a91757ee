/** Mailbox codes: the PGP words, generating and parsing `<nameplate>-<word>-<word>`. */

import { describe, expect, test } from "bun:test";
import { oneTypoApart } from "../../src/crypto/codes.ts";
import { parseWormholeCode, randomWormholeWords, wormholeCodeTypo } from "../../src/crypto/wormhole-code.ts";
import { EVEN_WORDS, ODD_WORDS } from "../../src/crypto/wormhole-words.ts";

describe("wormhole words and codes", () => {
  test("the PGP lists: 256 distinct words each, known ends", () => {
    expect(new Set(ODD_WORDS).size).toBe(256);
    expect(new Set(EVEN_WORDS).size).toBe(256);
    expect([EVEN_WORDS[0], ODD_WORDS[0], EVEN_WORDS[255], ODD_WORDS[255]]).toEqual([
      "aardvark",
      "adroitness",
      "zulu",
      "yucatan",
    ]);
  });

  test("fresh words: odd then even", () => {
    for (let i = 0; i < 50; i++) {
      const [first, second, ...rest] = randomWormholeWords().split("-");
      expect(ODD_WORDS).toContain(first as string);
      expect(EVEN_WORDS).toContain(second as string);
      expect(rest).toEqual([]);
    }
  });

  test.each([
    ["7-crossover-clockwork", "7", "7-crossover-clockwork"],
    ["  12 Crossover Clockwork ", "12", "12-crossover-clockwork"],
    ["3-word", "3", "3-word"],
    ["4-a-b-c", "4", "4-a-b-c"],
    // Pasted from a message: one pair of quotes or backticks around it is not the code's.
    ['"7-crossover-clockwork"', "7", "7-crossover-clockwork"],
    [" '7-crossover-clockwork' ", "7", "7-crossover-clockwork"],
    ["`7-crossover-clockwork`", "7", "7-crossover-clockwork"],
    ["“ 7-crossover-clockwork ”", "7", "7-crossover-clockwork"],
  ])("parses %p", (input, nameplate, code) => {
    expect(parseWormholeCode(input)).toEqual({ nameplate, code });
  });

  test.each([
    "",
    "crossover-clockwork",
    "7",
    "7-",
    "-7-a",
    "x7-a-b",
    "7-a_b",
    "127.0.0.1:4000-a-b",
    '"7-crossover-clockwork',
    "'7-a-b\"",
    '""',
  ])("refuses %p", (input) => {
    expect(parseWormholeCode(input)).toBeUndefined();
  });
});

describe("a mistyped mailbox code (wormholeCodeTypo)", () => {
  test.each([
    ["6-unicorn-burban", '"burban" is not a word of mailbox codes (did you mean "burbank"?)'],
    ["6-unicron-burbank", '"unicron" is not a word of mailbox codes (did you mean "unicorn"?)'],
    ["6-unicorns-burbank", '"unicorns" is not a word of mailbox codes (did you mean "unicorn"?)'],
    ["6-unicorn-burbanc", '"burbanc" is not a word of mailbox codes (did you mean "burbank"?)'],
    [
      "12-unicron-burban",
      '"unicron" is not a word of mailbox codes (did you mean "unicorn"?); "burban" is not a word of mailbox codes (did you mean "burbank"?)',
    ],
  ])("%s: each word on the list or one typo from it, one not on it", (code, line) => {
    expect(wormholeCodeTypo(code)).toBe(line);
  });

  test.each([
    ["6-unicorn-burbank", "both words on the list"],
    ["6-burbank-unicorn", "both on the list, in the other order"],
    ["6-unicorn-burbank-zulu", "three words, all on the list"],
    ["6-hello-world", "words far from the list: a code the peer chose"],
    ["6-unicorn-banana", "one word on the list, one far from it"],
    ["6-unicron-banana", "one a typo away, one far from the list: a chosen code"],
    ["6-unicornxx-burbank", "two letters off"],
    ["6", "no words"],
  ])("%s: undefined (%s)", (code) => {
    expect(wormholeCodeTypo(code)).toBeUndefined();
  });

  test("the word meant is one word, but for one pair of the lists one typo apart: both are named", () => {
    const all = [...ODD_WORDS, ...EVEN_WORDS];
    const close = all.flatMap((a) => all.filter((b) => oneTypoApart(a, b)).map((b) => `${a}/${b}`));
    expect(close).toEqual(["revenue/revenge", "revenge/revenue"]);
    expect(wormholeCodeTypo("3-revenxe-zulu")).toBe(
      '"revenxe" is not a word of mailbox codes (did you mean "revenue" or "revenge"?)',
    );
  });
});
