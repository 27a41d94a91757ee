/**
 * download-dir.ts: absolutePath is node:path's resolve for POSIX paths (the chat's start-up
 * does without node:path), checked on every path of up to four awkward segments against
 * several working directories; prepareDownloadDirSoon gives prepareDownloadDir's results and
 * errors; a link another user planted on the way is refused (planted-link.ts).
 */

import { expect, test } from "bun:test";
import { chmodSync, constants, lchownSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import {
  absolutePath,
  downloadDirProblem,
  makeNameByName,
  modeLetsUsSave,
  prepareDownloadDir,
  prepareDownloadDirSoon,
} from "../../src/cli/download-dir.ts";
import { plantedLinkProblem } from "../../src/cli/planted-link.ts";
import { type DirCalls, dirCalls } from "../../src/transfer/dir-calls.ts";
import { normalUser } from "../normal-user.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-dir-");
const SEGMENTS = ["", ".", "..", "...", "a", "b c", ".x", "x.", "~", "a/", "/", "//", "../..", "./b"];
const CWDS = ["/", "/w", "/w/x y", "/w/x/", "/.."];

function* paths(depth: number): Generator<string> {
  if (depth === 0) {
    yield "";
    return;
  }
  for (const head of paths(depth - 1)) for (const s of SEGMENTS) yield head === "" ? s : `${head}/${s}`;
}

test("absolutePath is node:path's resolve on every path of up to four segments", () => {
  let checked = 0;
  for (const cwd of CWDS) {
    for (let depth = 1; depth <= 4; depth++) {
      for (const p of paths(depth)) {
        for (const path of [p, `/${p}`]) {
          const ours = absolutePath(path, cwd);
          if (ours !== posix.resolve(cwd, path))
            expect({ cwd, path, ours }).toEqual({ cwd, path, ours: posix.resolve(cwd, path) });
          checked++;
        }
      }
    }
  }
  expect(checked).toBeGreaterThan(300_000);
});

test("absolutePath defaults to the process's folder", () => {
  expect(absolutePath("some/dir")).toBe(posix.resolve("some/dir"));
  expect(absolutePath("")).toBe(process.cwd());
});

test("prepareDownloadDirSoon: an existing folder, a new one (made), a file and an unusable path as prepareDownloadDir", async () => {
  const root = tempDir();
  writeFileSync(join(root, "file"), "x");
  expect(await prepareDownloadDirSoon(root)).toBe(root);
  expect(await prepareDownloadDirSoon(`${root}/new/deeper/`)).toBe(`${root}/new/deeper`);
  expect(prepareDownloadDir(`${root}/new/deeper`)).toBe(`${root}/new/deeper`);
  for (const bad of [`${root}/file`, `${root}/file/below`]) {
    const sync = (() => {
      try {
        prepareDownloadDir(bad);
        return "no error";
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(sync).not.toBe("no error");
    await expect(prepareDownloadDirSoon(bad)).rejects.toThrow(sync);
  }
});

test("a --dir that cannot be made or used is said in words (no 'ENOTDIR: ..., mkdir')", () => {
  const root = tempDir();
  writeFileSync(join(root, "file"), "x");
  expect(() => prepareDownloadDir(`${root}/file/below`)).toThrow(
    new RegExp(`^cannot create --dir ${root}/file/below: a part of the path is not a directory$`),
  );
  expect(() => prepareDownloadDir(`${root}/file`)).toThrow(new RegExp(`^--dir ${root}/file is not a directory$`));
});

test("--dir naming a folder whose name is not UTF-8 (Bun hands it over with U+FFFD) is refused: no look-alike folder is made and used instead", async () => {
  const parent = tempDir();
  mkdirSync(Buffer.concat([Buffer.from(`${parent}/`), Buffer.from([0xff])]));
  const asGiven = join(parent, "\uFFFD");
  for (const prepare of [prepareDownloadDir, prepareDownloadDirSoon]) {
    await expect(async () => prepare(asGiven)).toThrow(
      `cannot use --dir ${asGiven}: the name of the folder ${asGiven} is not UTF-8 text, so Parley cannot open it (rename that folder, or choose another --dir)`,
    );
  }
  // Or a folder on its way, the rest to be created.
  expect(() => prepareDownloadDir(join(asGiven, "new"))).toThrow(`the name of the folder ${asGiven} is not UTF-8 text`);
  expect(readdirSync(parent, { encoding: "buffer" })).toEqual([Buffer.from([0xff])]);
  // A folder really named U+FFFD (valid UTF-8) is fine.
  mkdirSync(join(parent, "ok \uFFFD"));
  expect(prepareDownloadDir(join(parent, "ok \uFFFD"))).toBe(join(parent, "ok \uFFFD"));
  rmSync(parent, { recursive: true });
});

/** access(2) that refuses the bits in `denied` (EACCES), as the kernel does for a normal user. */
function accessDenying(denied: number): (path: string, mode: number) => void {
  return (_path, mode) => {
    if ((mode & denied) !== 0) throw Object.assign(new Error("EACCES: permission denied, access"), { code: "EACCES" });
  };
}

test("a folder this user may write in but not read (0300, a drop folder) cannot take files: the receiver opens the folder it saves into", () => {
  expect(downloadDirProblem("/d", accessDenying(0))).toBeUndefined();
  expect(downloadDirProblem("/d", accessDenying(constants.W_OK))).toBe("permission denied");
  expect(downloadDirProblem("/d", accessDenying(constants.R_OK))).toBe(
    "this user may create files in it but not read it (permission denied), and Parley opens the folder it saves into",
  );
});

test("the chat's quick look by mode bits asks read, write and search of the class that applies; root passes", () => {
  const DIR = 0o040000;
  const me = 1000;
  const other = 1001;
  expect(modeLetsUsSave({ uid: me, gid: 4242, mode: DIR | 0o700 }, me)).toBe(true);
  expect(modeLetsUsSave({ uid: me, gid: 4242, mode: DIR | 0o300 }, me)).toBe(false);
  expect(modeLetsUsSave({ uid: me, gid: 4242, mode: DIR | 0o500 }, me)).toBe(false);
  expect(modeLetsUsSave({ uid: other, gid: 4242, mode: DIR | 0o1733 }, me)).toBe(false); // a drop folder of another user
  expect(modeLetsUsSave({ uid: other, gid: 4242, mode: DIR | 0o1777 }, me)).toBe(true);
  expect(modeLetsUsSave({ uid: other, gid: 4242, mode: DIR | 0o300 }, 0)).toBe(true);
});

const user = normalUser("parley-dir-user-");

user.test(
  "a real write-only --dir (0300) is refused at start, in one line, as a normal user meets it (nobody, when the tests run as root)",
  () => {
    const dir = user.folder(0o300);
    const module = join(user.root(), "src/cli/download-dir.ts");
    const run = Bun.spawnSync(
      [
        user.bun(),
        "-e",
        `import { prepareDownloadDir, prepareDownloadDirSoon } from ${JSON.stringify(module)};
       const dir = ${JSON.stringify(dir)};
       const said = [];
       try { prepareDownloadDir(dir); said.push("taken"); } catch (err) { said.push(err.message); }
       await prepareDownloadDirSoon(dir).then(() => said.push("taken"), (err) => said.push(err.message));
       console.log(JSON.stringify(said));`,
      ],
      { ...user.ids, cwd: user.root(), env: { ...process.env, ...user.env() }, stderr: "pipe" },
    );
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    const line = `cannot save received files in ${dir}: this user may create files in it but not read it (permission denied), and Parley opens the folder it saves into (--dir chooses another folder)`;
    expect(JSON.parse(run.stdout.toString())).toEqual([line, line]);
  },
);

/** A sticky world-writable folder (as /tmp) and another folder of mode `mode`, side by side. */
function stickyAndOther(mode: number): { sticky: string; other: string } {
  const base = tempDir();
  const sticky = join(base, "sticky");
  const other = join(base, "other");
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777); // mkdir's mode passes the umask
  mkdirSync(other);
  chmodSync(other, mode);
  return { sticky, other };
}

test.skipIf(process.getuid?.() !== 0)(
  "a --dir reached through a link another user planted in a sticky world-writable folder is refused; our own link is followed",
  () => {
    const { sticky, other: ours } = stickyAndOther(0o700);
    symlinkSync(ours, join(sticky, "incoming"));
    lchownSync(join(sticky, "incoming"), 65534, 65534);
    // Before: the files went into `ours`, which uid 65534 chose, without a word.
    expect(() => prepareDownloadDir(join(sticky, "incoming"))).toThrow(
      `${join(sticky, "incoming")} is a symbolic link (to ${ours}) that another user (uid 65534) made in ${sticky}, a folder anyone can write`,
    );
    expect(() => prepareDownloadDir(join(sticky, "incoming", "deeper"))).toThrow("another user (uid 65534)");
    expect(readdirSync(ours)).toEqual([]);
    lchownSync(join(sticky, "incoming"), 0, 0);
    expect(prepareDownloadDir(join(sticky, "incoming"))).toBe(join(sticky, "incoming"));
  },
);

/** dir-calls.ts's calls, each mkdirat and openat counted, and `beforeMkdir` run before each mkdirat (a race's stand-in). */
function countedCalls(beforeMkdir: (dirfd: number, name: string) => void = () => {}) {
  const real = dirCalls() as DirCalls;
  const counted = { openat: 0, mkdirat: 0 };
  const calls: DirCalls = {
    ...real,
    openat: (...args) => {
      counted.openat++;
      return real.openat(...args);
    },
    mkdirat: (dirfd, name, mode) => {
      counted.mkdirat++;
      beforeMkdir(dirfd, name);
      real.mkdirat(dirfd, name, mode);
    },
  };
  return { calls, counted };
}

/**
 * The 2,000-deep cases' time limit: 1-2 s on a quiet machine, 5.5-6.3 s at load 10, past bun
 * test's 5 s default when the file runs alone (the README's command gives every case 60 s).
 */
const DEEP_MS = 30_000;

/** rm -rf `dir` (2,000 folders deep: node:fs's recursive rmSync took 26 s on one here, GNU rm 2 s). */
function removeDeep(dir: string): void {
  expect(Bun.spawnSync(["rm", "-rf", dir]).exitCode).toBe(0);
}

test.skipIf(dirCalls() === null)(
  "--dir of 2,000 missing names: each made and opened once relative to the folder before it (by path each name was a walk from /: over 60 s)",
  () => {
    const base = tempDir();
    const path = `${base}${"/d".repeat(2000)}`; // 4,000 characters: under PATH_MAX, so the by-path calls after it work too
    const { calls, counted } = countedCalls();
    expect(makeNameByName(path, require("node:fs"), calls)).toBeUndefined();
    const above = base.split("/").filter((n) => n !== "").length;
    // One openat a name (and /, and the look that found the first missing), one mkdirat a missing
    // one: not a walk from / per name for each of its calls.
    expect(counted).toEqual({ openat: 1 + above + 1 + 2000, mkdirat: 2000 });
    expect(prepareDownloadDir(path)).toBe(path);
    expect(readdirSync(`${base}${"/d".repeat(1999)}`)).toEqual(["d"]);
    removeDeep(base);
  },
  DEEP_MS,
);

test.skipIf(process.getuid?.() !== 0 || dirCalls() === null)(
  "--dir of 2,000 names while another user plants a link on the 1,000th (in a sticky folder the walk made): refused there, nothing made past it",
  () => {
    const { other: theirs } = stickyAndOther(0o777);
    const base = tempDir();
    const path = `${base}${"/d".repeat(2000)}`;
    const middle = `${base}${"/d".repeat(1000)}`;
    const holder = `${base}${"/d".repeat(999)}`;
    let planted = false;
    const { calls } = countedCalls((_, name) => {
      // The 1,000th name is about to be made: its folder is now a /tmp of theirs to write in, and they were quicker.
      if (planted || !require("node:fs").existsSync(holder) || require("node:fs").existsSync(middle)) return;
      planted = true;
      chmodSync(holder, 0o1777);
      symlinkSync(theirs, join(holder, name));
      lchownSync(join(holder, name), 65534, 65534);
    });
    expect(makeNameByName(path, require("node:fs"), calls)).toBe(
      `${middle} is a symbolic link (to ${theirs}) that another user (uid 65534) made in ${holder}, a folder anyone can write: following it would save what you receive where that user chose (the kernel's protected_symlinks rule); name the folder itself`,
    );
    expect(planted).toBe(true);
    expect(readdirSync(theirs)).toEqual([]);
    removeDeep(base);
  },
  DEEP_MS,
);

test.skipIf(process.getuid?.() !== 0)(
  "--dir a/b made while another user puts a link in place of the missing a: nothing is made where the link leads (the walk by fd, and by path)",
  () => {
    for (const byPath of [false, true]) {
      const { sticky, other: theirs } = stickyAndOther(0o777);
      const fs = require("node:fs") as typeof import("node:fs");
      const realMkdir = fs.mkdirSync;
      // The other user's link lands after the first look and before the first mkdir under sticky.
      let planted = false;
      const plant = (at: string) => {
        if (planted || !at.startsWith(`${sticky}/`)) return;
        planted = true;
        symlinkSync(theirs, join(sticky, "a"));
        lchownSync(join(sticky, "a"), 65534, 65534);
      };
      fs.mkdirSync = ((path: string, options?: unknown) => {
        plant(String(path));
        return realMkdir(path, options as Parameters<typeof realMkdir>[1]);
      }) as typeof fs.mkdirSync;
      const { calls } = countedCalls((_, name) => plant(`${sticky}/${name}`));
      try {
        expect(makeNameByName(join(sticky, "a", "b"), fs, byPath ? null : calls)).toBe(
          `${join(sticky, "a")} is a symbolic link (to ${theirs}) that another user (uid 65534) made in ${sticky}, a folder anyone can write: following it would save what you receive where that user chose (the kernel's protected_symlinks rule); name the folder itself`,
        );
      } finally {
        fs.mkdirSync = realMkdir;
      }
      expect(planted).toBe(true);
      // Before: a recursive mkdir made b in the folder the link led to, then the second look refused it.
      expect(readdirSync(theirs)).toEqual([]);
    }
  },
);

test.skipIf(process.getuid?.() !== 0)(
  "a --dir that is our own link to a name where another user put a link in a sticky folder is refused: the target's names are judged too",
  () => {
    const { sticky, other: theirs } = stickyAndOther(0o777);
    // Ours (root's), relative: incoming -> dl; theirs, in the sticky folder: dl -> their folder.
    symlinkSync("dl", join(sticky, "incoming"));
    symlinkSync(theirs, join(sticky, "dl"));
    lchownSync(join(sticky, "dl"), 65534, 65534);
    // Before: taken, and what was received was saved in `theirs` (with fs.protected_symlinks=0).
    expect(() => prepareDownloadDir(join(sticky, "incoming"))).toThrow(
      `${join(sticky, "dl")} is a symbolic link (to ${theirs}) that another user (uid 65534) made in ${sticky}, a folder anyone can write`,
    );
    expect(downloadDirProblem(join(sticky, "incoming"))).toStartWith(`${join(sticky, "dl")} is a symbolic link`);
    lchownSync(join(sticky, "dl"), 0, 0);
    expect(prepareDownloadDir(join(sticky, "incoming"))).toBe(join(sticky, "incoming"));
  },
);

test("plantedLinkProblem: the kernel's protected_symlinks rule, name by name", () => {
  const file = (uid: number, mode: number, link = false) => ({ uid, mode, isSymbolicLink: () => link });
  const tree: Record<string, ReturnType<typeof file>> = {
    "/": file(0, 0o755),
    "/tmp": file(0, 0o1777),
    "/tmp/theirs": file(65534, 0o777, true),
    "/tmp/mine": file(1000, 0o777, true),
    "/tmp/roots": file(0, 0o777, true),
    "/home": file(0, 0o755),
    "/home/bob": file(65534, 0o1777),
    "/home/bob/link": file(65534, 0o777, true),
    "/shared": file(0, 0o777),
    "/shared/link": file(65534, 0o777, true),
    "/group": file(0, 0o1775),
    "/group/link": file(65534, 0o777, true),
  };
  const calls = {
    lstat: (p: string) => tree[p],
    stat: (p: string) => tree[p],
    readlink: () => "/etc/cron.d\u001b[2J",
  };
  const problem = (path: string) => plantedLinkProblem(path, 1000, calls);
  expect(problem("/tmp/theirs")).toStartWith(
    "/tmp/theirs is a symbolic link (to /etc/cron.d^[[2J) that another user (uid 65534) made in /tmp",
  );
  expect(problem("/tmp/theirs/in/deeper")).toStartWith("/tmp/theirs is a symbolic link");
  expect(problem("/tmp/mine")).toBeUndefined(); // ours
  expect(problem("/tmp/roots")).toBeUndefined(); // root's
  expect(problem("/home/bob/link")).toBeUndefined(); // the sticky folder's owner's
  expect(problem("/shared/link")).toBeUndefined(); // not sticky: shared-dir.ts warns of that folder
  expect(problem("/group/link")).toBeUndefined(); // not world-writable
  expect(plantedLinkProblem("/tmp/theirs", undefined, calls)).toBeUndefined(); // no user ids
});

test("plantedLinkProblem follows each link as the kernel does: the names of its target are judged too", () => {
  const file = (uid: number, mode: number, target?: string) => ({ uid, mode, target, isSymbolicLink: () => !!target });
  const tree: Record<string, ReturnType<typeof file>> = {
    "/": file(0, 0o755),
    "/home": file(0, 0o755),
    "/home/me": file(1000, 0o700),
    "/home/me/in": file(1000, 0o777, "/tmp/dl/sub"), // ours, absolute
    "/home/me/rel": file(1000, 0o777, "../../tmp/dl"), // ours, relative, with ..
    "/home/me/loop": file(1000, 0o777, "loop"),
    "/tmp": file(0, 0o1777),
    "/tmp/dl": file(65534, 0o777, "/srv/theirs"), // theirs, in /tmp
    "/tmp/ok": file(1000, 0o777, "/home/me"),
  };
  const calls = {
    lstat: (p: string) => tree[p],
    stat: (p: string) => tree[p],
    readlink: (p: string) => tree[p]?.target,
  };
  const problem = (path: string) => plantedLinkProblem(path, 1000, calls);
  expect(problem("/home/me/in")).toStartWith(
    "/tmp/dl is a symbolic link (to /srv/theirs) that another user (uid 65534) made in /tmp",
  );
  expect(problem("/home/me/rel/deeper")).toStartWith("/tmp/dl is a symbolic link");
  expect(problem("/tmp/ok/in")).toStartWith("/tmp/dl is a symbolic link"); // ours, then ours, then theirs
  expect(problem("/tmp/ok")).toBeUndefined();
  expect(problem("/home/me/loop")).toBeUndefined(); // a loop: the open says ELOOP itself
});
