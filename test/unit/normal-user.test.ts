/**
 * test/normal-user.ts's own hygiene (review20, items 2 and 4): the view a run makes for its child
 * (nobody, as root) carries the run's pid, and a later run sweeps the views of runs that are
 * gone, as the warm-up's leftovers are; a TMPDIR under a folder only root may enter no longer
 * walks the view up to `/`; and the child gets a temporary folder it may enter and write.
 */

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { normalUser, sweepDeadViews, VIEW_MIN_AGE_MS, VIEW_PREFIX, viewBase } from "../normal-user.ts";

const base = mkdtempSync(join(tmpdir(), "parley-views-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

test("sweepDeadViews removes a dead run's view, unchanged long enough; never a live run's, a young one, a link or another name", () => {
  const DEAD = 4_000_001;
  const LIVE = 4_000_002;
  const old = (Date.now() - VIEW_MIN_AGE_MS - 60_000) / 1000;
  const view = (name: string, age = old) => {
    const path = join(base, name);
    mkdirSync(join(path, "src"), { recursive: true });
    writeFileSync(join(path, "src", "main.ts"), "");
    utimesSync(path, age, age);
    return path;
  };
  view(`${VIEW_PREFIX}${DEAD}-parley-dir-user-aaaaaa`);
  view(`${VIEW_PREFIX}${LIVE}-parley-dir-user-bbbbbb`);
  view(`${VIEW_PREFIX}${DEAD}-young-cccccc`, Date.now() / 1000);
  view(`parley-warm-${DEAD}-dddddd`);
  const target = view("someone-elses");
  symlinkSync(target, join(base, `${VIEW_PREFIX}${DEAD}-link-eeeeee`));
  const removed = sweepDeadViews(base, (pid) => pid === LIVE);
  expect(removed).toEqual([`${VIEW_PREFIX}${DEAD}-parley-dir-user-aaaaaa`]);
  expect(sweepDeadViews(base, (pid) => pid === LIVE)).toEqual([]);
});

test("viewBase: the nearest folder above TMPDIR every user may enter; /tmp (never /) when the walk ends at /", () => {
  const modes: Record<string, number> = { "/tmp": 0o41777, "/tmp/run": 0o40700, "/root": 0o40700, "/srv": 0o40755 };
  const modeOf = (path: string) => {
    const mode = modes[path];
    if (mode === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return mode;
  };
  expect(viewBase("/tmp/run", modeOf)).toBe("/tmp");
  expect(viewBase("/root/tmp", modeOf)).toBe("/tmp"); // was `/`: the view made at the file system's root
  expect(viewBase("/srv/x", modeOf)).toBe("/srv");
});

const user = normalUser("parley-user-self-");

const viewed = normalUser("parley-user-times-");

viewed.test(
  "making the view moves no inode change time in the checkout (src/cli/launch.sh would pass the build over)",
  () => {
    const repo = join(import.meta.dir, "../..");
    const watched = [
      "src/cli/main.ts",
      "src/protocol/frame-decoder.ts",
      "package.json",
      "tsconfig.json",
      "bunfig.toml",
    ];
    const changed = () => watched.map((path) => `${path} ${statSync(join(repo, path)).ctimeMs}`);
    const before = changed();
    expect(Bun.file(join(viewed.root(), "src/cli/main.ts")).size).toBeGreaterThan(0);
    expect(changed()).toEqual(before);
  },
);

user.test("the child's view is named with this run's pid, and its TMPDIR is one it may write in", () => {
  if (process.getuid?.() === 0) {
    expect(basename(user.root())).toStartWith(`${VIEW_PREFIX}${process.pid}-`);
    expect(dirname(user.root())).toBe(viewBase());
  }
  const run = Bun.spawnSync(
    [
      user.bun(),
      "-e",
      `const { mkdtempSync, rmSync } = require("node:fs");
       const dir = mkdtempSync(require("node:path").join(require("node:os").tmpdir(), "x-"));
       rmSync(dir, { recursive: true });
       console.log("made");`,
    ],
    { ...user.ids, cwd: user.root(), env: { ...process.env, ...user.env() }, stderr: "pipe" },
  );
  expect(run.stdout.toString(), run.stderr.toString()).toBe("made\n");
});
