/**
 * `wormhole send DIR` (the Debian magic-wormhole client) -> `parley receive CODE`, through the
 * test mailbox on 127.0.0.1, of a folder holding names the same once made safe (`.env` and
 * `_env`, `ab` and `ab` with a zero-width space in it): the zip's entries are stored one of each pair numbered, and the
 * receiver says which went where as it does for Parley's own folders; every stored file is
 * compared byte for byte with the entry the lines name; with --json, with the entry its `stored`
 * event names (what Parley's own folders' `done` events tell a script). (A line feed is no test here: the client
 * writes an ASCII name without the zip's UTF-8 flag, read as code page 437, where 0x0a is "◙".)
 */

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closePeerKit } from "../wormhole-peer-kit.ts";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";
import { events, useWormholeServers, wormholeCli, wormholeCode } from "./wormhole-kit.ts";

const kit = useWormholeServers("wormhole renamed-entries test (test/e2e/wormhole-renamed.test.ts)", { client: true });
afterEach(async () => {
  await closePeerKit();
  await cleanup();
});
const LONG_MS = 90_000;

/** The folder `dots` holding two pairs of names the same once made safe, and one kept as it is. */
function dots(): { parent: string; contents: Map<string, string> } {
  const parent = makeTempDir();
  const root = join(parent, "dots");
  mkdirSync(root);
  const contents = new Map([
    [".env", "the dot env\n"],
    ["_env", "the underscore env\n"],
    ["a\u200bb", "a zero-width space in my name\n"],
    ["ab", "plain ab\n"],
    ["kept.txt", "kept\n"],
  ]);
  for (const [name, text] of contents) writeFileSync(join(root, name), text);
  return { parent, contents };
}

/** `wormhole send dots` received by `parley receive` with `flags`; both have exited 0. */
async function dotsReceivedWith(flags: readonly string[]) {
  const { parent, contents } = dots();
  const w = wormholeCli(kit, "wormhole-send", ["send", "dots"], parent);
  const code = await wormholeCode(w);
  const dir = makeTempDir();
  const r = startCli("parley-receive", ["receive", code, ...kit.mailbox(), "--dir", dir, ...flags]);
  expect(await r.exitCode(LONG_MS), r.describe()).toBe(0);
  expect(await w.exitCode(LONG_MS)).toBe(0);
  return { r, dir, contents };
}

describe.skipIf(!kit.available)("a wormhole folder with names the same once made safe", () => {
  test(
    "parley receive says which zip entry went where; the files are what it says",
    async () => {
      const { r, dir, contents } = await dotsReceivedWith(["--no-progress"]);
      const where = new Map<string, string>();
      const re = /^Stored ("(?:[^"\\]|\\.)*") as dots\/(.+?)(?:: dots\/.+ was taken)?\.$/;
      // Each entry said once: the zero-width space's entry holds "ab", said with the numbered one (not again for its lost character).
      expect(new Set(r.linesMatching(/^Stored "/)).size, r.describe()).toBe(r.linesMatching(/^Stored "/).length);
      for (const line of r.linesMatching(/^Stored "/)) {
        const m = re.exec(line);
        if (!m) throw new Error(`not a stored line: ${line}`);
        where.set((JSON.parse(m[1] as string) as string).replace(/^dots\//, ""), m[2] as string);
      }
      expect([...where.values()].filter((s) => / \(1\)$/.test(s)).sort(), r.describe()).toEqual(["_env (1)", "ab (1)"]);
      expect(where.has(".env") && where.has("a\u200bb")).toBe(true);
      const stored = join(dir, "dots");
      const placed = new Map([...contents.keys()].map((name) => [name, where.get(name) ?? name]));
      expect(readdirSync(stored).sort()).toEqual([...placed.values()].sort());
      for (const [name, text] of contents)
        expect(readFileSync(join(stored, placed.get(name) as string), "utf8")).toBe(text);
    },
    LONG_MS,
  );

  test(
    "parley receive --json: a stored event for each entry stored under another name, as a Parley folder's done events",
    async () => {
      const { r, dir, contents } = await dotsReceivedWith(["--json"]);
      const all = events(r);
      expect(all.length, "stdout is JSON only").toBe(r.lines.length);
      const done = all.find((e) => e.type === "done") as unknown as { id: number; path: string };
      const stored = all.filter((e) => e.type === "stored") as unknown as {
        id: number;
        direction: string;
        folder: { root: string; path: string; group: number };
        path: string;
        nameTaken?: string;
        dir?: boolean;
      }[];
      // `.env` and `a<ZWSP>b` are made safe whatever the order; of `_env` and `ab`, the one
      // after its pair in the zip is numbered: every file not stored under its own name is said.
      const storedDir = join(dir, "dots");
      expect(done.path).toBe(storedDir);
      const where = new Map(stored.map((e) => [e.folder.path, e.path]));
      for (const [name, text] of contents) {
        const at = where.get(name) ?? join(storedDir, name);
        expect(readFileSync(at, "utf8"), `${name} at ${at}`).toBe(text);
      }
      const ownPlace = (name: string) =>
        existsSync(join(storedDir, name)) && readFileSync(join(storedDir, name), "utf8") === contents.get(name);
      expect([...where.keys()].sort()).toEqual([...contents.keys()].filter((n) => !ownPlace(n)).sort());
      expect(where.has(".env") && where.has("a\u200bb") && !where.has("kept.txt")).toBe(true);
      for (const e of stored) {
        expect(e).toMatchObject({ id: done.id, direction: "receive", folder: { root: "dots", group: done.id } });
        expect(e.dir).toBeUndefined();
      }
      const taken = stored.filter((e) => e.nameTaken !== undefined);
      expect(taken.map((e) => [e.nameTaken, e.path.split("/").at(-1)]).sort()).toEqual([
        ["dots/_env", "_env (1)"],
        ["dots/ab", "ab (1)"],
      ]);
      expect(r.stdout.indexOf('"type":"done"')).toBeLessThan(r.stdout.indexOf('"type":"stored"'));
    },
    LONG_MS,
  );
});
