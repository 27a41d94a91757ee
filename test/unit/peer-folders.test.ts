/** PeerFolders: a folder's entries are counted against what its first entry announced. */

import { expect, test } from "bun:test";
import { ProtocolError } from "../../src/protocol/index.ts";
import type { TransferInfo } from "../../src/session/index.ts";
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
