/**
 * run-parts.ts: what this run remembers of the files it stored. Only a stored name ending in
 * `.part` is ever asked about again (never to be taken for an interrupted transfer's `.part`):
 * every stored path was kept for the whole run, so a peer's folder of a million empty files
 * grew a receiver by 134 bytes a file, for as long as it ran (attack33). That a stored
 * `x.part` is still passed by: integration/stored-part-name.
 */

import { expect, test } from "bun:test";
import { storedHere } from "../../src/transfer/run-parts.ts";

test("files stored under names not ending in .part are not remembered: the heap stays put", async () => {
  const { heapStats } = await import("bun:jsc");
  const heap = () => {
    Bun.gc(true);
    return heapStats().heapSize;
  };
  const before = heap();
  for (let i = 0; i < 200_000; i++) storedHere(`/home/alice/Downloads/photos/2024/e${String(i).padStart(6, "0")}.jpg`);
  const grown = heap() - before;
  expect(grown, `the heap grew by ${grown} bytes`).toBeLessThan(4 * 1024 * 1024);
});
