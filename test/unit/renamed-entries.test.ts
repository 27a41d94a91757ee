/**
 * RenamedEntries: which folder entry went where when names are the same once made safe (`.env`
 * and `_env`, `a<LF>b` and `ab`), whichever ends first, on either side; takenName for --json.
 */

import { expect, test } from "bun:test";
import { RenamedEntries, shortenedNameLines, takenName } from "../../src/cli/renamed-entries.ts";
import type { TransferDone } from "../../src/session/index.ts";

const folder = (path: string[]) => ({ group: 1, root: "photos", path, entries: 9, bytes: 90 });

/** A received entry sent as photos/...`path`, stored at /in/`stored` (root-relative). */
function received(path: string[], stored: string): TransferDone {
  return {
    id: 1,
    direction: "receive",
    name: stored.split("/").at(-1) as string,
    size: 10,
    folder: folder(path),
    bytes: 10,
    path: `/in/${stored}`,
    resumedFrom: 0,
    algo: "xxh3",
    digest: "00",
  };
}

/** A sent entry the receiver said it stored as `storedAs` in `storedRoot`. */
function sent(path: string[], storedAs: string | undefined, storedRoot = "photos"): TransferDone {
  return {
    id: 2,
    direction: "send",
    name: path.at(-1) as string,
    size: 10,
    folder: folder(path),
    bytes: 10,
    ...(storedAs === undefined ? {} : { storedAs, storedRoot }),
    resumedFrom: 0,
    algo: "xxh3",
    digest: "00",
  };
}

test("the renamed one first, then the numbered one: both said when the second ends", () => {
  const r = new RenamedEntries();
  expect(r.finished(received([".env"], "photos/_env"))).toEqual([]);
  expect(r.finished(received(["_env"], "photos/_env (1)"))).toEqual([
    'Stored "photos/_env" as photos/_env (1): photos/_env was taken.',
    'Stored "photos/.env" as photos/_env.',
  ]);
});

test("the numbered one first: it is said, and the renamed one when it ends", () => {
  const r = new RenamedEntries();
  expect(r.finished(received([".env"], "photos/_env (1)"))).toEqual([
    'Stored "photos/.env" as photos/_env (1): photos/_env was taken.',
  ]);
  expect(r.finished(received(["\u200b_env"], "photos/_env"))).toEqual(['Stored "photos/\\u200b_env" as photos/_env.']);
  expect(r.finished(received(["_env"], "photos/_env (2)"))).toEqual([
    'Stored "photos/_env" as photos/_env (2): photos/_env was taken.',
  ]);
});

test("a name with a line feed, in a subfolder made safe, in a folder stored as photos (1): escaped, never raw", () => {
  const r = new RenamedEntries();
  // Said as it is stored (a character left out), not again as the holder of the name taken.
  expect(r.finished(received([".cfg", "a\nb.txt"], "photos (1)/_cfg/ab.txt"))).toEqual([
    'Stored "photos/.cfg/a\\nb.txt" as photos (1)/_cfg/ab.txt.',
  ]);
  expect(r.finished(received([".cfg", "ab.txt"], "photos (1)/_cfg/ab (1).txt"))).toEqual([
    'Stored "photos/.cfg/ab.txt" as photos (1)/_cfg/ab (1).txt: photos (1)/_cfg/ab.txt was taken.',
  ]);
});

test("the receiver says an entry a received-name rule stored elsewhere, a subfolder's too; not a leading dot alone; ten a folder, then the count at its end", () => {
  const r = new RenamedEntries();
  expect(r.finished(received(["package.json"], "photos/_package.json"))).toEqual([
    'Stored "photos/package.json" as photos/_package.json.',
  ]);
  expect(r.finished(received(["node_modules", "x", "index.js"], "photos/_node_modules/x/index.js"))).toEqual([
    'Stored "photos/node_modules/x/index.js" as photos/_node_modules/x/index.js.',
  ]);
  expect(r.finished(received([".git", ".hidden", "HEAD"], "photos/_git/_hidden/HEAD"))).toEqual([]);
  expect(r.finished(received(["plain.txt"], "photos/plain.txt"))).toEqual([]);
  for (let i = 0; i < 10; i++) {
    const line = r.finished(received(["node_modules", `m${i}.js`], `photos/_node_modules/m${i}.js`));
    expect(line).toHaveLength(i < 8 ? 1 : 0);
  }
  expect(r.forget("receive", 1)).toEqual(["... and 2 more entries stored under other names than sent."]);
  expect(r.forget("receive", 1)).toEqual([]);
  // The sender is told the stored names by RECEIVED: no such line of its own.
  expect(r.finished(sent(["package.json"], "_package.json"))).toEqual([]);
  expect(r.forget("send", 1)).toEqual([]);
});

test("the sender says the same from RECEIVED's names; nothing when the receiver did not say", () => {
  const r = new RenamedEntries();
  expect(r.finished(sent([".env"], "_env"))).toEqual([]);
  expect(r.finished(sent(["_env"], "_env (1)"))).toEqual([
    'The receiver stored "photos/_env" as photos/_env (1): photos/_env was taken.',
    'The receiver stored "photos/.env" as photos/_env.',
  ]);
  expect(r.finished(sent(["x"], undefined))).toEqual([]);
});

test("not numbered: a name sent as 'x (1).txt', a name kept, a folder's empty directory, a forgotten folder", () => {
  const r = new RenamedEntries();
  expect(r.finished(received(["x (1).txt"], "photos/x (1).txt"))).toEqual([]);
  expect(r.finished(received(["plain.txt"], "photos/plain.txt"))).toEqual([]);
  expect(r.finished({ ...received(["d"], "photos/d (1)"), folder: { ...folder(["d"]), dir: true } })).toEqual([]);
  expect(r.finished(received([".env"], "photos/_env"))).toEqual([]);
  r.forget("receive", 1);
  expect(r.finished(received(["_env"], "photos/_env (1)"))).toHaveLength(1); // the renamed one is no longer known
});

test("takenName: the safe name a numbered entry found taken, for --json; none otherwise", () => {
  expect(takenName(received(["_env"], "photos/_env (1)"))).toBe("photos/_env");
  expect(takenName(sent(["a.tar.gz"], "a.tar (3).gz"))).toBe("photos/a.tar.gz");
  expect(takenName(received([".env"], "photos/_env"))).toBeUndefined();
  expect(takenName(received(["x (1).txt"], "photos/x (1).txt"))).toBeUndefined();
  expect(takenName({ ...received(["f"], "f"), folder: undefined } as TransferDone)).toBeUndefined();
});

test("shortenedNameLines: past ten, the count's words fit every reason a name changed, package.json's _ too (no character of it left out)", () => {
  // Twelve folders, each holding a package.json stored as _package.json (0af936a), and one name
  // that lost a control character: ten lines, then the count. It said "stored with characters
  // left out of their names" before, of names that lost none.
  const stored = [
    ...Array.from({ length: 12 }, (_, i) => ({ sent: `d${String(i).padStart(2, "0")}/package.json`, stored: "" })),
    { sent: "z/a\u0007b.txt", stored: "z/ab.txt" },
    { sent: ".hidden", stored: "_hidden" },
  ].map((e) => ({ sent: e.sent, stored: e.stored || e.sent.replace("package.json", "_package.json") }));
  const lines = shortenedNameLines("gift", "gift", stored, new Set());
  expect(lines.slice(0, 2)).toEqual([
    'Stored "gift/d00/package.json" as gift/d00/_package.json.',
    'Stored "gift/d01/package.json" as gift/d01/_package.json.',
  ]);
  expect(lines).toHaveLength(11);
  expect(lines.at(-1)).toBe("... and 3 more entries stored under other names than sent.");
  expect(lines.join("\n")).not.toContain("characters left out");
  expect(lines.join("\n")).not.toContain("hidden");
});
