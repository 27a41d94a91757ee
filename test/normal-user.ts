/**
 * Test helper: Parley run as a normal user, for the cases only such a user meets (a folder it
 * may write in but not read, a state folder it cannot write). Root passes every mode check, and
 * CI runs the suite as root, so there the child runs as nobody (uid and gid 65534: Bun.spawn's
 * `uid`/`gid`, which also drop the supplementary groups and every capability).
 *
 * Nobody must reach what the child runs, and a checkout may sit in a folder only root can enter
 * (a CI clone in `mktemp -d`, mode 0700; /root). So as root the child runs from a view made
 * once per test file in the nearest folder above the temporary folder every user may enter
 * (viewBase: the run's own TMPDIR is 0700; /tmp when that walk would end at `/`), every folder
 * 0755: src/, the package files, the runtime packages (package.json's dependencies, walked) and
 * the bun binary, all hard links (no bytes copied: 6-15 ms; a copy where the temporary folder
 * is on another file system: 60-140 ms, Bun's 107 MB binary). It is removed after the file's
 * tests; a run killed before that leaves it, so its name carries the run's pid
 * (`parley-view-<pid>-...`) and each run first sweeps the views of runs that are gone
 * (sweepDeadViews), as src/cli/warm-up-leftovers.ts does for the warm-up's folders.
 * The child gets a temporary folder of its own (env(): TMPDIR), not the run's it cannot enter.
 * As a normal user everything is this user's own: the repository and Bun as they are.
 */

import { afterAll, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { processAlive } from "../src/cli/warm-up-leftovers.ts";

/** The repository root. */
const REPO = resolve(import.meta.dir, "..");
/** nobody and nogroup (the kernel's overflow ids): no file of the checkout is theirs. */
const NOBODY = 65534;

export interface NormalUser {
  /**
   * `test`, or a skipping one (said on stderr) where root cannot start a child as nobody: a
   * container that may not switch users, or that has no user 65534.
   */
  readonly test: typeof test;
  /** Bun.spawn's `uid` and `gid` for the child: nobody's when the tests run as root, else none. */
  readonly ids: { readonly uid?: number; readonly gid?: number };
  /** The bun binary, as that user may run it. */
  bun(): string;
  /** The repository (or its view), as that user may read it: run the child in it. */
  root(): string;
  /** A new folder that user owns, with `mode`, in a folder it may enter. */
  folder(mode: number): string;
  /**
   * What the child's environment adds: as root a TMPDIR of its own (nobody's, 0700, in the view),
   * since the run's (0700, root's) is one it cannot enter; else nothing (the run's is this user's).
   */
  env(): Readonly<Record<string, string>>;
}

/** The start of a view's name: the run's pid follows, so a later run can tell a dead run's view. */
export const VIEW_PREFIX = "parley-view-";
const VIEW_NAME = /^parley-view-(\d+)-/;
/**
 * A view is swept only once unchanged this long (ms): a process gone to us may be a live run in
 * another pid namespace sharing /tmp; a test file adds to its view within seconds.
 */
export const VIEW_MIN_AGE_MS = 10 * 60_000;

/**
 * Call once at a test file's top level: the view and the folders are removed after the file's
 * tests. `prefix` names the temporary folders.
 */
export function normalUser(prefix: string): NormalUser {
  const asRoot = process.getuid?.() === 0;
  const made: string[] = [];
  let view: string | undefined;
  afterAll(() => {
    for (const dir of made.splice(0)) {
      chmodSync(dir, 0o700); // a 0300 or 0500 folder: a normal user must read it to empty it
      rmSync(dir, { recursive: true, force: true });
    }
    if (view) rmSync(view, { recursive: true, force: true });
  });
  let childTmp: string | undefined;
  const viewOnce = (): string => {
    if (view) return view;
    const base = viewBase();
    if (!swept) {
      swept = true;
      sweepDeadViews(base);
    }
    const fresh = mkdtempSync(join(base, `${VIEW_PREFIX}${process.pid}-${prefix}`));
    try {
      fillView(fresh);
    } catch (err) {
      rmSync(fresh, { recursive: true, force: true }); // a view half made would fail each test anew
      throw err;
    }
    view = fresh;
    return view;
  };
  const unavailable = asRoot ? nobodyUnavailable() : undefined;
  if (unavailable !== undefined) {
    process.stderr.write(
      `SKIPPED (${prefix}): the cases of a normal user need a child run as nobody, and ${unavailable}\n`,
    );
  }
  const user: NormalUser = {
    test: test.skipIf(unavailable !== undefined),
    ids: asRoot ? { uid: NOBODY, gid: NOBODY } : {},
    bun: () => (asRoot ? join(viewOnce(), "bun") : process.execPath),
    root: () => (asRoot ? viewOnce() : REPO),
    folder(mode) {
      const dir = mkdtempSync(join(asRoot ? viewOnce() : tmpdir(), prefix));
      made.push(dir);
      if (asRoot) chownSync(dir, NOBODY, NOBODY);
      chmodSync(dir, mode);
      return dir;
    },
    env(): Readonly<Record<string, string>> {
      if (!asRoot) return {};
      childTmp ??= user.folder(0o700);
      return { TMPDIR: childTmp };
    },
  };
  return user;
}

/** This process swept the dead runs' views already (once a run: each test file calls normalUser). */
let swept = false;

/**
 * Removes, in `base`, the views (`parley-view-<pid>-...`) of runs that are gone: a directory (not
 * a link) of this user's, unchanged for VIEW_MIN_AGE_MS, whose pid no longer exists; only where
 * others cannot rename entries (sticky, as /tmp, or not writable by them). Never throws.
 * @returns the names removed
 */
export function sweepDeadViews(
  base: string,
  alive: (pid: number) => boolean = processAlive,
  now = Date.now(),
): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    // Where others may rename entries (not sticky), one could swap a folder of theirs in under a
    // view's name between the lstat and the rm (src/cli/warm-up-leftovers.ts): no sweep there.
    const { mode } = statSync(base);
    if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) return removed;
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = VIEW_NAME.exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    const path = join(base, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isDirectory() || stats.uid !== process.getuid?.() || now - stats.mtimeMs < VIEW_MIN_AGE_MS) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to remove: left.
    }
  }
  return removed;
}

/** Why root cannot start a child as nobody here, or undefined when it can. */
function nobodyUnavailable(): string | undefined {
  try {
    const run = Bun.spawnSync(["true"], { uid: NOBODY, gid: NOBODY });
    return run.exitCode === 0 ? undefined : `\`true\` run as uid ${NOBODY} exited ${run.exitCode}`;
  } catch (err) {
    return `none can be started as uid ${NOBODY} here (${(err as Error).message})`;
  }
}

/**
 * Where views are made: the temporary folder `tmp`'s nearest ancestor every user may enter (a test
 * run's own TMPDIR, made with mkdtemp, is 0700 and root's; nobody must reach the view). Where
 * that walk ends at `/` (a TMPDIR under /root), /tmp, or /var/tmp: never `/` itself.
 * @param modeOf - a path's mode bits (tests pass their own)
 */
export function viewBase(tmp = tmpdir(), modeOf: (path: string) => number = (path) => statSync(path).mode): string {
  const enterable = (path: string) => {
    try {
      return (modeOf(path) & 0o001) !== 0;
    } catch {
      return false;
    }
  };
  let base = "/";
  for (const name of resolve(tmp).split("/").filter(Boolean)) {
    const path = join(base, name);
    if (!enterable(path)) break;
    base = path;
  }
  if (base !== "/") return base;
  const fallback = ["/tmp", "/var/tmp"].find(enterable);
  if (fallback === undefined) throw new Error(`no folder every user may enter above ${tmp}, nor /tmp or /var/tmp`);
  return fallback;
}

/**
 * Makes `view` a folder every user may enter, holding what `bun src/...` needs: Bun and the
 * packages as hard links, src/ and the settings as copies. A hard link moves the inode change
 * time of the file it links (and its removal again), and src/cli/launch.sh takes that for a
 * change: the checkout's built CLI would be passed over for the rest of the run.
 */
function fillView(view: string): void {
  chmodSync(view, 0o755);
  link(process.execPath, join(view, "bun"));
  for (const file of ["package.json", "tsconfig.json", "bunfig.toml"]) copy(join(REPO, file), join(view, file));
  linkTree(join(REPO, "src"), join(view, "src"), copy);
  makeDir(join(view, "node_modules"));
  for (const name of runtimePackages()) {
    const to = join(view, "node_modules", name);
    if (name.startsWith("@")) makeDir(dirname(to));
    linkTree(join(REPO, "node_modules", name), to);
  }
}

/**
 * The installed packages src/ may load: package.json's dependencies and theirs (optional ones
 * too: a native build), found at node_modules' top (npm hoists them). Bun, the runtime, is not one.
 */
function runtimePackages(): Set<string> {
  const found = new Set<string>();
  const walk = (packageDir: string): void => {
    const meta = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    for (const name of Object.keys({ ...meta.dependencies, ...meta.optionalDependencies })) {
      if (name === "bun" || found.has(name) || !existsSync(join(REPO, "node_modules", name))) continue;
      found.add(name);
      walk(join(REPO, "node_modules", name));
    }
  };
  walk(REPO);
  return found;
}

function makeDir(path: string): void {
  if (existsSync(path)) return;
  mkdirSync(path);
  chmodSync(path, 0o755); // whatever the umask
}

function link(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    copy(from, to);
  }
}

function copy(from: string, to: string): void {
  copyFileSync(from, to);
  chmodSync(to, statSync(from).mode & 0o777);
}

/** `from`'s tree at `to`: folders made, links as links, files by `place` (a hard link by default). */
function linkTree(from: string, to: string, place: (from: string, to: string) => void = link): void {
  makeDir(to);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target, place);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else place(source, target);
  }
}
