/**
 * The resume secret's file (resume-token.ts), as processes see it. A file of the wrong length (a
 * first run that died, or found its disk or quota full, between creating the file and writing
 * the secret leaves it empty) was never mended: every later run made a secret of its own, for
 * that process only, so no `.part` was ever resumed again, silently. Now such a file is replaced
 * whole, and the secret is never written short under its name.
 */

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NormalUser, normalUser } from "../normal-user.ts";

const state = mkdtempSync(join(tmpdir(), "parley-resume-secret-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

const MODULE = join(import.meta.dir, "../../src/transfer/resume-token.ts");
// Each new process hands XDG_STATE_HOME to the module as the CLI does (cli/env-settings.ts): the
// module reads no environment of its own.

/** The token a new process (its own module state) gives `path`, with XDG_STATE_HOME = `home`. */
function tokenInNewProcess(home: string, path: string): string {
  const run = Bun.spawnSync(
    [
      process.execPath,
      "-e",
      `import { resumeTokenFor, useStateFolder } from ${JSON.stringify(MODULE)}; useStateFolder(process.env.XDG_STATE_HOME); console.log(resumeTokenFor(${JSON.stringify(path)}));`,
    ],
    { env: { ...process.env, XDG_STATE_HOME: home }, stderr: "pipe" },
  );
  expect(run.exitCode, run.stderr.toString()).toBe(0);
  return run.stdout.toString().trim();
}

test("an empty secret file left by a failed first run is replaced: two runs give the same token again", () => {
  const home = join(state, "empty");
  mkdirSync(join(home, "parley"), { recursive: true, mode: 0o700 });
  const file = join(home, "parley", "resume-secret");
  writeFileSync(file, "", { mode: 0o600 });
  const first = tokenInNewProcess(home, "/srv/big.iso");
  const second = tokenInNewProcess(home, "/srv/big.iso");
  expect(second).toBe(first);
  expect(readFileSync(file).length).toBe(32);
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

test("a secret file of the right length is kept as it is", () => {
  const home = join(state, "kept");
  mkdirSync(join(home, "parley"), { recursive: true, mode: 0o700 });
  const file = join(home, "parley", "resume-secret");
  const secret = Buffer.alloc(32, 7);
  writeFileSync(file, secret, { mode: 0o600 });
  expect(tokenInNewProcess(home, "/a")).toBe(tokenInNewProcess(home, "/a"));
  expect(readFileSync(file).equals(secret)).toBe(true);
});

test("no secret yet: the first run makes it (0600, whole), the next one reads it", () => {
  const home = join(state, "fresh");
  const first = tokenInNewProcess(home, "/srv/big.iso");
  expect(tokenInNewProcess(home, "/srv/big.iso")).toBe(first);
  const file = join(home, "parley", "resume-secret");
  expect(readFileSync(file).length).toBe(32);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readdirSync(join(home, "parley"))).toEqual(["resume-secret"]); // no temporary file left
});

test("a throwaway secret (the CLI's warm-up's send) makes no file, and the account's tokens are back after it", () => {
  const home = join(state, "throwaway");
  mkdirSync(home);
  const run = Bun.spawnSync(
    [
      process.execPath,
      "-e",
      `import { resumeTokenFor, withThrowawaySecret, useStateFolder } from ${JSON.stringify(MODULE)}; useStateFolder(process.env.XDG_STATE_HOME);
       console.log(withThrowawaySecret(() => resumeTokenFor("/srv/a")));`,
    ],
    { env: { ...process.env, XDG_STATE_HOME: home }, stderr: "pipe" },
  );
  expect(run.exitCode, run.stderr.toString()).toBe(0);
  const throwaway = run.stdout.toString().trim();
  expect(readdirSync(home)).toEqual([]); // nothing made in the state folder
  const account = tokenInNewProcess(home, "/srv/a");
  expect(throwaway).not.toBe(account);
  const both = Bun.spawnSync(
    [
      process.execPath,
      "-e",
      `import { resumeTokenFor, withThrowawaySecret, useStateFolder } from ${JSON.stringify(MODULE)}; useStateFolder(process.env.XDG_STATE_HOME);
       const before = resumeTokenFor("/srv/a");
       withThrowawaySecret(() => resumeTokenFor("/srv/a"));
       console.log(before === resumeTokenFor("/srv/a") ? "same" : "changed");`,
    ],
    { env: { ...process.env, XDG_STATE_HOME: home }, stderr: "pipe" },
  );
  expect(both.stdout.toString().trim()).toBe("same");
  expect(tokenInNewProcess(home, "/srv/a")).toBe(account);
});

/**
 * resumeSecretUnstored in a new process with XDG_STATE_HOME = `home`, and the token it gives
 * `/srv/a`; run as `user` when given.
 */
function unstoredInNewProcess(
  home: string,
  user?: NormalUser,
): { unstored: { path: string; reason: string } | null; token: string } {
  const module = user ? join(user.root(), "src/transfer/resume-token.ts") : MODULE;
  const run = Bun.spawnSync(
    [
      user?.bun() ?? process.execPath,
      "-e",
      `import { resumeSecretUnstored, resumeTokenFor, useStateFolder } from ${JSON.stringify(module)}; useStateFolder(process.env.XDG_STATE_HOME);
       console.log(JSON.stringify({ unstored: resumeSecretUnstored() ?? null, token: resumeTokenFor("/srv/a") }));`,
    ],
    { ...user?.ids, cwd: user?.root(), env: { ...process.env, ...user?.env(), XDG_STATE_HOME: home }, stderr: "pipe" },
  );
  expect(run.exitCode, run.stderr.toString()).toBe(0);
  return JSON.parse(run.stdout.toString());
}

test("a secret that can be neither read nor stored is this process's only, and says why (every user: a file in the way)", () => {
  const blocker = join(state, "not-a-folder");
  writeFileSync(blocker, "");
  const first = unstoredInNewProcess(blocker);
  expect(first.unstored).toEqual({
    path: join(blocker, "parley", "resume-secret"),
    reason: "a part of the path is not a directory",
  });
  // Why it must be said: the next run's tokens differ, so nothing cut short resumes across runs.
  expect(unstoredInNewProcess(blocker).token).not.toBe(first.token);
  const home = join(state, "stored");
  expect(unstoredInNewProcess(home).unstored).toBeNull();
  expect(unstoredInNewProcess(home).unstored).toBeNull(); // read now, not made
});

test("a secret's name taken by a folder: it cannot be read, and the reason is the reading's, not 'file exists'", () => {
  const home = join(state, "folder-in-the-way");
  mkdirSync(join(home, "parley", "resume-secret"), { recursive: true });
  expect(unstoredInNewProcess(home).unstored?.reason).toBe("is a directory");
});

const user = normalUser("parley-resume-user-");

user.test(
  "a state folder this user cannot write (a home left read-only, a folder sudo made root's): said, with why (nobody, when the tests run as root)",
  () => {
    const home = user.folder(0o500);
    expect(unstoredInNewProcess(home, user).unstored).toEqual({
      path: join(home, "parley", "resume-secret"),
      reason: "permission denied",
    });
  },
);
