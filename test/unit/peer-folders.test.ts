/** PeerFolders: a folder's entries are counted against what its first entry announced. */

import { expect, test } from "bun:test";
import { ProtocolError } from "../../src/protocol/index.ts";
import type { TransferInfo } from "../../src/session/index.ts";
import { MAX_OPEN_PEER_FOLDERS } from "../../src/session/limits.ts";
import { PeerFolders } from "../../src/session/peer-folders.ts";

const album = { group: 3, root: "album", entries: 2, bytes: 6 };

test("a folder's announced entries are taken; one more is a protocol error", () => {
  const folders = new PeerFolders();
  folders.offered({ ...album, path: ["a"] });
  folders.offered({ ...album, path: ["b"] });
  expect(() => folders.offered({ ...album, path: ["c"] })).toThrow(
    new ProtocolError("E_BAD_MESSAGE", "folder 3 announced 2 entries, then offered more"),
  );
  // Another folder is counted apart.
  folders.offered({ ...album, group: 5, path: ["a"] });
});

test("an entry that tells its folder otherwise (name, count or bytes), or a folder of no entries, is a protocol error", () => {
  for (const other of [{ root: "other" }, { entries: 3 }, { bytes: 7 }]) {
    const folders = new PeerFolders();
    folders.offered({ ...album, path: ["a"] });
    expect(() => folders.offered({ ...album, ...other, path: ["b"] })).toThrow(
      "an entry of folder 3 tells another name, count or size",
    );
  }
  expect(() => new PeerFolders().offered({ ...album, entries: 0, path: [] })).toThrow("folder 3 announced no entries");
});

test("a folder cancelled whole: the entries not offered yet end with the first cancelled, later offers are declined with it", () => {
  const folders = new PeerFolders();
  const big = { ...album, entries: 5 };
  folders.offered({ ...big, path: ["a"] });
  folders.offered({ ...big, path: ["b"] });
  const info: TransferInfo = { id: 3, direction: "receive", name: "b", size: 1, folder: { ...big, path: ["b"] } };
  expect(folders.cancelled(info).folderRest).toBe(3);
  expect(folders.cancelled(info).folderRest).toBeUndefined(); // counted once
  expect(folders.offered({ ...big, path: ["c"] })).toEqual({ code: "E_CANCELLED", detail: "folder" });
  // Live entries of the folder, the one cancelled first; another folder's are left alone.
  const live = new Map([
    [1, { info: { ...info, id: 1 } }],
    [3, { info }],
    [5, { info: { ...info, id: 5, folder: { ...big, path: ["c"], group: 9 } } }],
  ]);
  const fresh = new PeerFolders();
  fresh.offered({ ...big, path: ["a"] });
  const first = live.get(3) as { info: TransferInfo };
  expect(fresh.cancelling(first, live).map((t) => t.info.id)).toEqual([3, 1]);
  expect(first.info.folderRest).toBe(4);
});

/** Offers folder `group` (one entry of `entries`) and cancels it whole, as a crafted peer in a loop. */
function offerAndCancel(folders: PeerFolders, group: number, entries = 2): void {
  const folder = { group, root: "flood", entries, bytes: 20, path: ["a.bin"] };
  folders.offered(folder);
  folders.cancelled({ id: group, direction: "receive", name: "a.bin", size: 10, folder });
  folders.entryEnded(group);
}

test("folders ended long ago are let go: a peer offering and cancelling folder after folder holds nothing per folder", () => {
  // Before: every folder was remembered to the session's end (100,000 of them; parley receive
  // grew 80 MB at the cap, attack31).
  const { heapStats } = require("bun:jsc") as typeof import("bun:jsc");
  const heap = () => {
    Bun.gc(true);
    return heapStats().heapSize;
  };
  const folders = new PeerFolders();
  for (let g = 1; g <= 2_000; g++) offerAndCancel(folders, g);
  const before = heap();
  for (let g = 2_001; g <= 90_000; g++) offerAndCancel(folders, g);
  const grown = heap() - before;
  expect(grown, `the heap grew by ${grown} bytes`).toBeLessThan(2 * 1024 * 1024);
  // The last ended are still known: a late entry of one is declined with it, a crossing FOLDER_END is taken.
  expect(folders.offered({ group: 90_000, root: "flood", entries: 2, bytes: 20, path: ["b.bin"] })).toEqual({
    code: "E_CANCELLED",
    detail: "folder",
  });
  expect(folders.endedWhole(89_999)).toBeUndefined();
  // One let go is a folder of its own if offered again, and a FOLDER_END for it is let be.
  expect(folders.endedWhole(5)).toBeUndefined();
  expect(folders.offered({ group: 5, root: "flood", entries: 2, bytes: 20, path: ["b.bin"] })).toBeUndefined();
});

test("a folder whose every entry was offered and has ended is let go in its turn; one still under way is not", () => {
  const folders = new PeerFolders();
  const under = { group: 1, root: "under", entries: 2, bytes: 2, path: ["a"] };
  folders.offered(under);
  folders.entryEnded(1); // its second entry is still to come
  for (let g = 3; g < 3 + 2 * 1_030; g += 2) {
    folders.offered({ group: g, root: "done", entries: 1, bytes: 1, path: ["a"] });
    folders.entryEnded(g);
  }
  // Still known: its entries are counted (a third is past its count).
  folders.offered({ ...under, path: ["b"] });
  expect(() => folders.offered({ ...under, path: ["c"] })).toThrow("folder 1 announced 2 entries, then offered more");
  // The first of the others was let go: offered again, it is a new folder.
  expect(folders.offered({ group: 3, root: "done", entries: 1, bytes: 1, path: ["a"] })).toBeUndefined();
});

test("more than MAX_OPEN_PEER_FOLDERS folders open at once (an entry offered, the rest never) is a protocol error", () => {
  // Before: each was remembered to the session's end, up to 100,000.
  const folders = new PeerFolders();
  for (let g = 1; g <= MAX_OPEN_PEER_FOLDERS; g++) {
    folders.offered({ group: g, root: "open", entries: 2, bytes: 2, path: ["a"] });
    folders.entryEnded(g); // a plain CANCEL of the entry: its folder stays open
  }
  expect(() => folders.offered({ group: 0, root: "open", entries: 2, bytes: 2, path: ["a"] })).toThrow(
    new ProtocolError("E_BAD_MESSAGE", `more than ${MAX_OPEN_PEER_FOLDERS} folders open at once`),
  );
  // One of them ended whole makes room.
  folders.endedWhole(1);
  expect(folders.offered({ group: 0, root: "open", entries: 2, bytes: 2, path: ["a"] })).toBeUndefined();
});
