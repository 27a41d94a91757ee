/** `parley send --text TEXT`: one message instead of paths, never with them, never empty. */

import { expect, test } from "bun:test";
import { parseSendArgs } from "../../src/cli/command-args.ts";
import { UsageError } from "../../src/cli/flags.ts";

test("--text alone runs with the text and no paths", () => {
  const args = parseSendArgs(["--text", "build 1234 is green"], {});
  expect(args.kind).toBe("run");
  if (args.kind !== "run") return;
  expect(args.options.text).toBe("build 1234 is green");
  expect(args.options.paths).toEqual([]);
});

test("--text with paths, or an empty --text, is a usage error; no paths and no --text still is", () => {
  expect(() => parseSendArgs(["--text", "hi", "a.txt"], {})).toThrow(/instead of paths/);
  expect(() => parseSendArgs(["--text", ""], {})).toThrow(/needs a message/);
  expect(() => parseSendArgs([], {})).toThrow(UsageError);
  expect(parseSendArgs(["a.txt"], {})).toMatchObject({ kind: "run", options: { paths: ["a.txt"] } });
  const plain = parseSendArgs(["a.txt"], {});
  expect(plain.kind === "run" && "text" in plain.options).toBe(false);
});

test("--name names standard input only: with no `-` among the paths (or with --text) it is a usage error, not ignored", () => {
  // Before, `parley send report.pdf --name final.pdf` sent report.pdf under its own name, without a word.
  expect(() => parseSendArgs(["report.pdf", "--name", "final.pdf"], {})).toThrow(
    "--name is the name standard input (-) is saved under; a file or folder is sent under its own name (link or copy it to another name first)",
  );
  expect(() => parseSendArgs(["--text", "hi", "--name", "x"], {})).toThrow(/--name is the name standard input/);
  expect(parseSendArgs(["-", "a.txt", "--name", "s.bin"], {})).toMatchObject({
    kind: "run",
    options: { paths: ["-", "a.txt"], streamName: "s.bin" },
  });
});
