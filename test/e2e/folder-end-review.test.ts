/**
 * The chat's `cancel` on a folder's entry when every entry has been offered and each still open
 * was sent whole (session 14 review): nothing is left to cancel, and the receiver's answers decide.
 * The chat must say so when the cancel is typed, not stay silent. A real chat process against a
 * hand-made raw receiver on 127.0.0.1 that reads FOLDER_END.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage, OWN_FEATURES } from "../../src/protocol/index.ts";
import { acceptOffers, messagesOf, until as pollUntil, rawParley } from "../raw-parley.ts";
import { type Cli, cleanup, makeTempDir, startPeer } from "./helpers.ts";

afterEach(cleanup);
const ENTRIES = 5; // all offered at once (16 in flight)

/** A poll of 10 s; on failure the CLI's output is in the error. */
const until = <T>(what: string, get: () => T | undefined, cli: Cli) => pollUntil(what, get, 2000, () => cli.describe());

test("cancel typed on an entry of a folder sent whole entry by entry: the chat says the receiver's answer decides, then counts the answers", async () => {
  const alice = await startPeer("alice");
  const raw = await rawParley(alice.port, {
    leader: true,
    words: alice.code.replace(/^\d+-/, ""),
    features: OWN_FEATURES,
  });
  await alice.cli.waitForLine(/^Connected to/);
  const photos = join(makeTempDir(), "photos");
  mkdirSync(photos);
  for (let i = 0; i < ENTRIES; i++) writeFileSync(join(photos, `f${i}.txt`), `entry ${i}\n`);
  alice.cli.send(`transfer ${photos}`);
  const accepted = new Set<number>();
  const ends = await until(
    "every entry sent whole",
    () => {
      acceptOffers(raw, accepted);
      const ends = messagesOf(raw).flatMap((m) => (m.kind === "end" ? [m] : []));
      return ends.length === ENTRIES ? ends : undefined;
    },
    alice.cli,
  );
  alice.cli.send("transfers");
  const { match } = await alice.cli.waitForLine(/^#(\d+) sending photos\/(f\d\.txt)/);
  const [id, name] = [Number(match[1]), match[2] as string];
  alice.cli.send(`cancel ${id}`);
  await alice.cli.waitForLine(
    new RegExp(
      `^#${id} photos/${name.replace(".", "\\.")} had been sent whole: the receiver's answer says whether it is saved\\.$`,
    ),
  );
  await until("FOLDER_END", () => messagesOf(raw).find((m) => m.kind === "folderEnd"), alice.cli);
  for (const e of ends) raw.send(encodeMessage({ kind: "received", id: e.id, bytes: e.bytes, ok: true }));
  await alice.cli.waitForLine(/^Folder photos: the receiver saved 5 entries, each .* checksum matched\.$/);
  expect(alice.cli.linesMatching(/failed/)).toEqual([]);
}, 60_000);
