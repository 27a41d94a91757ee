/**
 * walkFolder (transfer/folder-walk.ts): links and special files are left out with their kind,
 * so the user hears "a symbolic link" or "a named pipe" rather than one line for all; a folder
 * holding only such entries is still listed (it arrives empty), as an empty folder is.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WALK_SLICE_MS, walkFolder, walkFolderSoon } from "../../src/transfer/folder-walk.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test("links, FIFOs and sockets are skipped with their kind; a folder of only a link stays as a folder", () => {
  const parent = mkdtempSync(join(tmpdir(), "parley-walk-"));
  made.push(parent);
  const root = join(parent, "root");
  mkdirSync(join(root, "only-link"), { recursive: true });
  mkdirSync(join(root, "empty"));
  writeFileSync(join(root, "a.txt"), "a");
  symlinkSync("/etc/passwd", join(root, "link"));
  symlinkSync("../a.txt", join(root, "only-link", "rel"));
  expect(Bun.spawnSync(["mkfifo", join(root, "pipe")]).exitCode).toBe(0);
  const server = Bun.listen({ unix: join(root, "sock"), socket: { data() {} } });
  try {
    const listing = walkFolder(root);
    expect([...listing.skipped].sort((a, b) => a.rel.localeCompare(b.rel))).toEqual([
      { rel: "link", kind: "link" },
      { rel: "only-link/rel", kind: "link" },
      { rel: "pipe", kind: "fifo" },
      { rel: "sock", kind: "socket" },
    ]);
    expect(listing.items.map((i) => `${i.kind} ${i.rel.join("/")}`).sort()).toEqual([
      "dir empty",
      "dir only-link",
      "file a.txt",
    ]);
  } finally {
    server.stop(true);
  }
});

test("a name that is not UTF-8 is skipped as such (it crashed the walk with ENOENT: its string named no file)", () => {
  const parent = mkdtempSync(join(tmpdir(), "parley-walk-"));
  made.push(parent);
  const root = join(parent, "root");
  mkdirSync(root);
  writeFileSync(join(root, "ok.txt"), "ok");
  const bad = (name: string) => Buffer.concat([Buffer.from(`${root}/${name}`), Buffer.from([0xff])]);
  writeFileSync(bad("file"), "x");
  mkdirSync(bad("dir"));
  const listing = walkFolder(root);
  expect([...listing.skipped].sort((a, b) => a.rel.localeCompare(b.rel))).toEqual([
    { rel: "dir\uFFFD", kind: "name" },
    { rel: "file\uFFFD", kind: "name" },
  ]);
  expect(listing.items.map((i) => i.rel.join("/"))).toEqual(["ok.txt"]);
});

test("walkFolderSoon lists what walkFolder lists, handing the event loop back between slices", async () => {
  const parent = mkdtempSync(join(tmpdir(), "parley-walk-"));
  made.push(parent);
  const root = join(parent, "root");
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(root, `d${d}`), { recursive: true });
    for (let f = 0; f < 500; f++) writeFileSync(join(root, `d${d}`, `f${f}`), "");
  }
  mkdirSync(join(root, "empty"));
  const started = performance.now();
  const whole = walkFolder(root);
  const slices = Math.floor((performance.now() - started) / WALK_SLICE_MS);
  let turns = 0;
  let counted = 0;
  const timer = setInterval(() => turns++, 0);
  try {
    const soon = await walkFolderSoon(root, (entries) => {
      expect(entries).toBeGreaterThanOrEqual(counted);
      counted = entries;
    });
    expect(soon).toEqual(whole);
  } finally {
    clearInterval(timer);
  }
  // The event loop ran while it walked (a synchronous walk of this takes several slices here).
  if (slices >= 2) expect(turns, `${slices} slices`).toBeGreaterThan(0);
  expect(counted).toBeGreaterThan(0);
});
