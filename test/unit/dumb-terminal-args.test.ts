/** TERM=dumb (an editor's shell buffer, which runs no escape codes): send and receive draw no bars. */

import { expect, test } from "bun:test";
import { parseReceiveArgs, parseSendArgs } from "../../src/cli/command-args.ts";

test.each([
  ["xterm-256color", true],
  ["dumb", false],
])("TERM=%s: send and receive progress bars %p", (term, bars) => {
  expect(parseSendArgs(["a.txt"], { TERM: term })).toMatchObject({ kind: "run", options: { progress: bars } });
  expect(parseReceiveArgs([], { TERM: term }, "/")).toMatchObject({ kind: "run", options: { progress: bars } });
});
