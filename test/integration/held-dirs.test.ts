/**
 * A download folder other users can change (no sticky bit): another process renames the folder
 * being received away and puts a symbolic link to a folder of ours elsewhere in its place, at
 * the exact moment between a check and the call that uses the name (a test seam there, or a
 * step the receiver already waits at). Every file call goes through the folders we hold open
 * (held-dir.ts), so the write lands in the folder we made, byte for byte, and nothing is made,
 * changed or removed through the link. On the code before (calls by path) each of these wrote,
 * linked or removed through the link. Real files, the session's own sinks (IncomingSinks).
 */

import { afterEach, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { FolderEntry } from "../../src/protocol/index.ts";
import type { TransferInfo } from "../../src/session/events.ts";
import { IncomingSinks } from "../../src/session/incoming-sinks.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { JUST_MADE_SLACK_MS } from "../../src/transfer/held-dir.ts";
import { HeldDir, type IncomingSink, type ResumableSink, UNFINISHED_MARKER } from "../../src/transfer/index.ts";
import { replaceFreeSpaceForTests, SpaceClaim } from "../../src/transfer/space-claims.ts";
import { changedAfterMadeMs, emptyFolderMadeEarlier, noBirthTimes } from "../birth-times.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-held-");
const realUnchecked = SpaceClaim.unchecked;
afterEach(() => {
  SpaceClaim.unchecked = realUnchecked;
  replaceFreeSpaceForTests(undefined);
});

const TOKEN = "00112233445566778899aabbccddeeff";

/** A download folder, and a folder of ours elsewhere (with what it held, to compare after). */
function setUp(): { dl: string; elsewhere: string; before: () => Map<string, string> } {
  const dl = tempDir();
  const elsewhere = tempDir(); // /root/.ssh, say: anywhere the receiving user can write
  mkdirSync(join(elsewhere, "sub"));
  writeFileSync(join(elsewhere, "sub", "a.bin.part"), "the victim's own unfinished download");
  writeFileSync(join(elsewhere, UNFINISHED_MARKER), "someone else's file of that name");
  return { dl, elsewhere, before: () => snapshot(elsewhere) };
}

/** Every path under `dir` with its bytes ("dir" for a folder). */
function snapshot(dir: string, at = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(join(dir, at), { withFileTypes: true })) {
    const path = join(at, entry.name);
    if (entry.isDirectory()) {
      out.set(path, "dir");
      for (const [p, v] of snapshot(dir, path)) out.set(p, v);
    } else out.set(path, readFileSync(join(dir, path), "latin1"));
  }
  return out;
}

/** Another user of the download folder: ours renamed away, a link to `elsewhere` in its place. */
function swap(dl: string, elsewhere: string): void {
  renameSync(join(dl, "photos"), join(dl, "photos-moved"));
  symlinkSync(elsewhere, join(dl, "photos"));
}

function entryInfo(id: number, path: string[], size: number, entries = 2): TransferInfo {
  const folder: FolderEntry = { group: 1, root: "photos", path, entries, bytes: 4096 };
  return { id, direction: "receive", name: path.at(-1) as string, size, folder };
}

function bytesOf(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

/** Writes `bytes` and ends the sink with their trailer. */
function sendInto(sink: IncomingSink, bytes: Uint8Array): void {
  sink.write(bytes);
  const d = createDigest("xxh3");
  d.update(bytes);
  sink.finish({ bytes: bytes.length, algo: "xxh3", digest: d.hex() });
}

test("swapped between the folder's check and the .part's open: the entry is written into the folder we made", () => {
  const { dl, elsewhere, before } = setUp();
  const was = before();
  const sinks = new IncomingSinks(dl);
  // The receiver checks the folder (parentFor), then claims the entry's space, then opens its `.part`.
  SpaceClaim.unchecked = (dir, offered) => {
    if (dir.endsWith("/photos")) {
      swap(dl, elsewhere);
      SpaceClaim.unchecked = realUnchecked;
    }
    return realUnchecked(dir, offered);
  };
  const bytes = bytesOf(3000, 1);
  sendInto(sinks.open(entryInfo(1, ["a.bin"], bytes.length), "xxh3", { token: TOKEN }), bytes);
  expect(snapshot(elsewhere), "something went through the link").toEqual(was);
  expect(readFileSync(join(dl, "photos-moved", "a.bin")).equals(bytes)).toBe(true);
  // The next entry is told the folder moved (its path would not say where it went).
  expect(() => sinks.open(entryInfo(3, ["b.bin"], 10), "xxh3", {})).toThrow("was moved or replaced by another process");
  sinks.connectionEnded();
});

test("swapped between the folder's mkdir and its marker: the marker goes into the folder we made", () => {
  const { dl, elsewhere, before } = setUp();
  const was = before();
  const sinks = new IncomingSinks(dl);
  // A new folder's space is checked between its mkdir and its marker.
  replaceFreeSpaceForTests(() => {
    if (!existsSync(join(dl, "photos-moved"))) swap(dl, elsewhere);
    return 2 ** 60;
  });
  expect(() => sinks.open(entryInfo(1, ["a.bin"], 10), "xxh3", {})).toThrow("was moved or replaced by another process");
  expect(snapshot(elsewhere), "the marker was made through the link").toEqual(was);
  expect(readdirSync(join(dl, "photos-moved"))).toEqual([UNFINISHED_MARKER]);
  sinks.connectionEnded();
});

test("swapped while an entry is written, before its final name: it is stored in the folder we made, the victim's .part untouched", () => {
  const { dl, elsewhere, before } = setUp();
  const was = before();
  const sinks = new IncomingSinks(dl);
  const bytes = bytesOf(5000, 2);
  const sink = sinks.open(entryInfo(1, ["sub", "a.bin"], bytes.length), "xxh3", { token: TOKEN });
  sink.write(bytes.subarray(0, 2000));
  swap(dl, elsewhere); // by name, `photos/sub/a.bin.part` is now the victim's file
  sink.write(bytes.subarray(2000));
  const d = createDigest("xxh3");
  d.update(bytes);
  sink.finish({ bytes: bytes.length, algo: "xxh3", digest: d.hex() });
  expect(snapshot(elsewhere), "the final name was made (or removed) through the link").toEqual(was);
  expect(readFileSync(join(dl, "photos-moved", "sub", "a.bin")).equals(bytes)).toBe(true);
  expect(readdirSync(join(dl, "photos-moved", "sub"))).toEqual(["a.bin"]);
  sinks.connectionEnded();
});

test("swapped, then the entries are cancelled: what is removed is ours, in the folder we made", () => {
  const { dl, elsewhere, before } = setUp();
  mkdirSync(join(elsewhere, "empty")); // the victim's empty folder
  const was = before();
  const sinks = new IncomingSinks(dl);
  const file = sinks.open(entryInfo(1, ["sub", "a.bin"], 100, 2), "xxh3", {});
  const dir = sinks.open(
    { ...entryInfo(3, ["empty"], 0, 2), folder: { ...(entryInfo(3, ["empty"], 0).folder as FolderEntry), dir: true } },
    "xxh3",
    {},
  );
  file.write(bytesOf(10, 3));
  swap(dl, elsewhere);
  file.abort(false);
  dir.abort(false);
  sinks.entryEnded(entryInfo(1, ["sub", "a.bin"], 100), false);
  sinks.entryEnded(entryInfo(3, ["empty"], 0), false);
  expect(snapshot(elsewhere), "a cancelled entry removed the victim's file or folder through the link").toEqual(was);
  expect(readdirSync(join(dl, "photos-moved")).sort()).toEqual([UNFINISHED_MARKER, "sub"]);
  expect(readdirSync(join(dl, "photos-moved", "sub"))).toEqual([]);
  sinks.connectionEnded();
});

test("the folder's last entry ends after a swap: the marker removed is ours, not the victim's file of that name", () => {
  const { dl, elsewhere, before } = setUp();
  const was = before();
  const sinks = new IncomingSinks(dl);
  const bytes = bytesOf(100, 4);
  sendInto(sinks.open(entryInfo(1, ["a.bin"], bytes.length, 1), "xxh3", {}), bytes);
  swap(dl, elsewhere);
  sinks.entryEnded(entryInfo(1, ["a.bin"], bytes.length, 1), true);
  expect(snapshot(elsewhere)).toEqual(was);
  expect(readdirSync(join(dl, "photos-moved"))).toEqual(["a.bin"]);
  sinks.connectionEnded();
});

test("a file stored whole last time, checked, found changed and received anew after a swap: into the folder we took up", async () => {
  const { dl, elsewhere, before } = setUp();
  const was = before();
  const old = bytesOf(4000, 5);
  // The first attempt: a.bin stored whole, b.bin failed (the folder stays unfinished).
  const first = new IncomingSinks(dl);
  sendInto(first.open(entryInfo(1, ["a.bin"], old.length), "xxh3", { token: TOKEN }), old);
  first.entryEnded(entryInfo(1, ["a.bin"], old.length), true);
  first.entryEnded(entryInfo(3, ["b.bin"], 10), false);
  first.connectionEnded();
  // Sent again: a.bin is offered as a copy to check; the sender's differs, so it comes anew.
  const again = new IncomingSinks(dl);
  const copy = again.open(entryInfo(1, ["a.bin"], old.length), "xxh3", { token: TOKEN }) as ResumableSink;
  expect(copy.resumeOffset).toBe(old.length);
  swap(dl, elsewhere);
  copy.restart();
  const fresh = bytesOf(4000, 6);
  sendInto(copy, fresh);
  expect(snapshot(elsewhere), "the new copy went through the link").toEqual(was);
  expect(readFileSync(join(dl, "photos-moved", "a (1).bin")).equals(fresh)).toBe(true);
  expect(readFileSync(join(dl, "photos-moved", "a.bin")).equals(old)).toBe(true);
  again.connectionEnded();
});

test("swapped between the folder's mkdir and its open for another folder of ours it can move: refused, nothing written in it", () => {
  const { dl, elsewhere, before } = setUp();
  // A folder of ours the other user can move (it sits in the download folder they can change).
  mkdirSync(join(dl, "ours-too"));
  writeFileSync(join(dl, "ours-too", "notes.txt"), "ours");
  const was = before();
  const sinks = new IncomingSinks(dl);
  const realOpenDir = HeldDir.prototype.openDir;
  HeldDir.prototype.openDir = function (this: HeldDir, name: string) {
    if (name === "photos") {
      HeldDir.prototype.openDir = realOpenDir;
      renameSync(join(dl, "photos"), join(dl, "photos-moved"));
      renameSync(join(dl, "ours-too"), join(dl, "photos"));
    }
    return realOpenDir.call(this, name);
  };
  try {
    expect(() => sinks.open(entryInfo(1, ["a.bin"], 10), "xxh3", {})).toThrow(
      "was moved or replaced by another process",
    );
  } finally {
    HeldDir.prototype.openDir = realOpenDir;
  }
  expect(readdirSync(join(dl, "photos")), "the entry or the marker went into the folder swapped in").toEqual([
    "notes.txt",
  ]);
  expect(snapshot(elsewhere)).toEqual(was);
  sinks.connectionEnded();
});

test("swapped between the folder's mkdir and its open for an EMPTY folder of ours made earlier: refused, left empty", async () => {
  const { dl } = setUp();
  // An empty folder of ours the other user can move, made a while before (an empty folder received earlier, say).
  const empty = await emptyFolderMadeEarlier(dl, "empty-before");
  const sinks = new IncomingSinks(dl);
  const realOpenDir = HeldDir.prototype.openDir;
  let changedAfterMade: number | undefined;
  HeldDir.prototype.openDir = function (this: HeldDir, name: string) {
    if (name === "photos") {
      HeldDir.prototype.openDir = realOpenDir;
      renameSync(join(dl, "photos"), join(dl, "photos-moved"));
      renameSync(empty, join(dl, "photos"));
      changedAfterMade = changedAfterMadeMs(join(dl, "photos"));
    }
    return realOpenDir.call(this, name);
  };
  let thrown: unknown;
  try {
    sinks.open(entryInfo(1, ["a.bin"], 10), "xxh3", {});
  } catch (err) {
    thrown = err;
  } finally {
    HeldDir.prototype.openDir = realOpenDir;
    sinks.connectionEnded();
  }
  if (noBirthTimes(changedAfterMade)) return;
  expect((thrown as Error | undefined)?.message).toContain("was moved or replaced by another process");
  expect(changedAfterMade, "the folder swapped in was made more than the slack before").toBeGreaterThan(
    JUST_MADE_SLACK_MS,
  );
  expect(readdirSync(join(dl, "photos")), "the entry or the marker went into the folder swapped in").toEqual([]);
  expect(readdirSync(join(dl, "photos-moved"))).toEqual([]);
});

test("the connection ends with a folder unfinished: nothing of it stays open (its folders nor its locked marker)", () => {
  const { dl } = setUp();
  const sinks = new IncomingSinks(dl);
  const sink = sinks.open(entryInfo(1, ["sub", "a.bin"], 100, 3), "xxh3", { token: TOKEN });
  sink.write(bytesOf(10, 3));
  sink.abort(true);
  sinks.entryEnded(entryInfo(1, ["sub", "a.bin"], 100, 3), false);
  sinks.connectionEnded(); // two entries never came
  const open = readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dl);
    } catch {
      return false;
    }
  });
  expect(open, "still open: the marker (locked, so this process could not take the folder up again)").toEqual([]);
});

test("a file system that shows what we make under another owner (sshfs, root-squashed NFS, a FAT mount's uid=) takes folders", () => {
  const { dl } = setUp();
  const real = process.getuid;
  // Here what this process makes is owned by its real uid; told another, it sees its own folders as someone else's.
  process.getuid = () => (real?.() ?? 0) + 4242;
  try {
    const sinks = new IncomingSinks(dl);
    const bytes = bytesOf(10, 4);
    sendInto(sinks.open(entryInfo(1, ["sub", "a.bin"], bytes.length, 1), "xxh3", {}), bytes);
    sinks.connectionEnded();
    expect(readFileSync(join(dl, "photos", "sub", "a.bin")).equals(bytes)).toBe(true);
  } finally {
    process.getuid = real;
  }
});
