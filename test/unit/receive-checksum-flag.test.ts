/**
 * `parley receive --checksum`: a receiver sends nothing, and checks whatever digest the sender's
 * offer names, so the flag chose nothing. Its help listed it ("digest for files you send"), and
 * `receive --checksum sha256` ran without a word, as if the files would be checked with SHA-256.
 * Now the help leaves it out and the flag gets one note (the run goes on: scripts that pass it
 * to both sides keep working).
 */

import { expect, test } from "bun:test";
import { parseReceiveArgs, receiveHelp } from "../../src/cli/command-args.ts";

test("receive --checksum: one note saying the sender chooses the digest, and the run goes on", () => {
  const notes: string[] = [];
  const args = parseReceiveArgs(["--checksum", "sha256", "--dir", "/tmp"], {}, "/", (line) => notes.push(line));
  expect(args.kind).toBe("run");
  expect(notes).toEqual([
    "Note: --checksum is the sender's choice (parley send --checksum sha256): a receiver checks the digest the sender names, so it is ignored here.",
  ]);
  const quiet: string[] = [];
  parseReceiveArgs(["--dir", "/tmp"], {}, "/", (line) => quiet.push(line));
  expect(quiet).toEqual([]);
});

test("receive --help does not offer --checksum", () => {
  expect(receiveHelp()).not.toContain("--checksum");
  expect(receiveHelp()).toContain("--dir DIR");
});
