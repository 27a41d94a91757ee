/**
 * The one way a text message is written as output (`receive --stdout`), from a Parley peer and
 * from a plain wormhole client alike: the text, one newline after it (never a second).
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { textLine } from "../../src/cli/text-line.ts";

test.each([
  ["build 1234 is green", "build 1234 is green\n"],
  ["ends with one\n", "ends with one\n"],
  ["two lines\nand a last", "two lines\nand a last\n"],
  ["blank line kept\n\n", "blank line kept\n\n"],
  ["", "\n"],
])("%j is written as %j", (text, written) => {
  expect(textLine(text)).toBe(written);
});

test("both writers use it: no copy of the expression is left in the CLI", () => {
  const src = join(import.meta.dir, "../../src/cli");
  for (const file of ["receive-command.ts", "mailbox-command.ts"]) {
    const text = readFileSync(join(src, file), "utf8");
    expect(text, file).toContain("textLine(text)");
    expect(text, file).not.toContain('endsWith("\\n")');
  }
});
