/** PeerFolders: a folder's entries are counted against what its first entry announced. */

import { expect, test } from "bun:test";
import { ProtocolError } from "../../src/protocol/index.ts";
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
