/** sanitizeForTerminal: peer text never reaches the terminal as a control or escape sequence. */

import { describe, expect, test } from "bun:test";
import { peerTextLines, sanitizeForTerminal } from "../../src/ui/sanitize.ts";

/** Characters a terminal may act on: C0 but TAB, DEL, C1, line/paragraph separators, bidi controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const DANGEROUS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("sanitizeForTerminal", () => {
  test.each([
    ["SGR colour", "\x1b[31mred\x1b[0m", "^[[31mred^[[0m"],
    ["OSC window title ended by BEL", "\x1b]0;title\x07", "^[]0;title^G"],
    [
      "OSC 8 hyperlink ended by ST",
      "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
      "^[]8;;http://evil^[\\link^[]8;;^[\\",
    ],
    ["cursor movement and clear screen", "\x1b[2J\x1b[H", "^[[2J^[[H"],
    ["C1 CSI", "\u009b31m", "\\u009b31m"],
    ["C1 NEL", "a\u0085b", "a\\u0085b"],
    ["NUL", "a\u0000b", "a^@b"],
    ["BEL", "\x07", "^G"],
    ["backspace", "abc\b\b\bxyz", "abc^H^H^Hxyz"],
    ["carriage return", "safe\roverwritten", "safe^Moverwritten"],
    ["line feed", "one\ntwo", "one^Jtwo"],
    ["DEL", "a\u007fb", "a^?b"],
    ["bidi override RLO", "abc\u202etxt.exe", "abc\\u202etxt.exe"],
    ["bidi isolate LRI..PDI", "\u2066x\u2069", "\\u2066x\\u2069"],
    ["line separator", "a\u2028b", "a\\u2028b"],
  ])("%s is made visible", (_what, text, expected) => {
    const out = sanitizeForTerminal(text);
    expect(out).toBe(expected);
    expect(DANGEROUS.test(out)).toBe(false);
  });

  test.each([
    ["plain ASCII", "hello, world!"],
    ["tabs", "a\tb\t\tc"],
    ["unicode text", "héllo wörld ☃ 日本語 😀👍🏽 Ελληνικά العربية"],
    ["empty", ""],
    ["caret and backslash already in text", "^[ and \\u001b are just text"],
  ])("%s is unchanged", (_what, text) => {
    expect(sanitizeForTerminal(text)).toBe(text);
  });

  test("no output contains ESC, BEL or any other dangerous character, for every code point below U+3000", () => {
    for (let code = 0; code < 0x3000; code++) {
      const ch = String.fromCharCode(code);
      const out = sanitizeForTerminal(`x${ch}y`);
      const why = `U+${code.toString(16).padStart(4, "0")} -> ${JSON.stringify(out)}`;
      expect(DANGEROUS.test(out), why).toBe(false);
      if (!DANGEROUS.test(ch)) expect(out, why).toBe(`x${ch}y`);
    }
  });
});

describe("peerTextLines", () => {
  test.each([
    ["one line", "hello", ["hello"]],
    ["lines at \\n and \\r\\n, an empty one kept", "a\nb\r\n\nd", ["a", "b", "", "d"]],
    ["one final newline dropped", "a\nb\n", ["a", "b"]],
    ["each line made safe", "a\x1b[2J\rb\n\u202ex", ["a^[[2J^Mb", "\\u202ex"]],
    ["empty", "", [""]],
    ["a run of blank lines counted on one line", "a\n\n\n \n\t\nb\n\nc", ["a", "(4 blank lines)", "b", "", "c"]],
    // Two stay blank (common layout in pasted text; "(2 blank lines)" was a line of words there), three are counted.
    [
      "two blank lines kept as they are, three counted",
      "a\n\n \nb\n\n\n\nc",
      ["a", "", " ", "b", "(3 blank lines)", "c"],
    ],
    ["a text of newlines only", "\n".repeat(100_000), ["(100000 blank lines)"]],
  ])("%s", (_what, text, expected) => {
    expect(peerTextLines(text)).toEqual(expected);
  });

  test("past max characters: the rest counted on the last line shown", () => {
    expect(peerTextLines("ab\ncdef", 4)).toEqual(["ab", "c … (3 more characters not shown)"]);
  });
});
