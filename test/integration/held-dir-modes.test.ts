/**
 * What a receiver does in its download folder, done three ways (held-dir.ts): through held
 * folders with files named from their descriptor (AT_EMPTY_PATH), the same with names made
 * through /proc (kernels before 6.10 for a user without the capability), and by name (no
 * directory-relative calls: macOS, a libc without them). Each way: a taken name gives
 * "name (1)", a kept `.part` resumes, a folder's tree and empty folder are made and its marker
 * goes at its end, a zip is extracted, and a folder refuses a link where a subfolder should be;
 * byte for byte. Plus the held folder's own promises: a link is never opened as a folder, the
 * open file is what gets the name, and a released folder refuses further calls.
 */

import { afterEach, describe, expect, test } from "bun:test";
import {
  closeSync,
  constants,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { FolderEntry } from "../../src/protocol/index.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { forceForTests } from "../../src/transfer/dir-calls.ts";
import { FileReceiver, FolderTargets, HeldDir } from "../../src/transfer/index.ts";
import { extractZipFolder } from "../../src/transfer/zip-extract.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";
import { type CraftEntry, craftZip, snapshotTree } from "../zip-craft.ts";

const tempDir = tempDirsRemovedAfterEach("parley-modes-");
afterEach(() => forceForTests(undefined));
const TOKEN = "ffeeddccbbaa99887766554433221100";

function trailerOf(bytes: Uint8Array): { bytes: number; algo: string; digest: string } {
  const d = createDigest("xxh3");
  d.update(bytes);
  return { bytes: bytes.length, algo: "xxh3", digest: d.hex() };
}

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe.each(["held", "proc-links", "by-name"] as const)("%s", (mode) => {
  const start = () => forceForTests(mode === "held" ? undefined : mode);

  test("a taken name gives name (1); a kept .part resumes with the same token", async () => {
    start();
    const dir = tempDir();
    writeFileSync(join(dir, "x.bin"), "someone's");
    const one = bytesOf(3000, 1);
    const first = FileReceiver.open(dir, "x.bin", 1, one.length, "xxh3", { token: TOKEN });
    first.write(one.subarray(0, 1000));
    first.abort(true); // the connection broke: kept for a resume
    expect(readdirSync(dir).sort()).toEqual(["x (1).bin.part", "x.bin"]);
    const again = FileReceiver.open(dir, "x.bin", 1, one.length, "xxh3", { token: TOKEN });
    expect(again.resumeOffset).toBe(1000);
    await again.hashPrefix();
    again.write(one.subarray(1000));
    expect(again.finish(trailerOf(one)).path).toBe(join(dir, "x (1).bin"));
    expect(readFileSync(join(dir, "x (1).bin")).equals(one)).toBe(true);
    expect(readFileSync(join(dir, "x.bin"), "utf8")).toBe("someone's");
    expect(readdirSync(dir).sort()).toEqual(["x (1).bin", "x.bin"]);
  });

  test("a folder's tree and empty folder are made, its marker goes at its end; a link for a subfolder is refused", () => {
    start();
    const dir = tempDir();
    const elsewhere = tempDir();
    const targets = new FolderTargets(dir);
    const entry = (path: string[], dirEntry = false): FolderEntry => ({
      group: 1,
      root: "photos",
      path,
      entries: 3,
      bytes: 100,
      ...(dirEntry ? { dir: true } : {}),
    });
    const bytes = bytesOf(100, 2);
    const parent = targets.parentDirFor(entry(["a", "b", "f.bin"]));
    const file = FileReceiver.open(parent, "f.bin", 1, bytes.length, "xxh3");
    parent.release();
    file.write(bytes);
    expect(file.finish(trailerOf(bytes)).path).toBe(join(dir, "photos", "a", "b", "f.bin"));
    const made = targets.dirFor(entry(["empty"], true));
    made.parent.release();
    // A local process puts a link where the next entry's subfolder goes: never followed.
    symlinkSync(elsewhere, join(dir, "photos", "c"));
    expect(() => targets.parentFor(entry(["c", "g.bin"]))).toThrow("is not a folder of ours");
    for (const [path, ok] of [
      [["a", "b", "f.bin"], true],
      [["empty"], true],
      [["c", "g.bin"], true],
    ] as const)
      targets.entryEnded(entry([...path]), ok);
    expect(readdirSync(join(dir, "photos")).sort()).toEqual(["a", "c", "empty"]);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(readFileSync(join(dir, "photos", "a", "b", "f.bin")).equals(bytes)).toBe(true);
    targets.close();
  });

  test("a zip is extracted into its folder, the working folder gone", async () => {
    start();
    const outer = tempDir();
    const downloads = join(outer, "dl");
    mkdirSync(downloads);
    const entries: CraftEntry[] = [
      { name: "a/b/one.txt", data: Buffer.from("one") },
      { name: "a/two.txt", data: Buffer.from("two") },
      { name: "a/b/three.txt", data: Buffer.from("three") },
      { name: "empty/", method: 0 },
    ];
    const zip = craftZip(entries);
    writeFileSync(join(outer, "in.zip"), zip);
    const done = await extractZipFolder(join(outer, "in.zip"), downloads, {
      dirname: "gift",
      zipsize: zip.length,
      numbytes: 11,
      numfiles: 3,
    });
    expect(done.path).toBe(join(downloads, "gift"));
    expect(snapshotTree(downloads).map((line) => line.split("\t")[0])).toEqual([
      "gift/",
      "gift/a/",
      "gift/a/b/",
      "gift/a/b/one.txt",
      "gift/a/b/three.txt",
      "gift/a/two.txt",
      "gift/empty/",
    ]);
    expect(readFileSync(join(downloads, "gift", "a", "b", "three.txt"), "utf8")).toBe("three");
  });
});

test.each(["held", "proc-links"] as const)(
  "%s: a link is never opened as a folder, files are made in the folder held wherever it moves, the open file gets the name, and released it refuses calls",
  (mode) => {
    forceForTests(mode === "held" ? undefined : mode);
    const dir = tempDir();
    const elsewhere = tempDir();
    const download = HeldDir.open(dir);
    download.makeDir("photos");
    const photos = download.openDir("photos");
    renameSync(join(dir, "photos"), join(dir, "moved"));
    symlinkSync(elsewhere, join(dir, "photos"));
    expect(() => download.openDir("photos")).toThrow();
    const fd = photos.openFile("a.part", constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
    writeSync(fd, "ours");
    // The .part's name is swapped for another's file: the open file is what gets the name.
    renameSync(join(dir, "moved", "a.part"), join(dir, "moved", "aside"));
    writeFileSync(join(dir, "moved", "a.part"), "theirs");
    expect(photos.link(fd, "a.part", "a")).toBe(true);
    closeSync(fd);
    expect(readFileSync(join(dir, "moved", "a"), "utf8")).toBe("ours");
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(() => photos.renameNoReplace("aside", "a")).toThrow("EEXIST");
    photos.release();
    expect(() => photos.makeDir("x")).toThrow("EBADF");
    download.release();
  },
);
