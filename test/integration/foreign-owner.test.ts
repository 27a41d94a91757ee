/**
 * Another user of the machine, in a download folder both can write (/tmp, a shared folder):
 * an unfinished folder or a `.part` that user made is never taken up, however well it is
 * marked (a marker's text is easy to copy; a `.part`'s mark can be read off an earlier one, and
 * a token-less offer's mark is "1"). Otherwise our files would be written into their inode or
 * their folder, where they can change them after they were verified, or swap a subfolder for a
 * link. Needs root (to make files another user owns); skipped otherwise.
 */

import { afterEach, expect, test } from "bun:test";
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { FolderEntry } from "../../src/protocol/index.ts";
import { createDigest } from "../../src/transfer/checksum.ts";
import { forceForTests } from "../../src/transfer/dir-calls.ts";
import { FolderTargets, UNFINISHED_MARKER, unfinishedMarkerText } from "../../src/transfer/folder-target.ts";
import { FileReceiver, HeldDir, TransferError } from "../../src/transfer/index.ts";
import { openResumable } from "../../src/transfer/part-files.ts";
import { markAsOurs } from "../../src/transfer/part-mark.ts";
import { replaceFreeSpaceForTests } from "../../src/transfer/space-claims.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const tempDir = tempDirsRemovedAfterEach("parley-foreign-");
afterEach(() => forceForTests(undefined));

test.skipIf(!ROOT)("a marked .part another user owns is not resumed into; our own is", () => {
  const dir = tempDir();
  const part = join(dir, "a.bin.part");
  writeFileSync(part, "abc");
  const fd = openSync(part, "r+");
  markAsOurs(fd, "0123456789abcdef0123456789abcdef");
  closeSync(fd);
  chownSync(part, NOBODY, NOBODY);
  const held = HeldDir.open(dir);
  expect(openResumable(held, "a.bin.part", 10, "0123456789abcdef0123456789abcdef")).toBeUndefined();
  chownSync(part, 0, 0);
  const ours = openResumable(held, "a.bin.part", 10, "0123456789abcdef0123456789abcdef");
  expect(ours).toBeNumber();
  closeSync(ours as number);
  held.release();
});

test.skipIf(!ROOT)("an unfinished folder another user owns is not taken up: the folder goes to a new one", () => {
  const dir = tempDir();
  const entry: FolderEntry = { group: 1, root: "photos", path: ["a.jpg"], entries: 2, bytes: 10 };
  mkdirSync(join(dir, "photos"));
  writeFileSync(join(dir, "photos", UNFINISHED_MARKER), unfinishedMarkerText(entry));
  chownSync(join(dir, "photos"), NOBODY, NOBODY);
  chownSync(join(dir, "photos", UNFINISHED_MARKER), NOBODY, NOBODY);
  expect(new FolderTargets(dir).parentFor(entry)).toBe(join(dir, "photos (1)"));
  // Ours (the same folder and marker, owned by us) is taken up.
  chownSync(join(dir, "photos"), 0, 0);
  chownSync(join(dir, "photos", UNFINISHED_MARKER), 0, 0);
  expect(new FolderTargets(dir).parentFor({ ...entry, group: 3 })).toBe(join(dir, "photos"));
});

for (const byName of [false, true]) {
  const how = byName ? "by name (no directory-relative calls)" : "through the held folder";
  test(`a .part another process put in place of ours (a folder without the sticky bit) is not stored as the verified file: ${how}`, () => {
    forceForTests(byName ? "by-name" : undefined);
    const dir = tempDir();
    const bytes = new TextEncoder().encode("the sender's verified bytes");
    const receiver = FileReceiver.open(dir, "report.pdf", 1, bytes.length, "xxh3");
    receiver.write(bytes);
    // Another user who can rename entries of the folder swaps the .part for a file of their own.
    renameSync(join(dir, "report.pdf.part"), join(dir, ".theirs-now"));
    writeFileSync(join(dir, "report.pdf.part"), "EVIL");
    const digest = createDigest("xxh3");
    digest.update(bytes);
    let err: unknown;
    try {
      receiver.finish({ bytes: bytes.length, algo: "xxh3", digest: digest.hex() });
    } catch (e) {
      err = e;
    } finally {
      forceForTests(undefined);
    }
    if (!byName) {
      // The open file itself is given its name (linkat by descriptor): the verified bytes, theirs left as they were.
      expect(err).toBeUndefined();
      expect(readFileSync(join(dir, "report.pdf"), "utf8")).toBe("the sender's verified bytes");
      expect(readFileSync(join(dir, "report.pdf.part"), "utf8")).toBe("EVIL");
      return;
    }
    expect(err, "finish stored the other process's file").toBeInstanceOf(TransferError);
    expect((err as TransferError).code).toBe("E_WRITE");
    expect((err as TransferError).message).toContain("another process replaced");
    expect(existsSync(join(dir, "report.pdf"))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith("report"))).toEqual([]);
  });
}

for (const byName of [false, true]) {
  const how = byName ? "by name (no directory-relative calls)" : "through the held folders";
  test(`a folder being received that another process moves and replaces with a link takes no more entries (they would follow the link): ${how}`, () => {
    forceForTests(byName ? "by-name" : undefined);
    const dir = tempDir();
    const elsewhere = tempDir(); // /etc/cron.d, say: anywhere the receiver can write
    const targets = new FolderTargets(dir);
    const entry = (name: string): FolderEntry => ({
      group: 1,
      root: "photos",
      path: ["sub", name],
      entries: 3,
      bytes: 30,
    });
    expect(targets.parentFor(entry("a.jpg"))).toBe(join(dir, "photos", "sub"));
    // Another user who can rename entries of the download folder (no sticky bit) swaps ours for a link.
    renameSync(join(dir, "photos"), join(dir, "photos-moved"));
    symlinkSync(elsewhere, join(dir, "photos"));
    let err: unknown;
    try {
      targets.parentFor(entry("b.jpg"));
    } catch (e) {
      err = e;
    }
    expect(err, "the entry went through the link").toBeInstanceOf(TransferError);
    expect((err as TransferError).code).toBe("E_WRITE");
    expect((err as TransferError).message).toContain("was moved or replaced by another process");
    expect(readdirSync(elsewhere)).toEqual([]);
    targets.entryEnded(entry("a.jpg"), false);
    targets.entryEnded(entry("b.jpg"), false);
    targets.entryEnded(entry("c.jpg"), false); // marker closed
  });

  test(`a folder swapped for a link while it is being made (before its device:inode is read) takes no entries either: ${how}`, () => {
    forceForTests(byName ? "by-name" : undefined);
    const dir = tempDir();
    const elsewhere = tempDir();
    const targets = new FolderTargets(dir);
    const entry = (name: string): FolderEntry => ({ group: 1, root: "photos", path: [name], entries: 2, bytes: 30 });
    // The folder's space is checked between its mkdir and the rest of its making: the swap happens there.
    replaceFreeSpaceForTests(() => {
      renameSync(join(dir, "photos"), join(dir, "photos-moved"));
      symlinkSync(elsewhere, join(dir, "photos"));
      return 2 ** 60; // room enough, whatever other tests promised meanwhile
    });
    const tries: unknown[] = [];
    try {
      for (const name of ["a.jpg", "b.jpg"]) {
        try {
          tries.push(targets.parentFor(entry(name)));
        } catch (err) {
          tries.push(err);
        }
      }
    } finally {
      replaceFreeSpaceForTests(undefined);
      for (const name of ["a.jpg", "b.jpg"]) targets.entryEnded(entry(name), false); // promise and marker go
    }
    // Neither entry may be given the link as its folder (the second was: an id never read matched one never read).
    for (const outcome of tries) {
      expect(outcome, "an entry went through the link").toBeInstanceOf(TransferError);
      expect((outcome as TransferError).message).toContain("was moved or replaced by another process");
    }
    expect(readdirSync(elsewhere).filter((name) => name !== UNFINISHED_MARKER)).toEqual([]);
  });
}

test("a named pipe put in place of a folder's marker (a group-writable folder) is not opened to wait on: the folder goes to a new one", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "photos"));
  Bun.spawnSync(["mkfifo", join(dir, "photos", UNFINISHED_MARKER)]);
  // In a process of its own: on the old code the open waited for a writer, and the whole
  // process with it (Ctrl-C too), until killed.
  const source = join(import.meta.dir, "../../src/transfer/folder-target.ts");
  const script = `const { FolderTargets } = await import(${JSON.stringify(source)});
    const entry = { group: 1, root: "photos", path: ["a.jpg"], entries: 2, bytes: 10 };
    console.log(new FolderTargets(${JSON.stringify(dir)}).parentFor(entry));`;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  clearTimeout(timer);
  expect(code, "still waiting on the pipe after 5 s (killed)").toBe(0);
  expect(out.trim()).toBe(join(dir, "photos (1)"));
});
