/**
 * Folder entries whose names are the same once made safe (`.env` and `_env`, `a<LF>b` and `ab`),
 * with real processes (`parley send` to `parley receive` on 127.0.0.1): the receiver stores one of
 * each pair under a numbered name and says which entry went where; the sender says the same from
 * RECEIVED's names; --json's `done` names the safe name found taken. Every stored file is compared
 * byte for byte with the file the lines say it is.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Cli, cleanup, jsonReceiver, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;

/** dots/: two pairs of names the same once made safe, and one name kept. */
function dots(): { folder: string; contents: Map<string, string> } {
  const folder = join(makeTempDir(), "dots");
  mkdirSync(folder);
  const contents = new Map([
    [".env", "the dot env\n"],
    ["_env", "the underscore env\n"],
    ["a\nb", "a line feed in my name\n"],
    ["ab", "plain ab\n"],
    ["kept.txt", "kept\n"],
  ]);
  for (const [name, text] of contents) writeFileSync(join(folder, name), text);
  return { folder, contents };
}

/** The lines `lead` "SENT" as STORED[: ... was taken]. → sent name (in dots/) → stored name (in dots/). */
function said(cli: Cli, lead: string): Map<string, string> {
  const re = new RegExp(`^${lead} ("(?:[^"\\\\]|\\\\.)*") as dots/(.+?)(?:: dots/.+ was taken)?\\.$`);
  const out = new Map<string, string>();
  for (const line of cli.linesMatching(new RegExp(`^${lead} "`))) {
    const m = re.exec(line);
    if (!m) throw new Error(`not a stored line: ${line}`);
    out.set((JSON.parse(m[1] as string) as string).replace(/^dots\//, ""), m[2] as string);
  }
  return out;
}

/** `parley send FOLDER` to a `parley receive` into a new folder; both have ended with 0. */
async function sendAcross(folder: string): Promise<{ dir: string; receiver: Cli; sender: Cli }> {
  const dir = makeTempDir();
  const receiver = startCli("receiver", ["receive", "--dir", dir, "--no-progress"]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const sender = startCli("sender", ["send", folder, "--to", match[1] as string, "--no-progress"]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.exitCode(), receiver.describe()).toBe(0);
  return { dir, receiver, sender };
}

/** Each stored file holds the bytes of the entry the mapping (or its own name) says it is. */
function compare(stored: string, contents: Map<string, string>, whereSaid: Map<string, string>): void {
  const where = new Map([...contents.keys()].map((name) => [name, whereSaid.get(name) ?? name]));
  expect(new Set(where.values()).size, "two entries said to be in one file").toBe(contents.size);
  expect(readdirSync(stored).sort()).toEqual([...where.values()].sort());
  for (const [name, text] of contents) expect(readFileSync(join(stored, where.get(name) as string), "utf8")).toBe(text);
}

test(
  "names the same once made safe: both sides say which entry went where, and the files are what they say",
  async () => {
    const { folder, contents } = dots();
    const { dir, receiver, sender } = await sendAcross(folder);
    const received = said(receiver, "Stored");
    // The numbered one of each pair is said, with the name it found taken; `.env` and `a<LF>b`
    // are said too (stored as `_env` and `ab`, or numbered).
    expect([...received.values()].filter((s) => / \(1\)$/.test(s)).sort()).toEqual(["_env (1)", "ab (1)"]);
    expect(received.has(".env")).toBe(true);
    expect(received.has("a\nb")).toBe(true);
    expect(receiver.linesMatching(/^Stored "dots\/a\\nb" as /)).toHaveLength(1); // escaped, not cut in two
    compare(join(dir, "dots"), contents, received);
    expect(said(sender, "The receiver stored")).toEqual(received);
  },
  TEST_MS,
);

test(
  "receive --json: a numbered entry's done event names the safe name it found taken",
  async () => {
    const { folder, contents } = dots();
    const dir = makeTempDir();
    const receiver = await jsonReceiver(dir);
    const sender = startCli("sender", ["send", folder, "--to", receiver.code, "--no-progress"]);
    expect(await sender.exitCode(), sender.describe()).toBe(0);
    expect(await receiver.cli.exitCode(), receiver.cli.describe()).toBe(0);
    const done = receiver.cli.lines
      .map((l) => JSON.parse(l) as { type: string; path?: string; nameTaken?: string; folder?: { path: string } })
      .filter((e) => e.type === "done");
    const where = new Map(done.map((e) => [e.folder?.path as string, (e.path as string).split("/").at(-1) as string]));
    const taken = done.filter((e) => e.nameTaken !== undefined);
    expect(taken.map((e) => [e.nameTaken, (e.path as string).split("/").at(-1)]).sort()).toEqual([
      ["dots/_env", "_env (1)"],
      ["dots/ab", "ab (1)"],
    ]);
    compare(join(dir, "dots"), contents, where);
  },
  TEST_MS,
);

test(
  "package.json and _package.json in one folder: one is numbered once stored as _package.json, both sides say which went where",
  async () => {
    const folder = join(makeTempDir(), "dots");
    mkdirSync(folder);
    const contents = new Map([
      ["package.json", '{"name": "the peer\'s"}\n'],
      ["_package.json", "the underscore one\n"],
    ]);
    for (const [name, text] of contents) writeFileSync(join(folder, name), text);
    const { dir, receiver, sender } = await sendAcross(folder);
    const received = said(receiver, "Stored");
    expect(
      [...received.values()].filter((s) => / \(1\)\.json$/.test(s)),
      receiver.describe(),
    ).toEqual(["_package (1).json"]);
    expect(readdirSync(join(dir, "dots")).includes("package.json"), "a package.json stored under its own name").toBe(
      false,
    );
    compare(join(dir, "dots"), contents, received);
    expect(said(sender, "The receiver stored")).toEqual(received);
  },
  TEST_MS,
);

test(
  "entries a received-name rule stored elsewhere (package.json, node_modules/, a control character): the receiver says where, ten lines then the count; not a leading dot",
  async () => {
    // Before: no line said them (only a numbered entry's), and a person looked for
    // proj/package.json and proj/node_modules/ in vain.
    const folder = join(makeTempDir(), "proj");
    mkdirSync(join(folder, "node_modules"), { recursive: true });
    const contents = new Map([
      ["package.json", '{"name": "the peer\'s"}\n'],
      ["a\u0007b.txt", "a bell in my name\n"],
      [".env", "the dot env\n"],
      ["kept.txt", "kept\n"],
    ]);
    for (let i = 0; i < 11; i++) contents.set(`node_modules/m${10 + i}.js`, `module ${i}\n`);
    for (const [name, text] of contents) writeFileSync(join(folder, name), text);
    const { dir, receiver } = await sendAcross(folder);
    const lines = receiver.linesMatching(/^Stored "|^\.\.\. and /);
    expect(lines, receiver.describe()).toHaveLength(11);
    expect(lines.at(-1)).toBe("... and 3 more entries stored under other names than sent.");
    // Each line's file holds that entry's bytes; the count comes before the folder's summary.
    for (const line of lines.slice(0, 10)) {
      const m = /^Stored ("(?:[^"\\]|\\.)*") as proj\/(.+)\.$/.exec(line);
      expect(m, line).not.toBeNull();
      const sent = (JSON.parse(m?.[1] as string) as string).replace(/^proj\//, "");
      expect(readFileSync(join(dir, "proj", m?.[2] as string), "utf8")).toBe(contents.get(sent) as string);
    }
    expect(lines.some((l) => l.includes(".env"))).toBe(false);
    const all = receiver.lines;
    const summary = all.findIndex((l) => l.startsWith("The transfer command is done"));
    expect(summary, receiver.describe()).toBeGreaterThan(all.indexOf(lines.at(-1) as string));
    expect(readFileSync(join(dir, "proj", "_package.json"), "utf8")).toBe(contents.get("package.json") as string);
    expect(readFileSync(join(dir, "proj", "_env"), "utf8")).toBe(contents.get(".env") as string);
  },
  TEST_MS,
);
