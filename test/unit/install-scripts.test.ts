/**
 * `npm ci` stays quiet and keeps working once npm enforces allowScripts: every installed
 * package that has an install script is named in package.json's allowScripts (issue 11.32).
 */

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall"];

function installedPackages(dir: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@")) {
      for (const sub of readdirSync(join(dir, entry))) names.push(`${entry}/${sub}`);
    } else names.push(entry);
  }
  return names;
}

test("every dependency with an install script is approved in package.json", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    allowScripts?: Record<string, boolean>;
  };
  const allowed = new Set(
    Object.entries(pkg.allowScripts ?? {})
      .filter(([, ok]) => ok)
      .map(([name]) => name.replace(/(.)@.*$/, "$1")),
  );
  const modules = join(root, "node_modules");
  const withScripts = installedPackages(modules).filter((name) => {
    const manifest = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
    };
    return INSTALL_SCRIPTS.some((s) => manifest.scripts?.[s] !== undefined);
  });
  expect(withScripts).toContain("bun"); // the test must see at least the one we know of
  expect(withScripts.filter((name) => !allowed.has(name))).toEqual([]);
});
