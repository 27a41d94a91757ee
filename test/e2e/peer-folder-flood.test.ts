/**
 * A crafted Parley sender (rawParley: it knows the code) offering folder after folder into
 * `parley receive --ask`, nobody answering (attack31). Folders it ends (cancelled whole) are let
 * go; folders it leaves open (an entry offered and cancelled alone, the rest never) end the
 * session past MAX_OPEN_PEER_FOLDERS, said as the peer's protocol error.
 */

import { afterEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { encodeMessage } from "../../src/protocol/index.ts";
import { MAX_OPEN_PEER_FOLDERS } from "../../src/session/limits.ts";
import { messagesOf, rawParley, until } from "../raw-parley.ts";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);

/** `parley receive --ask` (stdin open, nobody answering) and a raw sender connected to it. */
async function askingReceiver() {
  const dir = makeTempDir();
  const cli = startCli("receiver", ["receive", "--ask", "--dir", dir, "--no-progress"]);
  const { match } = await cli.waitForLine(/· code (\d+)-([a-z]+-[a-z]+)$/);
  const raw = await rawParley(Number(match[1]), { leader: true, words: match[2] as string });
  return { cli, dir, raw };
}

/** OFFER of folder `group`'s first entry (of 2), then its CANCEL: `whole` cancels the folder with it. */
function offerAndCancel(group: number, whole: boolean): Buffer {
  const folder = { group, root: "flood", path: ["a.bin"], entries: 2, bytes: 20 };
  return Buffer.concat([
    encodeMessage({ kind: "offer", id: group, name: "a.bin", size: 10, algo: "xxh3", folder }),
    encodeMessage({ kind: "cancel", id: group, code: "E_CANCELLED", ...(whole ? { detail: "folder" } : {}) }),
  ]);
}

test("folders left open past MAX_OPEN_PEER_FOLDERS end the session: the peer broke the protocol", async () => {
  // Before: each was remembered to the session's end (up to 100,000 folders, with an answer each).
  const { cli, dir, raw } = await askingReceiver();
  const frames: Buffer[] = [];
  for (let i = 0; i <= MAX_OPEN_PEER_FOLDERS; i++) frames.push(offerAndCancel(2 * i + 1, false));
  raw.send(Buffer.concat(frames));
  expect(await cli.exitCode()).toBe(3);
  expect(cli.linesMatching(/^Error: /)).toEqual([
    `Error: the peer broke the protocol (more than ${MAX_OPEN_PEER_FOLDERS} folders open at once).`,
  ]);
  raw.socket.destroy();
  expect(readdirSync(dir)).toEqual([]);
}, 30_000);

test("folders cancelled whole, many more than MAX_OPEN_PEER_FOLDERS: the session goes on, a file after them is asked about", async () => {
  const { cli, raw } = await askingReceiver();
  const frames: Buffer[] = [];
  const count = 3 * MAX_OPEN_PEER_FOLDERS;
  for (let i = 0; i < count; i++) frames.push(offerAndCancel(2 * i + 1, true));
  raw.send(Buffer.concat(frames));
  await until(
    "every folder's cancel",
    () => (cli.linesMatching(/^Folder flood: /).length === count ? true : undefined),
    4_000,
    () => cli.describe(),
  );
  raw.send(encodeMessage({ kind: "offer", id: 2 * count + 1, name: "after.bin", size: 3, algo: "xxh3" }));
  // The first folder's question, if it came to the screen before its cancel, is answered; the
  // others were let go, cancelled before their turn.
  if (cli.stderr.includes("Accept folder")) cli.send("n");
  await cli.waitForStderr(/Accept after\.bin \(3 bytes\)\? \[y\/N\] $/);
  cli.send("n");
  await until(
    "REJECT",
    () => messagesOf(raw).find((m) => m.kind === "reject" && m.id === 2 * count + 1),
    400,
    () => cli.describe(),
  );
  raw.send(encodeMessage({ kind: "bye", reason: "done" }));
  await cli.exitCode();
  raw.socket.destroy();
  expect(cli.linesMatching(/^Error: /)).toEqual([]);
}, 30_000);
