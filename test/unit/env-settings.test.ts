/**
 * The environment's settings reach the layers below the CLI only through cli/env-settings.ts
 * (layering.test: only cli/ reads the environment). Each variable, read from the env given (the
 * command's io.env, not process.env), lands in its layer; unset or unknown values give the
 * defaults, as when the layers read process.env themselves.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyEnvSettings } from "../../src/cli/env-settings.ts";
import { cryptoBackendChoice, useCryptoBackend } from "../../src/crypto/backend-choice.ts";
import { xxh3Backend } from "../../src/transfer/checksum.ts";
import { useXxh3Backend } from "../../src/transfer/xxh3-native.ts";

afterEach(() => {
  useCryptoBackend(undefined);
  useXxh3Backend(undefined);
});

test("PARLEY_CRYPTO_BACKEND's two values are handed down; anything else is the default", () => {
  applyEnvSettings({ PARLEY_CRYPTO_BACKEND: "node" });
  expect(cryptoBackendChoice()).toBe("node");
  applyEnvSettings({ PARLEY_CRYPTO_BACKEND: "libcrypto" });
  expect(cryptoBackendChoice()).toBe("libcrypto");
  applyEnvSettings({ PARLEY_CRYPTO_BACKEND: "openssl" });
  expect(cryptoBackendChoice()).toBeUndefined();
  applyEnvSettings({});
  expect(cryptoBackendChoice()).toBeUndefined();
});

test("PARLEY_XXH3_BACKEND=node-rs is handed down", () => {
  applyEnvSettings({ PARLEY_XXH3_BACKEND: "node-rs" });
  expect(xxh3Backend()).toBe("node-rs");
});

test("the settings come from the env given (the command's io.env), not the process's", () => {
  const before = process.env.PARLEY_CRYPTO_BACKEND;
  process.env.PARLEY_CRYPTO_BACKEND = "node";
  try {
    applyEnvSettings({});
    expect(cryptoBackendChoice()).toBeUndefined();
  } finally {
    if (before === undefined) delete process.env.PARLEY_CRYPTO_BACKEND;
    else process.env.PARLEY_CRYPTO_BACKEND = before;
  }
});

/**
 * A new Bun process (the secret is read once a process) whose applyEnvSettings is given
 * XDG_STATE_HOME `stateHome`, then asks for a resume token: the secret is made where that says.
 */
function makeResumeSecret(stateHome: string, options: { cwd?: string; env: Record<string, string | undefined> }): void {
  const settings = join(import.meta.dir, "../../src/cli/env-settings.ts");
  const token = join(import.meta.dir, "../../src/transfer/resume-token.ts");
  const run = Bun.spawnSync(
    [
      process.execPath,
      "-e",
      `import { applyEnvSettings } from ${JSON.stringify(settings)};
       import { resumeTokenFor } from ${JSON.stringify(token)};
       applyEnvSettings({ XDG_STATE_HOME: ${JSON.stringify(stateHome)} });
       console.log(resumeTokenFor("/srv/a"));`,
    ],
    { ...options, stderr: "pipe" },
  );
  expect(run.exitCode, run.stderr.toString()).toBe(0);
}

test("XDG_STATE_HOME is where the resume secret is made (a new process: the secret is read once)", () => {
  const home = mkdtempSync(join(tmpdir(), "parley-env-settings-"));
  try {
    // Not in this process's environment: only the env handed to applyEnvSettings says where.
    makeResumeSecret(home, { env: { ...process.env, XDG_STATE_HOME: join(home, "not-here") } });
    expect(readdirSync(join(home, "parley"))).toEqual(["resume-secret"]);
    expect(readdirSync(home).sort()).toEqual(["parley"]);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("a relative XDG_STATE_HOME is ignored, as the XDG spec says: the secret goes to ~/.local/state, not under the run's folder", () => {
  const home = mkdtempSync(join(tmpdir(), "parley-env-settings-"));
  const cwd = mkdtempSync(join(tmpdir(), "parley-env-settings-cwd-"));
  try {
    makeResumeSecret("state", { cwd, env: { ...process.env, HOME: home } });
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(join(home, ".local", "state", "parley"))).toEqual(["resume-secret"]);
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
});
