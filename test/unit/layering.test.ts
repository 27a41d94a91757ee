/**
 * The layers of src/ (STYLE.md "Layout"), as the code keeps them: each folder may import only
 * the folders listed here, so no import runs upward. Read from the source files themselves;
 * a new upward import fails with the file and the line.
 *
 *   native                 nothing in src/ (opening C libraries through bun:ffi)
 *   protocol               nothing in src/ (pure codec)
 *   net                    native (sockets only; socket options through libc)
 *   crypto                 net (the Connection it wraps, as a type), native
 *   transfer               protocol (files in and out; never the connection), native
 *   session                protocol, crypto, net, transfer (it drives the transfers)
 *   ui                     session, transfer, protocol: types only (it renders events)
 *   cli                    everything
 *
 * Files are read and written only in transfer/ and cli/: the session gets its files as sinks
 * and readers (FileReceiver, PieceReader, ...), so it can be driven over memory in tests.
 * Beyond imports (CODE_RULES): only cli/main.ts exits, only net/ opens sockets, only cli/ and
 * ui/ touch the terminal, protocol/ keeps no time, and only cli/ reads the environment.
 */

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  native: [],
  protocol: [],
  net: ["native"],
  crypto: ["net", "native"],
  transfer: ["protocol", "native"],
  session: ["protocol", "crypto", "net", "transfer"],
  ui: ["protocol", "session", "transfer"],
  cli: ["protocol", "crypto", "net", "session", "transfer", "ui"],
};
/** Folders whose imports from other folders must be `import type` (no code runs upward). */
const TYPES_ONLY = new Set(["ui"]);

interface Import {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly target: string;
}

/** Every relative import (and re-export) of every .ts file under src/, with the path it names. */
function importsOf(folder: string): Import[] {
  const out: Import[] = [];
  for (const name of readdirSync(join(SRC, folder))) {
    if (!name.endsWith(".ts")) continue;
    const file = `${folder}/${name}`;
    const lines = readFileSync(join(SRC, file), "utf8").split("\n");
    // Joined statements: an import may span lines.
    const text = lines.join("\n");
    for (const m of text.matchAll(/(?:^|\n)\s*(import|export)\b[^;]*?from\s+"([^"]+)"/g)) {
      const target = m[2] as string;
      const line = text.slice(0, m.index).split("\n").length + (m[0].startsWith("\n") ? 1 : 0);
      out.push({ file, line, text: m[0].trim(), target });
    }
  }
  return out;
}

const folders = readdirSync(SRC, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

test("every folder of src/ has its layer in the table", () => {
  expect(folders.sort()).toEqual(Object.keys(MAY_IMPORT).sort());
});

test.each(Object.keys(MAY_IMPORT))("src/%s imports only the layers below it", (folder) => {
  const wrong: string[] = [];
  for (const imp of importsOf(folder)) {
    if (!imp.target.startsWith(".")) continue; // packages and node: built-ins
    const path = resolve(SRC, folder, imp.target);
    if (folder === "cli" && path === resolve(SRC, "../package.json")) continue; // the version it prints
    if (!path.startsWith(`${SRC}/`)) {
      wrong.push(`${imp.file}:${imp.line} reaches outside src/: ${imp.text}`);
      continue;
    }
    const layer = path.slice(SRC.length + 1).split("/")[0] as string;
    if (layer === folder) continue;
    if (!MAY_IMPORT[folder]?.includes(layer)) wrong.push(`${imp.file}:${imp.line} imports ${layer}: ${imp.text}`);
    else if (TYPES_ONLY.has(folder) && !/^(import|export) type\b/.test(imp.text)) {
      wrong.push(`${imp.file}:${imp.line} must import ${layer} as types only: ${imp.text}`);
    }
  }
  expect(wrong).toEqual([]);
});

/** The folders that may touch the file system (node:fs, Bun.file, Bun.write). */
const FILE_IO = new Set(["transfer", "cli"]);

test.each(folders.filter((f) => !FILE_IO.has(f)))("src/%s does no file I/O of its own", (folder) => {
  const wrong: string[] = [];
  for (const imp of importsOf(folder)) {
    if (/^node:fs(\/|$)|^fs(\/|$)/.test(imp.target)) wrong.push(`${imp.file}:${imp.line} ${imp.text}`);
  }
  for (const name of readdirSync(join(SRC, folder))) {
    if (!name.endsWith(".ts")) continue;
    const lines = readFileSync(join(SRC, folder, name), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (/\bBun\.(file|write)\(|require\("(node:)?fs/.test(line))
        wrong.push(`${folder}/${name}:${i + 1} ${line.trim()}`);
    });
  }
  expect(wrong).toEqual([]);
});

/** `text` with its comments blanked (a rule below is about code: a comment may name what it avoids). */
function codeOf(text: string): string {
  // Block comments keep their line breaks, so the lines found keep their numbers.
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, "")).replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** Each `file:line text` of src/ (outside `allowed`, a file or a folder) whose code matches `pattern`. */
function codeMatching(pattern: RegExp, allowed: (file: string) => boolean): string[] {
  const found: string[] = [];
  for (const folder of folders) {
    for (const name of readdirSync(join(SRC, folder))) {
      const file = `${folder}/${name}`;
      if (!name.endsWith(".ts") || allowed(file)) continue;
      codeOf(readFileSync(join(SRC, file), "utf8"))
        .split("\n")
        .forEach((line, i) => {
          if (pattern.test(line)) found.push(`${file}:${i + 1} ${line.trim()}`);
        });
    }
  }
  return found;
}

/**
 * The rules of DESIGN.md and STYLE.md that are not about imports between folders: only
 * cli/main.ts exits the process; only net/ opens sockets (the session reaches the peer through a
 * Connection); only cli/ and ui/ touch the terminal (the session knows nothing of it); protocol/
 * keeps no time (pure: no timers); only cli/ reads the environment (its settings reach the layers
 * below through the CLI's injectable io and its options: cli/env-settings.ts).
 */
const CODE_RULES: ReadonlyArray<{
  readonly rule: string;
  readonly pattern: RegExp;
  readonly allowed: (file: string) => boolean;
}> = [
  {
    rule: "only cli/main.ts exits the process",
    pattern: /\bprocess\.(exit|reallyExit|abort)\(/,
    allowed: (f) => f === "cli/main.ts",
  },
  {
    rule: "only net/ opens sockets",
    pattern: /\bBun\.(listen|connect|udpSocket)\(|\bnew WebSocket\(|from "(node:)?(net|tls|dgram|http|https)"/,
    allowed: (f) => f.startsWith("net/"),
  },
  {
    rule: "only cli/ and ui/ touch the terminal",
    pattern: /\bprocess\.(stdin|stdout|stderr)\b|from "(node:)?(tty|readline)"/,
    allowed: (f) => f.startsWith("cli/") || f.startsWith("ui/"),
  },
  {
    rule: "only cli/ reads the environment",
    pattern: /\bprocess\.env\b|\bBun\.env\b|\bimport\.meta\.env\b/,
    allowed: (f) => f.startsWith("cli/"),
  },
  {
    rule: "protocol/ keeps no time",
    pattern: /\b(setTimeout|setInterval|setImmediate|performance\.now|Date\.now)\b/,
    allowed: (f) => !f.startsWith("protocol/"),
  },
];

test.each(CODE_RULES.map((r) => [r.rule, r] as const))("%s", (_rule, { pattern, allowed }) => {
  expect(codeMatching(pattern, allowed)).toEqual([]);
});

test("the code rules see code, not comments (they can fail)", () => {
  const exits = CODE_RULES[0]?.pattern as RegExp;
  expect(exits.test(codeOf("  if (bad) process.exit(1); // never"))).toBe(true);
  expect(exits.test(codeOf("  // process.exit(1) would lose output\n  /* nor process.exit(2) */"))).toBe(false);
  expect(codeOf('const url = "ws://host/v1"; // a comment')).toBe('const url = "ws://host/v1"; ');
  // Allowed nowhere: main.ts's own calls are found, at their lines, and the comments elsewhere are not.
  const everywhere = codeMatching(exits, () => false);
  expect(everywhere.length).toBeGreaterThan(0);
  for (const hit of everywhere) {
    const [, file, line] = /^(\S+):(\d+) /.exec(hit) ?? [];
    expect(file).toBe("cli/main.ts");
    expect(readFileSync(join(SRC, file as string), "utf8").split("\n")[Number(line) - 1]).toContain("process.exit(");
  }
});

test("the check sees an upward import (it can fail)", () => {
  const fake = 'import { Session } from "../session/index.ts";';
  const m = /(?:^|\n)\s*(import|export)\b[^;]*?from\s+"([^"]+)"/.exec(fake);
  const layer = resolve(SRC, "protocol", m?.[2] ?? "")
    .slice(SRC.length + 1)
    .split("/")[0] as string;
  expect(layer).toBe("session");
  expect(MAY_IMPORT.protocol?.includes(layer)).toBe(false);
});

test("no file in src/ is over 400 lines", () => {
  const long: string[] = [];
  for (const folder of folders) {
    for (const name of readdirSync(join(SRC, folder))) {
      if (!name.endsWith(".ts")) continue;
      const lines = readFileSync(join(SRC, folder, name), "utf8").split("\n").length - 1;
      if (lines > 400) long.push(`${folder}/${name}: ${lines} lines`);
    }
  }
  expect(long).toEqual([]);
});

/**
 * One module's circle of imports, as `a.ts -> b.ts -> a.ts`, if `from` starts one; else undefined.
 * Types count: a circle of types is a circle of modules that must change together.
 */
function circleFrom(from: string, imports: ReadonlyMap<string, readonly string[]>): string | undefined {
  const path: string[] = [];
  const done = new Set<string>();
  const visit = (file: string): string | undefined => {
    const at = path.indexOf(file);
    if (at >= 0) return [...path.slice(at), file].join(" -> ");
    if (done.has(file)) return undefined;
    path.push(file);
    for (const next of imports.get(file) ?? []) {
      const circle = visit(next);
      if (circle) return circle;
    }
    path.pop();
    done.add(file);
    return undefined;
  };
  return visit(from);
}

test("no module of src/ imports itself back through others (types too)", () => {
  const imports = new Map<string, string[]>();
  for (const folder of folders) {
    for (const imp of importsOf(folder)) {
      if (!imp.target.startsWith(".") || !imp.target.endsWith(".ts")) continue;
      const target = resolve(SRC, folder, imp.target).slice(SRC.length + 1);
      imports.set(imp.file, [...(imports.get(imp.file) ?? []), target]);
    }
  }
  const circles = new Set<string>();
  for (const file of imports.keys()) {
    const circle = circleFrom(file, imports);
    if (circle) circles.add(circle);
  }
  expect([...circles]).toEqual([]);
});

test("the circle check sees a circle (it can fail)", () => {
  const imports = new Map([
    ["cli/a.ts", ["cli/b.ts"]],
    ["cli/b.ts", ["cli/c.ts"]],
    ["cli/c.ts", ["cli/a.ts"]],
  ]);
  expect(circleFrom("cli/a.ts", imports)).toBe("cli/a.ts -> cli/b.ts -> cli/c.ts -> cli/a.ts");
  expect(circleFrom("cli/a.ts", new Map([["cli/a.ts", ["cli/b.ts"]]]))).toBeUndefined();
});
