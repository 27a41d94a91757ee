/** Mailbox codes: the PGP words, generating and parsing `<nameplate>-<word>-<word>`. */

import { describe, expect, test } from "bun:test";
import { parseWormholeCode, randomWormholeWords } from "../../src/crypto/wormhole-code.ts";
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
    ["7-purple-sausage", "7", "7-purple-sausage"],
    ["  12 Purple Sausage ", "12", "12-purple-sausage"],
    ["3-word", "3", "3-word"],
    ["4-a-b-c", "4", "4-a-b-c"],
    // Pasted from a message: one pair of quotes or backticks around it is not the code's.
    ['"7-purple-sausage"', "7", "7-purple-sausage"],
    [" '7-purple-sausage' ", "7", "7-purple-sausage"],
    ["`7-purple-sausage`", "7", "7-purple-sausage"],
    ["“ 7-purple-sausage ”", "7", "7-purple-sausage"],
  ])("parses %p", (input, nameplate, code) => {
    expect(parseWormholeCode(input)).toEqual({ nameplate, code });
  });

  test.each([
    "",
    "purple-sausage",
    "7",
    "7-",
    "-7-a",
    "x7-a-b",
    "7-a_b",
    "127.0.0.1:4000-a-b",
    '"7-purple-sausage',
    "'7-a-b\"",
    '""',
  ])("refuses %p", (input) => {
    expect(parseWormholeCode(input)).toBeUndefined();
  });
});
