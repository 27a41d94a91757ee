/**
 * `bun test` in the checkout looks for test files under test/ only (bunfig.toml's [test] root):
 * the chat saves what a peer sends into the folder it was started in, the checkout under `npx bun
 * run chat`, and a received `x.test.ts` there (or in a received folder) ran at the next `npx bun
 * run test` (attack32).
 */

import { afterEach, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

test("a test file outside test/ is not run by bun test in the checkout", () => {
  // A copy of the checkout's settings: its bunfig.toml, the preload it names (empty), a test of
  // its own under test/, and a received folder beside it holding a test file that leaves a mark.
  dir = mkdtempSync(join(tmpdir(), "test-root-"));
  copyFileSync(join(root, "bunfig.toml"), join(dir, "bunfig.toml"));
  copyFileSync(join(root, "package.json"), join(dir, "package.json"));
  mkdirSync(join(dir, "test"));
  writeFileSync(join(dir, "test", "run-hooks.ts"), "");
  const ownRan = join(dir, "own-ran");
  const peerRan = join(dir, "peer-ran");
  const body = (mark: string) =>
    `import { test } from "bun:test";\nrequire("node:fs").writeFileSync(${JSON.stringify(mark)}, "");\ntest("t", () => {});\n`;
  writeFileSync(join(dir, "test", "own.test.ts"), body(ownRan));
  mkdirSync(join(dir, "photos"));
  writeFileSync(join(dir, "photos", "gift.test.ts"), body(peerRan));
  writeFileSync(join(dir, "gift.test.ts"), body(peerRan));
  const run = Bun.spawnSync([process.execPath, "test"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const said = `${run.stdout}${run.stderr}`;
  expect(existsSync(ownRan), said).toBe(true); // it can fail: the run found test/'s file
  expect(existsSync(peerRan), said).toBe(false);
});
