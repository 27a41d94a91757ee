/** receive --ask's questions for folders (cli/ask-offers.ts): one per folder, its answers kept bounded. */

import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { askFor, DeclinedUnasked, MAX_FOLDER_ANSWERS } from "../../src/cli/ask-offers.ts";
import type { TransferInfo } from "../../src/session/index.ts";
import { Asker } from "../../src/ui/index.ts";

function setup() {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const shown: string[] = [];
  const asker = new Asker(input, { write: (t: string) => shown.push(t) });
  return { input, shown, asker };
}

const entry = (id: number, group: number, name: string): TransferInfo => ({
  id,
  direction: "receive",
  name,
  size: 1,
  folder: { group, root: `album${group}`, path: [name], entries: 3, bytes: 3 },
});

test("a folder's entries share its one question", async () => {
  const { input, shown, asker } = setup();
  const answers = new Map<number, Promise<boolean>>();
  const first = askFor(asker, entry(1, 1, "a"), () => true, answers);
  const second = askFor(asker, entry(3, 1, "b"), () => true, answers);
  input.write("y\n");
  expect(await Promise.all([first, second])).toEqual([true, true]);
  expect(shown).toEqual(["Accept folder album1 (3 entries, 3 bytes)? [y/N] "]);
  asker.close();
});

test("folders offered and cancelled one after another: only the latest MAX_FOLDER_ANSWERS answers are kept", async () => {
  // Before: a promise per folder for the whole run (a crafted sender's 100,000 folders, attack31).
  const { input, shown, asker } = setup();
  const answers = new Map<number, Promise<boolean>>();
  const first = askFor(asker, entry(1, 1, "a"), () => true, answers); // waits for a person
  // Meanwhile an entry of the first folder now and then: the folder whose entries still come keeps its answer.
  const later: Promise<boolean>[] = [];
  for (let g = 3; g < 3 + 2 * 3 * MAX_FOLDER_ANSWERS; g += 2) {
    void askFor(asker, entry(g, g, "a"), () => false, answers);
    if (g % 201 === 0) later.push(askFor(asker, entry(g + 1, 1, "b"), () => true, answers));
  }
  expect(answers.size).toBe(MAX_FOLDER_ANSWERS);
  input.write("y\n");
  expect(await Promise.all([first, ...later])).toEqual([true, ...later.map(() => true)]);
  expect(shown).toEqual(["Accept folder album1 (3 entries, 3 bytes)? [y/N] "]);
  asker.close();
});

test("offers declined unasked: a file's is forgotten once its failure asks, a folder's kept among the latest MAX_FOLDER_ANSWERS", () => {
  // Before: a Set of every file id declined unasked, for the whole run (a sender offering file
  // after file into `receive --ask < /dev/null` grew it by each).
  const declined = new DeclinedUnasked();
  const file = (id: number): TransferInfo => ({ id, direction: "receive", name: "f", size: 1 });
  for (let id = 1; id <= 100_000; id += 2) declined.add(file(id));
  for (let id = 1; id <= 100_000; id += 2) expect(declined.take(file(id))).toBe(true);
  expect(declined.size).toBe(0);
  expect(declined.take(file(1))).toBe(false); // told once
  expect(declined.take(file(7))).toBe(false);
  for (let group = 1; group <= MAX_FOLDER_ANSWERS + 10; group++) declined.add(entry(group * 2, group, "a"));
  expect(declined.size).toBe(MAX_FOLDER_ANSWERS);
  expect(declined.take(entry(2, 1, "b"))).toBe(false); // the oldest let go
  const last = MAX_FOLDER_ANSWERS + 10;
  expect(declined.take(entry(2 * last, last, "a"))).toBe(true);
  expect(declined.take(entry(2 * last + 1, last, "b"))).toBe(true); // every entry of the folder
});
