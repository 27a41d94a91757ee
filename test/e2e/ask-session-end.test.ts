/**
 * `receive --ask` (human lines or --json events on stdout, the questions on stderr: two pipes),
 * the peer leaving while its offer is asked about: the question's line ends when the session
 * does, and what was held for it is written then (json-ask's unit case: a note held for it,
 * before the bye). Before, the line (and what it held) waited for the asker's close after the
 * run: "(input ended)" was said of a standard input that never ended (review31). The one-shot
 * listener stops listening once met, so no stranger's line comes mid-question here.
 */

import { afterEach, expect, test } from "bun:test";
import { encodeMessage } from "../../src/protocol/index.ts";
import { rawParley } from "../raw-parley.ts";
import { cleanup, listeningCode, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);

/** The real CLI, once its raw peer offered a.bin and then left (BYE) while nobody answered. */
async function peerLeavesMidQuestion(json: boolean) {
  const args = ["receive", "--ask", "--dir", makeTempDir(), "--no-progress", ...(json ? ["--json"] : [])];
  const cli = startCli("receiver", args);
  const { port, words } = await listeningCode(cli, json);
  const raw = await rawParley(port, { leader: true, words });
  raw.send(encodeMessage({ kind: "offer", id: 1, name: "a.bin", size: 3, algo: "xxh3" }));
  await cli.waitForStderr(/Accept a\.bin \(3 bytes\)\? \[y\/N\] $/);
  raw.send(encodeMessage({ kind: "bye", reason: "done" }));
  await cli.exitCode();
  raw.socket.destroy();
  return cli;
}

test("--json: the question's line ends with the session, no '(input ended)' of an input still open", async () => {
  const cli = await peerLeavesMidQuestion(true);
  expect(cli.stderr, cli.describe()).toBe("Accept a.bin (3 bytes)? [y/N] \n");
  expect(cli.linesMatching(/"type":"bye"/)).toHaveLength(1);
}, 30_000);

test("the human lines: the same", async () => {
  const cli = await peerLeavesMidQuestion(false);
  expect(cli.stderr, cli.describe()).toBe("Accept a.bin (3 bytes)? [y/N] \n");
  expect(cli.linesMatching(/^Receiving #1 a\.bin failed/), cli.describe()).toHaveLength(1);
}, 30_000);
