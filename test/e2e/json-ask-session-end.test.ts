/**
 * `receive --json --ask`, the events on stdout and the questions on stderr (two pipes), the
 * peer leaving while its offer is asked about: the question's line ends when the session does,
 * with the bye event, and what was held for it is written then (json-ask's unit case: a note
 * held for it). Before, the line (and what it held) waited for the asker's close after the run:
 * "(input ended)" was said of a standard input that never ended, after the bye (review31).
 * The one-shot listener stops listening once met, so no stranger's line comes mid-question here.
 */

import { afterEach, expect, test } from "bun:test";
import { encodeMessage } from "../../src/protocol/index.ts";
import { rawParley } from "../raw-parley.ts";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);

test('the peer leaves while its offer is asked about: the question\'s line ends with the session, no "(input ended)"', async () => {
  const cli = startCli("receiver", ["receive", "--json", "--ask", "--dir", makeTempDir(), "--no-progress"]);
  const { line } = await cli.waitForLine(/"type":"listening"/);
  const { port, code } = JSON.parse(line) as { port: number; code: string };
  const raw = await rawParley(port, { leader: true, words: code.replace(/^\d+-/, "") });
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "a.bin", size: 3, algo: "xxh3" }));
  await cli.waitForStderr(/Accept a\.bin \(3 bytes\)\? \[y\/N\] $/);
  raw.send(encodeMessage({ kind: "bye", reason: "done" }));
  await cli.exitCode();
  raw.socket.destroy();
  // Stdin is still open: nothing ended it.
  expect(cli.stderr, cli.describe()).toBe("Accept a.bin (3 bytes)? [y/N] \n");
  expect(cli.linesMatching(/"type":"bye"/)).toHaveLength(1);
}, 30_000);
