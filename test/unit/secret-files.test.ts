/**
 * secretFileWarning: one line when other users of the machine can read or change a file a
 * secret is read from (--code-file, the resume secret), none when it is private or no file
 * (a pipe, a terminal).
 */

import { expect, test } from "bun:test";
import { foreignSpecialFileProblem, secretFileWarning } from "../../src/cli/secret-files.ts";

const FILE = 0o100000;
const ME = 1000;

test.each([
  [0o600, undefined],
  [0o400, undefined],
  [0o700, undefined],
  [0o640, "Warning: --code-file c.txt can be read by other users of this machine (mode 0640): chmod 600 c.txt"],
  [0o604, "Warning: --code-file c.txt can be read by other users of this machine (mode 0604): chmod 600 c.txt"],
  [0o620, "Warning: --code-file c.txt can be changed by other users of this machine (mode 0620): chmod 600 c.txt"],
  [
    0o666,
    "Warning: --code-file c.txt can be read and changed by other users of this machine (mode 0666): chmod 600 c.txt",
  ],
])("a regular file of mode %o: %p", (mode, line) => {
  expect(secretFileWarning("--code-file c.txt", "c.txt", { mode: FILE | mode, uid: ME }, ME)).toBe(line);
});

test("a pipe or a terminal is no file to chmod: nothing said", () => {
  expect(secretFileWarning("--code-file /dev/fd/63", "/dev/fd/63", { mode: 0o010600, uid: ME }, ME)).toBeUndefined();
  expect(secretFileWarning("--code-file /dev/tty", "/dev/tty", { mode: 0o020620, uid: ME }, ME)).toBeUndefined();
});

test("a file of another user (not root) is theirs to change, whatever its mode; root's is not", () => {
  expect(secretFileWarning("--code-file c", "c", { mode: FILE | 0o600, uid: 1001 }, ME)).toBe(
    "Warning: --code-file c belongs to another user (uid 1001, mode 0600), who can change it: keep a secret in a file of your own (chmod 600).",
  );
  expect(secretFileWarning("--code-file c", "c", { mode: FILE | 0o600, uid: 0 }, ME)).toBeUndefined();
});

test("root's file that others can read, read by a normal user: no chmod hint it could not follow (EPERM)", () => {
  expect(secretFileWarning("--code-file c", "c", { mode: FILE | 0o644, uid: 0 }, ME)).toBe(
    "Warning: --code-file c can be read by other users of this machine (mode 0644), and it is root's, so only root can chmod it: keep a secret in a file of your own (chmod 600).",
  );
  // Root reading its own file can chmod it: the usual hint.
  expect(secretFileWarning("--code-file c", "c", { mode: FILE | 0o644, uid: 0 }, 0)).toBe(
    "Warning: --code-file c can be read by other users of this machine (mode 0644): chmod 600 c",
  );
});

test("a named pipe of another user (mkfifo where the code file was to be) hands us their code: said", () => {
  expect(secretFileWarning("--code-file /tmp/code", "/tmp/code", { mode: 0o010644, uid: 1001 }, ME)).toBe(
    "Warning: --code-file /tmp/code is not a file but a named pipe of another user (uid 1001), who chooses what is read from it: keep a secret in a file of your own (chmod 600).",
  );
  // Each kind in its own words (a folder or a socket is no pipe or device).
  const kind = (mode: number) => secretFileWarning("--code-file x", "x", { mode: mode | 0o644, uid: 1001 }, ME);
  expect(kind(0o020000)).toContain("is not a file but a device of another user");
  expect(kind(0o040000)).toContain("is not a file but a folder of another user");
  expect(kind(0o140000)).toContain("is not a file but a socket of another user");
  // A pipe of root's (a system's) or of our own (<(pass show code)) is nothing to warn about.
  expect(secretFileWarning("--code-file /dev/fd/63", "/dev/fd/63", { mode: 0o010600, uid: 0 }, ME)).toBeUndefined();
});

test("a code file that is another user's pipe, device or socket is refused (its open would wait on them); ours, root's or a regular file is not", () => {
  expect(foreignSpecialFileProblem("--code-file /tmp/code", { mode: 0o010666, uid: 1001 }, ME)).toBe(
    "--code-file /tmp/code is not a file but a named pipe of another user (uid 1001), who chooses what is read from it (and whether anything ever is): not read; keep the code in a file of your own (chmod 600)",
  );
  expect(foreignSpecialFileProblem("--code-file x", { mode: 0o020666, uid: 1001 }, ME)).toContain(
    "a device of another",
  );
  expect(foreignSpecialFileProblem("--code-file x", { mode: 0o140666, uid: 1001 }, ME)).toContain(
    "a socket of another",
  );
  for (const [mode, uid] of [
    [0o010600, ME], // <(pass show code)
    [0o010600, 0], // root's
    [0o100666, 1001], // another user's regular file: warned about (secretFileWarning), read
  ] as const) {
    expect(foreignSpecialFileProblem("--code-file x", { mode, uid }, ME)).toBeUndefined();
  }
  expect(foreignSpecialFileProblem("--code-file x\x1b[2J", { mode: 0o010666, uid: 1001 }, ME)).not.toContain("\x1b");
});

test("the chmod hint quotes a path with spaces or quotes, and control characters are made visible", () => {
  const line = secretFileWarning("--code-file my code\x1b[2J", "my code's\x1b[2J", { mode: FILE | 0o644, uid: ME }, ME);
  expect(line).not.toContain("\x1b");
  expect(line).toContain("chmod 600 'my code'\\''s");
});
