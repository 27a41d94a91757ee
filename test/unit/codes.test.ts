/** Connection codes: words, normalising, how a listener shows its code, how a peer parses it. */

import { describe, expect, test } from "bun:test";
import { codeWordsOf, connectionCode, isLoopbackHost } from "../../src/cli/codes.ts";
import { parsePeerAddress } from "../../src/cli/input.ts";
import { isCodeWords, normalizeCodeWords, randomCodeWords } from "../../src/crypto/codes.ts";

describe("code words", () => {
  test("random words are two words of the list, and differ between calls", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const words = randomCodeWords();
      expect(isCodeWords(words)).toBe(true);
      seen.add(words);
    }
    expect(seen.size).toBeGreaterThan(45);
  });

  test.each([
    ["Ribbon Walnut", "ribbon-walnut"],
    ["  ribbon-walnut ", "ribbon-walnut"],
    ["RIBBON--walnut", "ribbon-walnut"],
  ])("%p normalises to %p", (input, out) => {
    expect(normalizeCodeWords(input)).toBe(out);
  });

  test.each(["ribbon", "ribbon-walnut-zoo", "ribbon-notaword", "", "ribbon-walnut1"])("%p is not a code", (w) => {
    expect(isCodeWords(w)).toBe(false);
  });

  test.each([
    ["40123-ribbon-walnut", "ribbon-walnut"],
    ["ribbon-walnut", "ribbon-walnut"],
    ["10.0.0.5:40123-ribbon-walnut", "ribbon-walnut"],
    ["40123", undefined],
    [undefined, undefined],
  ])("codeWordsOf(%p) is %p", (code, words) => {
    expect(codeWordsOf(code)).toBe(words);
  });
});

describe("showing and reading codes", () => {
  test("loopback listeners show port-words; others show the address a peer can use", () => {
    expect(connectionCode("127.0.0.1", 40123, "ribbon-walnut", [])).toBe("40123-ribbon-walnut");
    expect(connectionCode("0.0.0.0", 40123, "ribbon-walnut", ["127.0.0.1:40123", "192.0.2.5:40123"])).toBe(
      "192.0.2.5:40123-ribbon-walnut",
    );
    expect(
      connectionCode("::", 40123, "ribbon-walnut", ["[::1]:40123", "[fe80::1]:40123", "[2001:db8::5]:40123"]),
    ).toBe("[2001:db8::5]:40123-ribbon-walnut");
    expect(connectionCode("2001:db8::5", 40123, "ribbon-walnut", [])).toBe("[2001:db8::5]:40123-ribbon-walnut");
  });

  test.each([
    ["40123-ribbon-walnut", { host: "127.0.0.1", port: 40123, words: "ribbon-walnut" }],
    ["192.0.2.5:40123-ribbon-walnut", { host: "192.0.2.5", port: 40123, words: "ribbon-walnut" }],
    ["[2001:db8::5]:40123-ribbon-walnut", { host: "2001:db8::5", port: 40123, words: "ribbon-walnut" }],
    ["40123-Ribbon Walnut", { host: "127.0.0.1", port: 40123, words: "ribbon-walnut" }],
  ])("every shown code parses back: %p", (text, expected) => {
    expect(parsePeerAddress(text, "127.0.0.1")).toEqual(expected);
  });

  test("a code with a word not on the list is an error sentence", () => {
    expect(parsePeerAddress("40123-ribbon-notaword", "127.0.0.1")).toContain("not a valid code");
  });

  test.each([
    ["127.0.0.1", true],
    ["127.5.6.7", true],
    ["localhost", true],
    ["::1", true],
    ["0.0.0.0", false],
    ["192.0.2.5", false],
    ["::", false],
  ])("isLoopbackHost(%p) is %p", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
