/**
 * Test helper: is a shared library installed for this process's architecture? Found as the
 * dynamic loader finds it, independently of Parley's own loading (which the tests check): the
 * loader's cache (`ldconfig -p`, the entries of this architecture), else the library folders
 * of this architecture's multiarch triplet (Debian, Ubuntu), lib64 (Fedora) and the plain ones.
 * So a test of a native backend runs on arm64 as on x86_64, and says loudly when it cannot.
 */

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Debian's multiarch triplets by Node's `process.arch`. */
const TRIPLETS: Readonly<Record<string, string>> = {
  x64: "x86_64-linux-gnu",
  arm64: "aarch64-linux-gnu",
  arm: "arm-linux-gnueabihf",
  ia32: "i386-linux-gnu",
  riscv64: "riscv64-linux-gnu",
  ppc64: "powerpc64le-linux-gnu",
  s390x: "s390x-linux-gnu",
};

/**
 * How `ldconfig -p` tags an entry of each architecture ("libc6,x86-64", "libc6,AArch64");
 * 32-bit x86 and arm entries carry no such word (only "libc6" or "libc6,hard-float").
 */
const LDCONFIG_TAGS: Readonly<Record<string, RegExp>> = {
  x64: /\(libc6,x86-64\)/,
  arm64: /\(libc6,AArch64\)/,
  arm: /\(libc6(,hard-float)?\)/,
  ia32: /\(libc6\)/,
  riscv64: /\(libc6,RISC-V/,
  ppc64: /\(libc6,64bit/,
  s390x: /\(libc6,64bit/,
};

/**
 * Where `soname` (like "libxxhash.so.0") is for `arch`, or undefined.
 * @param ldconfigText - `ldconfig -p`'s output ("" when it could not be run)
 * @param exists - whether a path exists (the file system's, unless a test passes another)
 */
export function findLibrary(
  soname: string,
  arch: string,
  ldconfigText: string,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  const tag = LDCONFIG_TAGS[arch];
  for (const line of ldconfigText.split("\n")) {
    // "\tlibxxhash.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libxxhash.so.0"
    const m = /^\s*(\S+) (\([^)]*\)) => (.+)$/.exec(line);
    if (!m || m[1] !== soname || !tag?.test(m[2] as string)) continue;
    const path = (m[3] as string).trim();
    if (exists(path)) return path;
  }
  const triplet = TRIPLETS[arch];
  const folders = [
    ...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []),
    ...(arch === "x64" || arch === "arm64" ? ["/lib64", "/usr/lib64"] : []),
    "/usr/local/lib",
    "/lib",
    "/usr/lib",
  ];
  return folders.map((folder) => join(folder, soname)).find((path) => exists(path));
}

/** The loader cache's listing, or "" where ldconfig is missing (macOS, musl). */
export function ldconfigListing(): string {
  for (const ldconfig of ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"]) {
    const run = spawnSync(ldconfig, ["-p"], { encoding: "utf8" });
    if (run.status === 0) return run.stdout;
  }
  return "";
}

/** `soname` for this process's architecture, found as the loader would; undefined when absent. */
export function installedLibrary(soname: string): string | undefined {
  return findLibrary(soname, process.arch, ldconfigListing());
}

/**
 * The backends a test file runs its cases with: `native` first where its library loads, then
 * `others`. Where it does not load, a SKIPPED line says so: .ci/run fails on it, as on a skipped
 * case (before, the native cases were left out unsaid, and the file passed with half its cases).
 * @param what - the file and the cases, for the line
 */
export function backendsToTest<B extends string>(native: B, loads: boolean, others: readonly B[], what: string): B[] {
  if (loads) return [native, ...others];
  console.warn(`\n*** SKIPPED: ${what}: the ${native} cases (its library does not load here) ***\n`);
  return [...others];
}
