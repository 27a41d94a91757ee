/**
 * The `--json` event types against the README's table ("`--json` events"): every `type: "..."`
 * an event is written with in src/cli/ (JsonReporter, the listening event, the usage error, the
 * code prompt's ending) has its row there, and every row is a type the code writes. A new event
 * fails here until the README lists it with its fields; a row left after its event went, too.
 */

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

/** `type: "..."` in src/cli/ that are not events: the option parser's kinds. */
const NOT_EVENTS = new Set(["string", "boolean"]);

function emittedTypes(): Set<string> {
  const dir = join(ROOT, "src/cli");
  const types = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/\btype: "([a-z][a-z-]*)"/g)) {
      const type = m[1] as string;
      if (!NOT_EVENTS.has(type)) types.add(type);
    }
  }
  return types;
}

function readmeTypes(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("### `--json` events");
  const end = readme.indexOf("#### Error codes", start);
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return [...readme.slice(start, end).matchAll(/^\| `([a-z][a-z-]*)` \|/gm)].map((m) => m[1] as string);
}

test("every event type the code writes has its row in README's --json table, and every row is written", () => {
  const emitted = emittedTypes();
  const listed = readmeTypes();
  // The scan finds the ones known to exist (it would pass vacuously on nothing found).
  for (const known of ["listening", "error", "bye", "resume", "skipped", "stored", "events-skipped"]) {
    expect(emitted.has(known), known).toBe(true);
  }
  expect(new Set(listed).size).toBe(listed.length); // no row twice
  expect([...emitted].filter((t) => !listed.includes(t)).sort()).toEqual([]);
  expect(listed.filter((t) => !emitted.has(t)).sort()).toEqual([]);
});
