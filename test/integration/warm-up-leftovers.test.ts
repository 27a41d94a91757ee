/**
 * The warm-up folders a killed run left (warm-up-leftovers.ts): the next run's first warm-up
 * removes those of processes that are gone, and nothing else.
 */

import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeLeftoverWarmUps, warmUpFolderPrefix } from "../../src/cli/warm-up-leftovers.ts";
import { BUN, launchedEnv, MAIN, WAIT_MS } from "../e2e/helpers.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-warm-leftovers-");

/** The pid of a process that has exited (a `true` run and waited for). */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

/** A folder as a killed warm-up leaves it: a source and a received file inside. */
function leftover(base: string, pid: number, suffix = "AbC123"): string {
  const name = `${warmUpFolderPrefix(pid)}${suffix}`;
  mkdirSync(join(base, name, "in"), { recursive: true, mode: 0o700 });
  writeFileSync(join(base, name, "source"), "x");
  writeFileSync(join(base, name, "in", "source"), "x");
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

    expect(removeLeftoverWarmUps(base)).toEqual([gone]);
    expect(readdirSync(base).sort()).toEqual([live, ours, linked, file, ...others].sort());
    expect(readdirSync(target)).toEqual([]); // the link was not followed (nothing there to lose, nothing touched)
  } finally {
    sleeper.kill();
    await sleeper.exited;
  }
});

test("a folder that cannot be read is not an error", () => {
  expect(removeLeftoverWarmUps(join(tempDir(), "missing"))).toEqual([]);
});

test("the chat's first warm-up removes what a killed run left in its temporary folder", async () => {
  const tmp = tempDir();
  const gone = leftover(tmp, await deadPid());
  const proc = Bun.spawn([BUN, MAIN, "--host", "127.0.0.1", "--dir", tempDir(), "--no-progress"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...launchedEnv(), TMPDIR: tmp },
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
