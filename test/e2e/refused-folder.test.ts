/**
 * A folder the receiver refuses whole (not enough space for all of it, REJECT E_NO_SPACE
 * "folder"): a sender whose receiver says so in its HELLO (refused-folder-ends) offers no more
 * of its entries, and both sides count the rest as refused with it. Before, every entry was
 * offered and declined one by one (`transfer /usr`: 122,463 declines, ~20 s, before the
 * summary). An older receiver (no such feature) is still offered every entry.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage, Feature, FrameType, OWN_FEATURES } from "../../src/protocol/index.ts";
import { rawParley } from "../raw-parley.ts";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);

const ENTRIES = 60;

/** `parley send` of a folder of ENTRIES small files to a raw receiver that refuses it whole. */
async function refusedBy(features: readonly string[]) {
  const folder = join(makeTempDir(), "many");
  mkdirSync(folder);
  for (let i = 0; i < ENTRIES; i++) writeFileSync(join(folder, `f${String(i).padStart(2, "0")}`), "abc");
  const sender = startCli("sender", ["send", folder, "--no-progress"]);
  const { match } = await sender.waitForLine(/· code (\d+)-([a-z]+-[a-z]+)$/);
  const raw = await rawParley(Number(match[1]), { leader: true, words: match[2] as string, features });
  const answered = new Set<number>();
  const refuse = () => {
    for (const f of raw.frames) {
      if (f.type !== FrameType.Offer) continue;
      const { id } = JSON.parse(new TextDecoder().decode(f.payload)) as { id: number };
      if (answered.has(id)) continue;
      answered.add(id);
      raw.send(encodeMessage({ kind: "reject", id, code: "E_NO_SPACE", detail: "folder" }));
    }
  };
  const timer = setInterval(refuse, 5);
  try {
    await sender.waitForLine(/^Folder many: /);
    // Every planned send counted as settled, the sender leaves by itself (its BYE): a miscount
    // (the refusal's folderRest) left it waiting for ever, which destroying the socket hid.
    const deadline = Date.now() + 10_000;
    while (!raw.frames.some((f) => f.type === FrameType.Bye)) {
      if (Date.now() > deadline) throw new Error(`the sender never said BYE:\n${sender.describe()}`);
      await Bun.sleep(10);
    }
  } finally {
    clearInterval(timer);
  }
  raw.socket.destroy();
  await sender.exitCode();
  return { sender, offers: answered.size };
}

test("a receiver that ends a refused folder: the sender offers no more of it than were in flight, and counts the rest", async () => {
  const { sender, offers } = await refusedBy(OWN_FEATURES);
  expect(offers, sender.describe()).toBeLessThanOrEqual(17); // the 16 offers in flight, and perhaps one more
  // The folder is what was refused: its line names it, and covers the entries in flight then.
  expect(sender.linesMatching(/^Sending .* failed/)).toEqual([
    "Sending folder many failed: the peer declined: not enough space at the receiver for the whole folder: 180 bytes offered.",
  ]);
  expect(sender.linesMatching(/^Folder many: /)).toEqual([
    `Folder many: nothing was saved. ${ENTRIES} of ${ENTRIES} entries failed (see above).`,
  ]);
}, 30_000);

test("an older receiver (no refused-folder-ends): every entry is offered and declined, as before", async () => {
  const { sender, offers } = await refusedBy(OWN_FEATURES.filter((f) => f !== Feature.RefusedFolderEnds));
  expect(offers, sender.describe()).toBe(ENTRIES);
  expect(sender.linesMatching(/^Folder many: /)).toEqual([
    `Folder many: nothing was saved. ${ENTRIES} of ${ENTRIES} entries failed (see above; ${ENTRIES - 1} more for the same reason).`,
  ]);
}, 30_000);
