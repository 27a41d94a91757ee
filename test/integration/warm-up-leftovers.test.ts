/**
 * The warm-up folders a killed run left (warm-up-leftovers.ts): the next run's first warm-up
 * removes those of processes that are gone, and nothing else.
 */

import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  LEFTOVER_MIN_AGE_MS,
  MAX_CANDIDATES,
  removeLeftoverWarmUps,
  warmUpFolderPrefix,
} from "../../src/cli/warm-up-leftovers.ts";
import { launchedEnv, PARLEY, WAIT_MS } from "../e2e/helpers.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-warm-leftovers-");

/** The pid of a process that has exited (a `true` run and waited for). */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

/** Sets `path`'s times `ageMs` back (old enough to be swept by default). */
function backDate(path: string, ageMs = 2 * LEFTOVER_MIN_AGE_MS): void {
  const then = new Date(Date.now() - ageMs);
  utimesSync(path, then, then);
}

/** A folder as a killed warm-up leaves it: a source and a received file inside, unchanged for `ageMs`. */
function leftover(base: string, pid: number, suffix = "AbC123", ageMs?: number): string {
  const name = `${warmUpFolderPrefix(pid)}${suffix}`;
  mkdirSync(join(base, name, "in"), { recursive: true, mode: 0o700 });
  writeFileSync(join(base, name, "source"), "x");
  writeFileSync(join(base, name, "in", "source"), "x");
  backDate(join(base, name), ageMs);
  return name;
}

test("a gone process's folder is removed; a live one's, our own, other names, links and files are left", async () => {
  const base = tempDir();
  const gone = leftover(base, await deadPid());
  const sleeper = Bun.spawn(["sleep", "30"]);
  try {
    const live = leftover(base, sleeper.pid);
    const ours = leftover(base, process.pid);
    const target = tempDir();
    const linked = `${warmUpFolderPrefix(await deadPid())}Lnk123`;
    symlinkSync(target, join(base, linked));
    const file = `${warmUpFolderPrefix(await deadPid())}Fil123`;
    writeFileSync(join(base, file), "not a folder");
    const others = ["parley-warm-Old123", "parley-warm-12-short", "parley-warm-12-AbC123x", "warm-12-AbC123"];
    for (const name of others) mkdirSync(join(base, name));

    expect(await removeLeftoverWarmUps(base)).toEqual([gone]);
    expect(readdirSync(base).sort()).toEqual([live, ours, linked, file, ...others].sort());
    expect(readdirSync(target)).toEqual([]); // the link was not followed (nothing there to lose, nothing touched)
  } finally {
    sleeper.kill();
    await sleeper.exited;
  }
});

test("a folder that cannot be read is not an error", async () => {
  expect(await removeLeftoverWarmUps(join(tempDir(), "missing"))).toEqual([]);
});

test.each([
  ["other-writable, not sticky", 0o777],
  ["group-writable, not sticky", 0o770],
])("nothing is removed in a temporary folder that is %s (another user could swap a folder in)", async (_, mode) => {
  const base = tempDir();
  const gone = leftover(base, await deadPid());
  chmodSync(base, mode);
  expect(await removeLeftoverWarmUps(base)).toEqual([]);
  expect(readdirSync(base)).toEqual([gone]);
});

test("a sticky shared folder (as /tmp), and one reached through a link, are swept", async () => {
  const base = tempDir();
  const gone = leftover(base, await deadPid());
  chmodSync(base, 0o1777);
  const link = join(tempDir(), "tmp-link");
  symlinkSync(base, link);
  expect(await removeLeftoverWarmUps(link)).toEqual([gone]);
});

test("a folder changed in the last minute stays: its process may live in another pid namespace or host", async () => {
  const base = tempDir();
  const recent = leftover(base, await deadPid(), "Rec123", 1_000);
  const old = leftover(base, await deadPid(), "Old123");
  expect(await removeLeftoverWarmUps(base)).toEqual([old]);
  expect(readdirSync(base)).toEqual([recent]);
});

test("links inside a removed folder are removed, their targets left", async () => {
  const base = tempDir();
  const target = tempDir();
  writeFileSync(join(target, "keep"), "precious");
  mkdirSync(join(target, "sub"));
  const gone = `${warmUpFolderPrefix(await deadPid())}Lin123`;
  mkdirSync(join(base, gone, "in"), { recursive: true });
  symlinkSync(target, join(base, gone, "dir-link"));
  symlinkSync(join(target, "keep"), join(base, gone, "in", "file-link"));
  backDate(join(base, gone));
  expect(await removeLeftoverWarmUps(base)).toEqual([gone]);
  expect(readdirSync(base)).toEqual([]);
  expect(readdirSync(target).sort()).toEqual(["keep", "sub"]);
});

test("at most MAX_CANDIDATES names are looked at a run, however many another user made", async () => {
  const base = tempDir();
  for (let i = 0; i < 3 * MAX_CANDIDATES; i++) mkdirSync(join(base, `${warmUpFolderPrefix(4_000_000 + i)}AbC123`));
  let asked = 0;
  const alive = () => {
    asked++;
    return true;
  };
  expect(await removeLeftoverWarmUps(base, alive)).toEqual([]);
  expect(asked).toBe(MAX_CANDIDATES);
});

test("the chat's first warm-up removes what a killed run left in its temporary folder", async () => {
  const tmp = tempDir();
  const gone = leftover(tmp, await deadPid());
  const proc = Bun.spawn([...PARLEY, "--host", "127.0.0.1", "--dir", tempDir(), "--no-progress"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...launchedEnv(), TMPDIR: tmp, PARLEY_WARM_UP: "1" },
  });
  try {
    const deadline = Date.now() + WAIT_MS;
    while (readdirSync(tmp).includes(gone) && Date.now() < deadline) await Bun.sleep(5);
    expect(readdirSync(tmp)).not.toContain(gone);
    proc.stdin.write("exit\n");
    proc.stdin.flush();
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill();
  }
});
