/** Received file names: sanitizeFileName (a peer's offered name is untrusted) and numberedName. */

import { describe, expect, test } from "bun:test";
import {
  MAX_SAFE_NAME_BYTES,
  numberedName,
  sanitizeFileName,
  sanitizeFolderName,
} from "../../src/transfer/file-names.ts";

const utf8 = new TextEncoder();
const utf8Bytes = (text: string) => utf8.encode(text).length;

describe("sanitizeFileName", () => {
  test.each([
    ["report.pdf", "report.pdf"],
    ["../../etc/passwd", "passwd"],
    ["/etc/passwd", "passwd"],
    ["a/b\\c.txt", "c.txt"],
    ["..\\..\\windows\\system32\\cmd.exe", "cmd.exe"],
    ["dir/", "received-file"],
    ["..", "received-file"],
    [".", "received-file"],
    ["...", "received-file"],
    ["", "received-file"],
    ["/", "received-file"],
    ["\\", "received-file"],
    ["a/..", "received-file"],
    ["  ..  ", "received-file"],
    ["\u0000..\u0000", "received-file"], // control characters go first, then ".." is caught
    ["\u0000\u0001\u001f", "received-file"],
    ["a\u0000b.txt", "ab.txt"],
    ["evil\u001b[31m.txt", "evil[31m.txt"],
    ["line\nbreak\r.txt", "linebreak.txt"],
    ["tab\there.txt", "tabhere.txt"],
    ["del\u007f.txt", "del.txt"],
    ["c1\u0085\u009b.txt", "c1.txt"],
    [".bashrc", "_bashrc"], // a received name never makes a hidden file
    [".bash_profile", "_bash_profile"],
    ["..hidden", "__hidden"],
    ["  .ssh", "_ssh"],
    ["a/.config", "_config"],
    ["zero\u200bwidth\ufeff.txt", "zerowidth.txt"],
    ["line\u2028sep\u2029.txt", "linesep.txt"],
    ["arabic\u061cmark.txt", "arabicmark.txt"],
    ["\ufeff.profile", "_profile"], // invisible characters go first: the dot then leads
    ["  spaced name.txt  ", "spaced name.txt"],
    // Names npm and Bun act on in the folder they run in (attack32): a _ before them.
    ["package.json", "_package.json"],
    ["Package.JSON", "_Package.JSON"],
    [".package.json", "_package.json"],
    ["node_modules", "_node_modules"],
    ["a/node_modules", "_node_modules"],
    ["bunfig.toml", "_bunfig.toml"],
    ["npm-shrinkwrap.json", "_npm-shrinkwrap.json"],
    ["bun.lock", "_bun.lock"],
    ["bun.lockb", "_bun.lockb"],
    ["tsconfig.json", "_tsconfig.json"],
    ["jsconfig.json", "_jsconfig.json"],
    ["package.json.txt", "package.json.txt"],
    ["package.json.", "_package.json."], // vfat and exFAT on Linux store it as package.json
    ["bunfig.toml. .", "_bunfig.toml. ."],
    ["my package.json", "my package.json"],
    ["日本語 ファイル.txt", "日本語 ファイル.txt"],
    ["emoji 😀.png", "emoji 😀.png"],
  ])("%p -> %p", (offered, safe) => {
    expect(sanitizeFileName(offered)).toBe(safe);
  });

  test.each([
    ["300 ASCII bytes", "a".repeat(300), "a".repeat(MAX_SAFE_NAME_BYTES)],
    ["150 two-byte chars (300 bytes)", "é".repeat(150), "é".repeat(MAX_SAFE_NAME_BYTES / 2)],
    ["1 + 150 two-byte chars (301 bytes): never half a char", `a${"é".repeat(150)}`, `a${"é".repeat(119)}`],
    ["100 three-byte chars (300 bytes)", "語".repeat(100), "語".repeat(80)],
    ["2 + 100 three-byte chars (302 bytes)", `ab${"語".repeat(100)}`, `ab${"語".repeat(79)}`],
    ["75 four-byte emoji (300 bytes)", "😀".repeat(75), "😀".repeat(60)],
    ["1 + 75 four-byte emoji (301 bytes): never half a surrogate pair", `a${"😀".repeat(75)}`, `a${"😀".repeat(59)}`],
  ])("a name of %s is cut to at most MAX_SAFE_NAME_BYTES on a character boundary", (_what, offered, expected) => {
    expect(utf8Bytes(offered)).toBeGreaterThan(MAX_SAFE_NAME_BYTES);
    const safe = sanitizeFileName(offered);
    expect(safe).toBe(expected);
    expect(utf8Bytes(safe)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
    // No lone surrogate or broken sequence: decoding the UTF-8 gives the same string back.
    expect(new TextDecoder().decode(utf8.encode(safe))).toBe(safe);
    expect(offered.startsWith(safe)).toBe(true);
  });

  test.each([
    ["a 254-byte name", `${"é".repeat(125)}.txt`, `${"é".repeat(118)}.txt`],
    ["a 300-byte ASCII name", `${"a".repeat(296)}.pdf`, `${"a".repeat(236)}.pdf`],
    ["a long name with two dots", `${"b".repeat(300)}.tar.gz`, `${"b".repeat(237)}.gz`],
  ])("%s cut to MAX_SAFE_NAME_BYTES keeps its extension", (_what, offered, expected) => {
    const safe = sanitizeFileName(offered);
    expect(safe).toBe(expected);
    expect(utf8Bytes(safe)).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
  });

  test("an extension too long to be one is cut with the rest", () => {
    const offered = `name.${"x".repeat(300)}`;
    expect(sanitizeFileName(offered)).toBe(offered.slice(0, MAX_SAFE_NAME_BYTES));
  });

  test("a name of exactly MAX_SAFE_NAME_BYTES is kept whole", () => {
    const name = `${"é".repeat((MAX_SAFE_NAME_BYTES - 4) / 2)}.txt`;
    expect(utf8Bytes(name)).toBe(MAX_SAFE_NAME_BYTES);
    expect(sanitizeFileName(name)).toBe(name);
  });

  test("never returns a separator, a control character, '.', '..' or an empty name (seeded fuzz)", () => {
    const alphabet = [
      "/",
      "\\",
      ".",
      "..",
      " ",
      "a",
      "é",
      "😀",
      "\u0000",
      "\u001b",
      "\n",
      "\u007f",
      "\u0085",
      "x.y",
      "\u2028",
      "\u200b",
      "\ufeff",
      "\u061c",
    ];
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    const unsafe = /^\.|[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b\ufeff\u061c]/;
    for (let run = 0; run < 3000; run++) {
      let offered = "";
      const parts = next() % 12;
      for (let i = 0; i < parts; i++) offered += alphabet[next() % alphabet.length];
      const safe = sanitizeFileName(offered);
      const why = `offered ${JSON.stringify(offered)} -> ${JSON.stringify(safe)}`;
      expect(safe.length, why).toBeGreaterThan(0);
      expect(unsafe.test(safe), why).toBe(false);
      expect(safe === "." || safe === "..", why).toBe(false);
      expect(utf8Bytes(safe), why).toBeLessThanOrEqual(MAX_SAFE_NAME_BYTES);
    }
  });
});

describe("numberedName", () => {
  test.each([
    ["a.txt", 0, "a.txt"],
    ["a.txt", 1, "a (1).txt"],
    ["a.txt", 12, "a (12).txt"],
    ["archive.tar.gz", 2, "archive.tar (2).gz"],
    [".bashrc", 1, ".bashrc (1)"],
    [".bashrc", 0, ".bashrc"],
    ["noext", 3, "noext (3)"],
    ["trailing.", 1, "trailing (1)."],
    ["日本語.txt", 1, "日本語 (1).txt"],
  ])("numberedName(%p, %p) is %p", (name, n, expected) => {
    expect(numberedName(name, n)).toBe(expected);
  });

  test("every n gives a different name", () => {
    const names = new Set(Array.from({ length: 100 }, (_, n) => numberedName("a.txt", n)));
    expect(names.size).toBe(100);
  });
});

test("bidi controls are removed so a name cannot disguise its extension", () => {
  expect(sanitizeFileName("invoice\u202efdp.exe")).toBe("invoicefdp.exe");
  expect(sanitizeFileName("a\u2066b\u2069c\u200e.txt")).toBe("abc.txt");
});

test("sanitizeFolderName: a received folder's own name is sanitizeFileName's, and bin is _bin (attack32)", () => {
  expect(sanitizeFolderName("bin")).toBe("_bin");
  expect(sanitizeFolderName("BIN")).toBe("_BIN");
  expect(sanitizeFolderName(".bin")).toBe("_bin");
  expect(sanitizeFolderName("a/bin")).toBe("_bin");
  expect(sanitizeFolderName("node_modules")).toBe("_node_modules");
  expect(sanitizeFolderName("photos")).toBe("photos");
  expect(sanitizeFolderName("bins")).toBe("bins");
  expect(sanitizeFolderName("bin..")).toBe("_bin..");
  expect(sanitizeFileName("bin")).toBe("bin"); // inside a folder, and a file
});
