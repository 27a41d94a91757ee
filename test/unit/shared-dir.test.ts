/**
 * sharedDirWarning: one line when other users can change the download folder (writable by
 * others, or by a group with other members, without the sticky bit; or owned by another user),
 * none for a folder only we or root can change, or a sticky one (/tmp). othersInGroup: who
 * else is in the folder's group, by the user and group lists. statFoldersUp and downloadDirWarning:
 * the folder and each above it, stat'ed at once, judged from the folder up.
 */

import { expect, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import { downloadDirWarning, othersInGroup, sharedDirWarning, statFoldersUp } from "../../src/cli/shared-dir.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-shared-dir-");

const DIR = 0o040000;
const ME = 1000;
const MY_GROUP = 1000;
const STAFF = 50;
const RISK = "files received there could be swapped before they are stored; use a folder only you can write to.";

/** The warning for /srv/dl of `mode`, owned by `uid`, in group `gid`; `others`: that group has other members. */
function warning(mode: number, uid = ME, gid = MY_GROUP, others = gid !== MY_GROUP): string | undefined {
  return sharedDirWarning("/srv/dl", { mode: DIR | mode, uid, gid }, ME, () => others);
}

const OWN: readonly (readonly [number, string | undefined])[] = [
  [0o777, `Warning: other users can change /srv/dl (mode 0777, no sticky bit): ${RISK}`],
  [0o757, `Warning: other users can change /srv/dl (mode 0757, no sticky bit): ${RISK}`],
  [0o1777, undefined],
  [0o755, undefined],
  [0o700, undefined],
  [0o2700, undefined],
];

test.each(OWN.map(([mode, line]) => [mode.toString(8), mode, line] as const))(
  "our own folder of mode %s",
  (_octal, mode, line) => {
    expect(warning(mode)).toBe(line);
  },
);

test("group-writable: warned when the group has other members, not when it is ours alone, nor when sticky", () => {
  expect(warning(0o775, ME, STAFF)).toBe(
    `Warning: other users can change /srv/dl (mode 0775, writable by group 50, no sticky bit): ${RISK}`,
  );
  expect(warning(0o2770, ME, STAFF)).toBe(
    `Warning: other users can change /srv/dl (mode 2770, writable by group 50, no sticky bit): ${RISK}`,
  );
  expect(warning(0o775, ME, MY_GROUP)).toBeUndefined();
  expect(warning(0o1775, ME, STAFF)).toBeUndefined();
  // Not group-writable: the group is not asked about.
  expect(sharedDirWarning("/srv/dl", { mode: DIR | 0o755, uid: ME, gid: STAFF }, ME, () => expect.unreachable())).toBe(
    undefined,
  );
});

test("owner: root's or ours is fine; another user's is warned about, sticky or not", () => {
  expect(warning(0o755, 0, 0)).toBeUndefined();
  expect(warning(0o1777, 0, 0)).toBeUndefined(); // /tmp
  expect(warning(0o777, 0, 0)).toBe(`Warning: other users can change /srv/dl (mode 0777, no sticky bit): ${RISK}`);
  const foreign = `Warning: /srv/dl belongs to another user (uid 1001, mode 0700), who can change it: ${RISK}`;
  expect(warning(0o700, 1001, 1001)).toBe(foreign);
  expect(warning(0o1777, 1001, 1001)).toBe(foreign.replace("0700", "1777"));
  // Root receiving into root's folder, or into a user's.
  expect(sharedDirWarning("/srv/dl", { mode: DIR | 0o755, uid: 0, gid: 0 }, 0, () => false)).toBeUndefined();
  expect(sharedDirWarning("/srv/dl", { mode: DIR | 0o755, uid: ME, gid: 0 }, 0, () => false)).toBe(
    `Warning: /srv/dl belongs to another user (uid 1000, mode 0755), who can change it: ${RISK}`,
  );
});

test("no uid (no POSIX users): nothing; a path with escapes is shown, not run", () => {
  expect(sharedDirWarning("/srv/dl", { mode: DIR | 0o777, uid: 0, gid: 0 }, undefined, () => true)).toBeUndefined();
  const line = sharedDirWarning("/srv/\x1b[2Jdl", { mode: DIR | 0o777, uid: ME, gid: ME }, ME, () => true);
  expect(line).not.toContain("\x1b");
  expect(line).toStartWith("Warning: other users can change /srv/");
});

const PASSWD = `root:x:0:0:root:/root:/bin/bash
me:x:1000:1000::/home/me:/bin/bash
bob:x:1001:1001::/home/bob:/bin/bash
svc:x:998:50::/srv:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
staff:x:50:
me:x:1000:
bob:x:1001:
team:x:60:me,bob
mine:x:70:me,root
`;

test("othersInGroup: by membership and by primary group; us and root do not count", () => {
  expect(othersInGroup(1000, 1000, PASSWD, GROUP)).toBe(false); // our private group
  expect(othersInGroup(60, 1000, PASSWD, GROUP)).toBe(true); // bob is a member
  expect(othersInGroup(70, 1000, PASSWD, GROUP)).toBe(false); // us and root
  expect(othersInGroup(50, 1000, PASSWD, GROUP)).toBe(true); // svc's primary group
  expect(othersInGroup(1001, 1000, PASSWD, GROUP)).toBe(true); // bob's
  expect(othersInGroup(0, 1000, PASSWD, GROUP)).toBe(false); // root's only
  expect(othersInGroup(4242, 1000, PASSWD, GROUP)).toBe(false); // unknown here
});

test("a folder above the download folder: the same rule, said of that folder, with what it risks", () => {
  const ABOVE =
    "the download folder could be swapped for another (or a link to one of yours) before it is opened; use a folder only you can write to.";
  const above = (mode: number, uid = ME, gid = MY_GROUP, others = gid !== MY_GROUP) =>
    sharedDirWarning("/srv", { mode: DIR | mode, uid, gid }, ME, () => others, "/srv/dl");
  expect(above(0o777)).toBe(
    `Warning: other users can change /srv (mode 0777, no sticky bit), a folder above the download folder /srv/dl: ${ABOVE}`,
  );
  expect(above(0o775, ME, STAFF)).toBe(
    `Warning: other users can change /srv (mode 0775, writable by group 50, no sticky bit), a folder above the download folder /srv/dl: ${ABOVE}`,
  );
  expect(above(0o755, 1001, 1001)).toBe(
    `Warning: /srv, a folder above the download folder /srv/dl, belongs to another user (uid 1001, mode 0755), who can change it: ${ABOVE}`,
  );
  expect(above(0o1777, 0, 0)).toBeUndefined(); // /tmp
  expect(above(0o755, 0, 0)).toBeUndefined(); // /home
  expect(above(0o700)).toBeUndefined();
});

test("statFoldersUp: the folder, then each folder above it up to /, in order; one that cannot be stat'ed has none", async () => {
  const base = tempDir();
  mkdirSync(`${base}/a`);
  const up = await statFoldersUp(`${base}/a/missing`);
  const paths = up.map((f) => f.path);
  expect(paths.slice(0, 3)).toEqual([`${base}/a/missing`, `${base}/a`, base]);
  expect(paths.at(-1)).toBe("/");
  expect(paths).toHaveLength(base.split("/").length + 2);
  expect(up[0]?.stat).toBeUndefined();
  expect(up[1]?.stat?.isDirectory()).toBe(true);
  expect((await statFoldersUp("/")).map((f) => f.path)).toEqual(["/"]);
});

test.skipIf(process.getuid?.() === undefined)(
  "downloadDirWarning judges the folders from the download folder up: one others can write above it is named, with the folder below",
  async () => {
    const base = tempDir();
    mkdirSync(`${base}/open/dl`, { recursive: true });
    chmodSync(`${base}/open`, 0o777); // others may write, no sticky bit
    const line = await downloadDirWarning(`${base}/open/dl`);
    expect(line).toStartWith(
      `Warning: other users can change ${base}/open (mode 0777, no sticky bit), a folder above the download folder ${base}/open/dl:`,
    );
    // The same from stats asked for before (the chat's start-up asks once for the folder's own check and this).
    expect(await downloadDirWarning(`${base}/open/dl`, statFoldersUp(`${base}/open/dl`))).toBe(line);
    chmodSync(`${base}/open`, 0o755);
    expect(await downloadDirWarning(`${base}/open/dl`)).toBeUndefined();
    expect(await downloadDirWarning(`${base}/gone`)).toBeUndefined(); // cannot be stat'ed: the command's checks say why
  },
);
