/** Connection codes: words, normalising, how a listener shows its code, how a peer parses it. */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { codeWordsOf, connectionCode, isLoopbackHost, peerCodeFromEnvironment } from "../../src/cli/codes.ts";
import { parseReceiveArgs, parseSendArgs } from "../../src/cli/command-args.ts";
import { UsageError } from "../../src/cli/flags.ts";
import { parsePeerAddress } from "../../src/cli/input.ts";
import codeWordList from "../../src/crypto/bip39-english.json" with { type: "json" };
import { isCodeWords, normalizeCodeWords, randomCodeWords } from "../../src/crypto/codes.ts";
import { thrownBy } from "./helpers.ts";

describe("code words", () => {
  test("the code's word list is @scure/bip39's English list, word for word", () => {
    expect(codeWordList).toEqual([...wordlist]);
    expect(codeWordList.length).toBe(2048);
  });

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
    // Read out or typed with spaces, as a mailbox code may be ("7 crossover clockwork").
    ["40123 Ribbon Walnut", "ribbon-walnut"],
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
    // Spaces between all the parts, the port's too, as a mailbox code is read ("7 crossover clockwork"):
    // "40123 ribbon walnut" was 'not a code, a port or host:port' (newuser24).
    ["40123 ribbon walnut", { host: "127.0.0.1", port: 40123, words: "ribbon-walnut" }],
    ["192.0.2.5:40123 Ribbon  Walnut", { host: "192.0.2.5", port: 40123, words: "ribbon-walnut" }],
    ["40123 - ribbon - walnut", { host: "127.0.0.1", port: 40123, words: "ribbon-walnut" }],
  ])("every shown code parses back: %p", (text, expected) => {
    expect(parsePeerAddress(text, "127.0.0.1")).toEqual(expected);
  });

  test("a transfer command where a code is wanted (the chat's code prompt) says there is no peer yet", () => {
    // Before: '"transfer a.txt" is not a code, a port or host:port'.
    // "transfer 2 ab" would read as a port and words now that a space may follow the port.
    for (const text of ["transfer a.txt", "/transfer a.txt b.bin", "transfer", "transfer 2 ab"]) {
      expect(parsePeerAddress(text, "127.0.0.1")).toBe(
        'not connected yet: "transfer" works once the peer is connected',
      );
    }
    expect(parsePeerAddress("transfers-ribbon-walnut", "127.0.0.1")).toContain("is not a code");
  });

  test("a code with a word not on the list is an error sentence", () => {
    expect(parsePeerAddress("40123-ribbon-notaword", "127.0.0.1")).toContain("not a valid code");
    expect(parsePeerAddress("40123-ribbon-notaword", "127.0.0.1")).not.toContain("mailbox");
  });

  test.each([
    ["46017-parrot-hotl", '"hotl" is not one of the words codes are made of (did you mean "hotel"?)'],
    ["46017-parrot-hotle", '"hotle" is not one of the words codes are made of (did you mean "hole" or "hotel"?)'],
    ["46017-parot-hotel", '"parot" is not one of the words codes are made of (did you mean "parrot"?)'],
    ["46017 Parrot Hotell", '"hotell" is not one of the words codes are made of (did you mean "hotel"?)'],
    ["46017-parrot-qqqqqq", '"qqqqqq" is not one of the words codes are made of'],
    ["46017-parrot", "a code has 2 words after its port, not 1"],
    ["46017-parrot-hotel-ribbon", "a code has 2 words after its port, not 3"],
  ])("a mistyped code says which word, and the one a typo away: %p", (typed, why) => {
    // It said only '"46017-parrot-hotl" is not a valid code (port-word-word, ...)': the code looked right.
    expect(parsePeerAddress(typed, "127.0.0.1")).toBe(`"${typed}" is not a valid code: ${why}`);
  });

  test.each(["7-crossover-clockwork", "40123-dinosaur-tracker", "3-inertia-fallout", "3 inertia fallout"])(
    "a mailbox code given without a mailbox says which flags it needs: %p",
    (text) => {
      expect(parsePeerAddress(text, "127.0.0.1")).toEndWith(
        "; a mailbox code like this one needs the peer's mailbox: --relay, or --relay-url URL",
      );
    },
  );

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

describe("a code given out of argv (PARLEY_CODE, --code-file)", () => {
  const saved = process.env.PARLEY_CODE;
  const dirs: string[] = [];
  afterEach(() => {
    if (saved === undefined) delete process.env.PARLEY_CODE;
    else process.env.PARLEY_CODE = saved;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const codeFile = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), "parley-code-"));
    dirs.push(dir);
    writeFileSync(join(dir, "code"), text);
    return join(dir, "code");
  };

  test("a valid code is returned, trimmed", () => {
    process.env.PARLEY_CODE = " 40123-ribbon-walnut\n";
    expect(peerCodeFromEnvironment(undefined)).toBe("40123-ribbon-walnut");
    expect(peerCodeFromEnvironment(codeFile("40123-ribbon-walnut\n"))).toBe("40123-ribbon-walnut");
  });

  test("unset or empty PARLEY_CODE: no code", () => {
    delete process.env.PARLEY_CODE;
    expect(peerCodeFromEnvironment(undefined)).toBeUndefined();
    process.env.PARLEY_CODE = "  ";
    expect(peerCodeFromEnvironment(undefined)).toBeUndefined();
  });

  test.each(["40123-foo-bar", "garbage", "40123"])("%p is refused, never taken as port-only mode", (bad) => {
    process.env.PARLEY_CODE = bad;
    expect(() => peerCodeFromEnvironment(undefined)).toThrow(UsageError);
    expect(() => peerCodeFromEnvironment(codeFile(bad))).toThrow(UsageError);
  });

  test("send and receive read the code only when they dial: a stale PARLEY_CODE does not stop a listener", () => {
    process.env.PARLEY_CODE = "garbage";
    expect(parseSendArgs(["a.txt"]).kind).toBe("run");
    expect(parseReceiveArgs(["--dir", "."]).kind).toBe("run");
    expect(() => parseSendArgs(["a.txt", "--to", "40123"])).toThrow(UsageError);
    expect(() => parseReceiveArgs(["127.0.0.1:40123"])).toThrow(UsageError);
  });

  test("a PARLEY_CODE a listener does not read is said in a note, and the listener starts", () => {
    // `PARLEY_CODE=40123-ribbon-walnut parley send big.iso` (no --to) listened with a code of its
    // own without a word, the peer waiting to be dialed; a --code-file there is refused.
    const env = { PARLEY_CODE: "40123-ribbon-walnut" };
    const notes: string[] = [];
    const note = (line: string) => notes.push(line);
    expect(parseSendArgs(["a.txt"], env, note).kind).toBe("run");
    expect(parseReceiveArgs(["--dir", "."], env, ".", note).kind).toBe("run");
    expect(notes).toEqual([
      "Note: PARLEY_CODE is set but not read: it is read to dial the peer, given the code's port (--to 40123); without it, send listens and shows a code of its own.",
      "Note: PARLEY_CODE is set but not read: it is read to dial the peer, given the code's port (parley receive 40123); without it, receive listens and shows a code of its own.",
    ]);
    // Read (dialing, or joined in a mailbox), or not set: no note.
    notes.length = 0;
    parseSendArgs(["a.txt", "--to", "40123"], env, note);
    parseReceiveArgs(["40123"], env, ".", note);
    parseReceiveArgs(["--relay-url", "ws://127.0.0.1:9/v1"], { PARLEY_CODE: "7-crossover-clockwork" }, ".", note);
    parseSendArgs(["a.txt"], { PARLEY_CODE: " " }, note);
    expect(notes).toEqual([]);
    // The port named is the code's own.
    parseSendArgs(["a.txt"], { PARLEY_CODE: "127.0.0.1:45554-ribbon-walnut" }, note);
    expect(notes[0]).toContain("given the code's port (--to 45554);");
    notes.length = 0;
    parseReceiveArgs([], {}, ".", note);
    expect(notes).toEqual([]);
  });

  const SEND_LISTENS = "send listens and shows a code of its own";
  const RECEIVE_LISTENS = "receive listens and shows a code of its own";
  test.each([
    ["45554-ribbon-walnut", "--to 45554", "parley receive 45554"],
    ["127.0.0.1:45554-ribbon-walnut", "--to 45554", "parley receive 45554"],
    // Words alone go with any port: the example's.
    ["ribbon-walnut", "--to 40123", "parley receive 40123"],
  ])("a listener's note for PARLEY_CODE=%p names the code's port in each command's form", (code, send, receive) => {
    const notes: string[] = [];
    const note = (line: string) => notes.push(line);
    parseSendArgs(["a.txt"], { PARLEY_CODE: code }, note);
    parseReceiveArgs([], { PARLEY_CODE: code }, ".", note);
    const line = (given: string, otherwise: string) =>
      `Note: PARLEY_CODE is set but not read: it is read to dial the peer, given the code's port (${given}); without it, ${otherwise}.`;
    expect(notes).toEqual([line(send, SEND_LISTENS), line(receive, RECEIVE_LISTENS)]);
  });

  test("a listener's note for a mailbox code in PARLEY_CODE names --relay, not its nameplate as a port", () => {
    // "7-crossover-clockwork" was said as "(--to 7)": the nameplate read as a port.
    const notes: string[] = [];
    const note = (line: string) => notes.push(line);
    parseSendArgs(["a.txt"], { PARLEY_CODE: "7-crossover-clockwork" }, note);
    parseReceiveArgs([], { PARLEY_CODE: " 7-crossover-clockwork\n" }, ".", note);
    const line = (otherwise: string) =>
      `Note: PARLEY_CODE is set but not read: it holds a mailbox code, read with --relay (or --relay-url URL); without it, ${otherwise}.`;
    expect(notes).toEqual([line(SEND_LISTENS), line(RECEIVE_LISTENS)]);
  });

  test("a listener's code whose two words are magic-wormhole's too is not said to be a mailbox code", () => {
    // "antenna" and "absurd" are on both lists (BIP-39's and the PGP words): about 1 listener's
    // code in 6,000 is such a pair, and its note told the user to use --relay.
    const notes: string[] = [];
    parseSendArgs(["a.txt"], { PARLEY_CODE: "40123-antenna-absurd" }, (line) => notes.push(line));
    expect(notes).toEqual([
      `Note: PARLEY_CODE is set but not read: it is read to dial the peer, given the code's port (--to 40123); without it, ${SEND_LISTENS}.`,
    ]);
  });

  test("a listener's --code-file is refused with each command's form of the port (the file is not read)", () => {
    const unread = "/nonexistent/code";
    const line = (given: string, otherwise: string) =>
      `--code-file is read to dial the peer: give the code's port too (${given}); without it, ${otherwise}`;
    const sendErr = thrownBy(() => parseSendArgs(["a.txt", "--code-file", unread], {}));
    expect(sendErr).toBeInstanceOf(UsageError);
    expect((sendErr as UsageError).message).toBe(line("--to 40123", SEND_LISTENS));
    const receiveErr = thrownBy(() => parseReceiveArgs(["--code-file", unread], {}));
    expect(receiveErr).toBeInstanceOf(UsageError);
    expect((receiveErr as UsageError).message).toBe(line("parley receive 40123 --code-file F", RECEIVE_LISTENS));
  });

  test("an empty or unreadable code file is refused", () => {
    expect(() => peerCodeFromEnvironment(codeFile(""))).toThrow(UsageError);
    expect(() => peerCodeFromEnvironment("/nonexistent/code")).toThrow(UsageError);
  });

  test("an unreadable code file is said in words, without Node's error code and call", () => {
    expect(() => peerCodeFromEnvironment("/nonexistent/code")).toThrow(
      /^cannot read --code-file \/nonexistent\/code: no such file or directory$/,
    );
    expect(() => peerCodeFromEnvironment(tmpdir())).toThrow(/^cannot read --code-file \S+: is a directory$/);
  });
});
