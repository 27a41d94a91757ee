/**
 * FOLDER_END with real processes on 127.0.0.1 (session 14). A chat's `cancel` on a folder's entry
 * when every entry still open had been sent whole: the chat says the folder was cancelled, tells a
 * receiver that reads FOLDER_END the folder's end, and takes the receiver's answers for what it had
 * sent whole; to an older receiver it cancels as before. A `parley receive` told FOLDER_END says
 * the folder was cancelled by its sender in the words it uses when a cancel reaches an entry, and
 * does not call it incomplete at the end. The peer on the other side is a hand-made raw client.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  encodeDataHeader,
  encodeFrame,
  encodeMessage,
  Feature,
  FrameType,
  OWN_FEATURES,
} from "../../src/protocol/index.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { acceptOffers, messagesOf, until as pollUntil, rawParley } from "../raw-parley.ts";
import { type Cli, cleanup, listeningCode, makeTempDir, startCli, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 60_000;
const ENTRIES = 20; // 16 offers in flight: 4 wait their turn

/** A poll of 10 s; on failure the CLI's output is in the error. */
const until = <T>(what: string, get: () => T | undefined, cli: Cli) => pollUntil(what, get, 2000, () => cli.describe());

/** A chat sends photos/ (ENTRIES small files) to a raw receiver that accepts each and answers none until told. */
async function chatCancelsAllSentWhole(features: readonly string[]) {
  const alice = await startPeer("alice");
  const raw = await rawParley(alice.port, { leader: true, words: alice.code.replace(/^\d+-/, ""), features });
  await alice.cli.waitForLine(/^Connected to/);
  const photos = join(makeTempDir(), "photos");
  mkdirSync(photos);
  for (let i = 0; i < ENTRIES; i++) writeFileSync(join(photos, `f${String(i).padStart(2, "0")}.txt`), `entry ${i}\n`);
  alice.cli.send(`transfer ${photos}`);
  const accepted = new Set<number>();
  const ends = await until(
    "16 entries sent whole",
    () => {
      acceptOffers(raw, accepted);
      const ends = messagesOf(raw).flatMap((m) => (m.kind === "end" ? [m] : []));
      return ends.length === 16 ? ends : undefined;
    },
    alice.cli,
  );
  alice.cli.send("transfers");
  const { match } = await alice.cli.waitForLine(/^#(\d+) sending photos\/(f\d+\.txt)/);
  const [id, name] = [Number(match[1]), match[2] as string];
  alice.cli.send(`cancel ${id}`);
  return { alice, raw, ends, id, name };
}

test(
  "a chat's folder cancel with every open entry sent whole: the folder is said cancelled, FOLDER_END tells the receiver, its answers count",
  async () => {
    const { alice, raw, ends } = await chatCancelsAllSentWhole(OWN_FEATURES);
    await alice.cli.waitForLine(/^Sending folder photos failed: cancelled by the sender, with its whole folder\.$/);
    const end = await until("FOLDER_END", () => messagesOf(raw).find((m) => m.kind === "folderEnd"), alice.cli);
    expect(end).toMatchObject({ code: "E_CANCELLED", detail: "folder" });
    expect(messagesOf(raw).filter((m) => m.kind === "cancel")).toEqual([]);
    for (const e of ends) raw.send(encodeMessage({ kind: "received", id: e.id, bytes: e.bytes, ok: true }));
    await alice.cli.waitForLine(
      /^Folder photos: the receiver saved 16 entries, each .* checksum matched\. 4 of 20 entries cancelled \(see above\)\.$/,
    );
    alice.cli.send("transfers");
    await alice.cli.waitForLine(/^No transfers in progress\.$/);
    expect(alice.cli.linesMatching(/^Sending #\d+ .*failed/)).toEqual([]);
  },
  TEST_MS,
);

test(
  "to an older receiver (no folder-end) the chat cancels as before: the entry typed fails, no FOLDER_END is sent",
  async () => {
    const old = OWN_FEATURES.filter((f) => f !== Feature.FolderEnd);
    const { alice, raw, ends, id, name } = await chatCancelsAllSentWhole(old);
    await alice.cli.waitForLine(
      new RegExp(
        `^Sending #${id} photos/${name.replace(".", "\\.")} failed: cancelled by the sender, with its whole folder\\.$`,
      ),
    );
    await until("CANCEL", () => messagesOf(raw).find((m) => m.kind === "cancel" && m.id === id), alice.cli);
    for (const e of ends) raw.send(encodeMessage({ kind: "received", id: e.id, bytes: e.bytes, ok: true }));
    await alice.cli.waitForLine(/^Folder photos: the receiver saved 15 entries.* 5 of 20 entries cancelled/);
    alice.cli.send("still talking");
    await until("the chat line", () => messagesOf(raw).find((m) => m.kind === "chat"), alice.cli);
    expect(raw.frames.some((f) => f.type === FrameType.FolderEnd)).toBe(false);
  },
  TEST_MS,
);

/**
 * `parley receive ARGS` (human or --json) gets photos/ (5 entries) from a raw sender: 3 sent whole
 * and stored, then FOLDER_END, then BYE. @returns the receiver, its folder, and the files sent
 */
async function receiveTold(json: boolean) {
  const dir = makeTempDir();
  const cli = startCli("receiver", ["receive", "--dir", dir, "--no-progress", ...(json ? ["--json"] : [])]);
  const { port, words } = await listeningCode(cli, json);
  const raw = await rawParley(port, { leader: true, words });
  const files = new Map<string, Buffer>();
  const entries = 5;
  for (const [i, name] of ["a.txt", "b.txt", "c.txt"].entries()) {
    const id = 2 * i + 1;
    const bytes = Buffer.from(`${name} ${"x".repeat(100 * (i + 1))}\n`);
    files.set(name, bytes);
    const folder = { group: 1, root: "photos", path: [name], entries, bytes: 1000 };
    raw.send(encodeMessage({ kind: "offer", id, name, size: bytes.length, algo: "xxh3", folder }));
    await until(`ACCEPT ${id}`, () => messagesOf(raw).find((m) => m.kind === "accept" && m.id === id), cli);
    const digest = createDigest("xxh3");
    digest.update(bytes);
    raw.send(
      Buffer.concat([
        encodeDataHeader(id, bytes.length),
        bytes,
        encodeMessage({ kind: "end", id, bytes: bytes.length, algo: "xxh3", digest: digest.hex() }),
      ]),
    );
    await until(`RECEIVED ${id}`, () => messagesOf(raw).find((m) => m.kind === "received" && m.id === id), cli);
  }
  // FOLDER_END's bytes made here (tag 0x12, its JSON body): test/unit/folder-end.test.ts pins encodeMessage to them.
  const body = JSON.stringify({ group: 1, code: "E_CANCELLED", detail: "folder" });
  raw.send(encodeFrame(0x12 as never, new TextEncoder().encode(body)));
  raw.send(encodeMessage({ kind: "bye", reason: "done" }));
  const code = await cli.exitCode();
  raw.socket.destroy();
  const stored = join(dir, "photos");
  for (const [name, bytes] of files) expect(readFileSync(join(stored, name)).equals(bytes)).toBe(true);
  expect(readdirSync(stored).sort()).toEqual([".parley-unfinished", "a.txt", "b.txt", "c.txt"]);
  return { cli, code, stored };
}

test(
  "parley receive told FOLDER_END: the folder cancelled by its sender, in the cancel's words, not incomplete",
  async () => {
    const { cli, code, stored } = await receiveTold(false);
    expect(cli.linesMatching(/failed|incomplete|Saved folder/), cli.describe()).toEqual([
      "Receiving folder photos failed: the peer cancelled it: cancelled by the sender, with its whole folder.",
      `Saved folder ${stored}: 3 entries, each XXH3-64 checksum matched. 2 of 5 entries cancelled (see above).`,
    ]);
    expect(code).toBe(3);
  },
  TEST_MS,
);

test(
  "parley receive --json told FOLDER_END: one E_CANCELLED error of the folder with its folderRest, no E_FOLDER_INCOMPLETE",
  async () => {
    const { cli, code } = await receiveTold(true);
    const events = cli.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.type === "done").length).toBe(3);
    expect(
      events.filter((e) => e.type === "error"),
      cli.describe(),
    ).toEqual([
      {
        type: "error",
        code: "E_CANCELLED",
        message: "the peer cancelled it: cancelled by the sender, with its whole folder",
        direction: "receive",
        folder: { root: "photos", group: 1 },
        folderRest: 2,
      },
    ]);
    expect(code).toBe(3);
  },
  TEST_MS,
);
