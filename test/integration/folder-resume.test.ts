/**
 * A folder sent again into the unfinished folder an interrupted attempt left (it still has
 * its marker): a `.part` resumes, a file stored whole is checked instead of sent again, a file
 * that changed arrives beside the old copy (never over it), the rest arrives, and the marker
 * goes once everything is verified. A finished folder (no marker) is never taken up.
 */

import { afterEach, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FolderEntry } from "../../src/protocol/index.ts";
import { ExistingCopy, UNFINISHED_MARKER, unfinishedMarkerText } from "../../src/transfer/index.ts";
import { connectedPair, markAsParleyPart, type TestPeer, writeRandomFile } from "./peers.ts";

const peers: TestPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

const KiB = 1024;
const FILES = { "a.bin": 600 * KiB, "b.bin": 1500 * KiB, "c.bin": 300 * KiB } as const;
type Name = keyof typeof FILES;

/** Alice's folder "photos" with the three files; returns their contents. */
function makeSource(alice: TestPeer): Record<Name, Uint8Array> {
  mkdirSync(join(alice.dir, "photos"));
  const out = {} as Record<Name, Uint8Array>;
  for (const [name, size] of Object.entries(FILES) as Array<[Name, number]>) {
    out[name] = writeRandomFile(join(alice.dir, "photos", name), size);
  }
  return out;
}

/** Sends alice's "photos" as one folder transfer and waits until bob has ended every entry. */
async function sendFolder(alice: TestPeer, bob: TestPeer, group: number): Promise<void> {
  const names = Object.keys(FILES) as Name[];
  const bytes = names.reduce((n, name) => n + FILES[name], 0);
  const before = bob.events.length;
  for (const name of names) {
    const folder: FolderEntry = { group, root: "photos", path: [name], entries: names.length, bytes };
    alice.session?.sendFile(join(alice.dir, "photos", name), folder);
  }
  const ended = () => bob.events.slice(before).filter((e) => e.type === "finished" || e.type === "failed").length;
  await bob.waitUntil(() => ended() >= names.length); // finished or failed: a cancel ends them all
}

const TOTAL_BYTES = Object.values(FILES).reduce((n, size) => n + size, 0);

/**
 * What an interrupted first attempt leaves on the receiver: "photos" with its marker, written
 * for a folder of `entries` entries and `bytes` bytes (the same as alice's by default).
 */
function unfinishedPhotos(bob: TestPeer, entries = 3, bytes = TOTAL_BYTES): string {
  const dir = join(bob.dir, "photos");
  mkdirSync(dir);
  writeFileSync(
    join(dir, UNFINISHED_MARKER),
    unfinishedMarkerText({ group: 0, root: "photos", path: [], entries, bytes }),
  );
  return dir;
}

function finishedOf(bob: TestPeer, name: string) {
  const hit = bob.events.find((e) => e.type === "finished" && e.done.name === name);
  if (hit?.type !== "finished") throw new Error(`${name} did not finish: ${JSON.stringify(bob.events)}`);
  return hit.done;
}

test("sent again into its unfinished folder: .part resumes, a whole file is checked not resent, the rest arrives", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  const source = makeSource(alice);
  // The first attempt got a.bin whole, b.bin half, c.bin not yet.
  const unfinished = unfinishedPhotos(bob);
  writeFileSync(join(unfinished, "a.bin"), source["a.bin"]);
  markAsParleyPart(join(unfinished, "a.bin"), join(alice.dir, "photos", "a.bin")); // stored from its marked .part
  writeFileSync(join(unfinished, "b.bin.part"), source["b.bin"].subarray(0, 700 * KiB));
  markAsParleyPart(join(unfinished, "b.bin.part"), join(alice.dir, "photos", "b.bin"));

  await sendFolder(alice, bob, 1);

  expect(finishedOf(bob, "a.bin").resumedFrom).toBe(FILES["a.bin"]); // checked, no DATA
  expect(finishedOf(bob, "b.bin").resumedFrom).toBe(700 * KiB);
  expect(finishedOf(bob, "c.bin").resumedFrom).toBe(0);
  for (const name of Object.keys(FILES) as Name[]) {
    expect(Buffer.compare(readFileSync(join(unfinished, name)), Buffer.from(source[name]))).toBe(0);
  }
  expect(readdirSync(bob.dir)).toEqual(["photos"]); // no "photos (1)"
  expect(readdirSync(unfinished).sort()).toEqual(["a.bin", "b.bin", "c.bin"]); // marker gone, no .part
});

test("a file that changed since the first attempt arrives beside the old copy, never over it", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  const source = makeSource(alice);
  const unfinished = unfinishedPhotos(bob);
  const oldCopy = crypto.getRandomValues(new Uint8Array(FILES["a.bin"]));
  writeFileSync(join(unfinished, "a.bin"), oldCopy);
  markAsParleyPart(join(unfinished, "a.bin"), join(alice.dir, "photos", "a.bin"));

  await sendFolder(alice, bob, 1);

  const a = finishedOf(bob, "a.bin");
  expect(a.resumedFrom).toBe(0);
  expect(a.path).toBe(join(unfinished, "a (1).bin"));
  expect(Buffer.compare(readFileSync(join(unfinished, "a.bin")), Buffer.from(oldCopy))).toBe(0);
  expect(Buffer.compare(readFileSync(join(unfinished, "a (1).bin")), Buffer.from(source["a.bin"]))).toBe(0);
  expect(existsSync(join(unfinished, UNFINISHED_MARKER))).toBe(false);
});

test("a whole copy stored for another sender is never checked for this one: no digest, a new file beside it", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  const source = makeSource(alice);
  const unfinished = unfinishedPhotos(bob);
  // The same bytes, but stored for someone else's transfer (another resume token).
  writeFileSync(join(unfinished, "a.bin"), source["a.bin"]);
  markAsParleyPart(join(unfinished, "a.bin"), "/elsewhere/photos/a.bin");

  await sendFolder(alice, bob, 1);

  const a = finishedOf(bob, "a (1).bin");
  expect(a.resumedFrom).toBe(0); // no digest was offered for it
  expect(a.path).toBe(join(unfinished, "a (1).bin"));
});

test("a finished folder (no marker) is never taken up: the same folder again goes to photos (1)", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  const source = makeSource(alice);
  await sendFolder(alice, bob, 1);
  expect(existsSync(join(bob.dir, "photos", UNFINISHED_MARKER))).toBe(false);
  await sendFolder(alice, bob, 3);
  expect(readdirSync(bob.dir).sort()).toEqual(["photos", "photos (1)"]);
  expect(Buffer.compare(readFileSync(join(bob.dir, "photos (1)", "c.bin")), Buffer.from(source["c.bin"]))).toBe(0);
});

test("a folder transfer with an entry that failed keeps its marker, for a later attempt", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  makeSource(alice);
  // The receiver cancels b.bin as soon as its data starts (with its whole folder): the folder did not arrive whole.
  bob.onProgress = (info) => {
    if (info.name === "b.bin") bob.session?.cancel(info.id);
  };
  await sendFolder(alice, bob, 1);
  expect(bob.events.some((e) => e.type === "failed" && e.info.name === "b.bin")).toBe(true);
  expect(existsSync(join(bob.dir, "photos", UNFINISHED_MARKER))).toBe(true);
});

test("an unfinished folder of another folder transfer (other entries or bytes) is not merged into", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  makeSource(alice);
  const other = unfinishedPhotos(bob, 7, 12_345);
  writeFileSync(join(other, "a.bin"), "someone else's a.bin");
  await sendFolder(alice, bob, 1);
  expect(readdirSync(bob.dir).sort()).toEqual(["photos", "photos (1)"]);
  expect(readFileSync(join(other, "a.bin"), "utf8")).toBe("someone else's a.bin");
  expect(existsSync(join(other, UNFINISHED_MARKER))).toBe(true); // still the other one's
});

test("a folder entry stored as movie.part is not taken for an interrupted transfer of movie", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  mkdirSync(join(alice.dir, "film"));
  const part = writeRandomFile(join(alice.dir, "film", "movie.part"), 1000);
  const whole = writeRandomFile(join(alice.dir, "film", "movie"), 5000);
  const entry = (name: string): FolderEntry => ({ group: 1, root: "film", path: [name], entries: 2, bytes: 6000 });
  alice.session?.sendFile(join(alice.dir, "film", "movie.part"), entry("movie.part"));
  await bob.waitFor("finished", (e) => e.done.name === "movie.part");
  alice.session?.sendFile(join(alice.dir, "film", "movie"), entry("movie"));
  // Its .part name is a stored file: it goes under the next free name instead, and the
  // stored movie.part is left as it was.
  const done = await bob.waitFor("finished", (e) => e.done.folder?.path[0] === "movie");
  expect(done.done.resumedFrom).toBe(0);
  expect(readFileSync(join(bob.dir, "film", "movie.part")).equals(Buffer.from(part))).toBe(true);
  expect(readFileSync(done.done.path as string).equals(Buffer.from(whole))).toBe(true);
});

test("a whole copy changed after it was checked is not reported verified", async () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-copy-"));
  try {
    const bytes = crypto.getRandomValues(new Uint8Array(4096));
    writeFileSync(join(dir, "a.bin"), bytes);
    markAsParleyPart(join(dir, "a.bin")); // stored from a .part of an offer without a token
    const copy = ExistingCopy.open(dir, "a.bin", 1, bytes.length, "xxh3") as ExistingCopy;
    const digest = (await copy.hashPrefix()) as string;
    truncateSync(join(dir, "a.bin"), 3);
    expect(() => copy.finish({ bytes: bytes.length, algo: "xxh3", digest })).toThrow(
      /changed while it was being checked/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an unfinished folder another process is receiving into right now is not taken up", async () => {
  const [alice, bob] = await connectedPair("xxh3");
  peers.push(alice, bob);
  makeSource(alice);
  const unfinished = unfinishedPhotos(bob);
  // Another receiver process holds the marker, as a receiver does while it uses the folder.
  const lockModule = join(import.meta.dir, "../../src/transfer/file-lock.ts");
  const holder = Bun.spawn(
    [
      process.execPath,
      "-e",
      `import { openSync } from "node:fs";
       import { tryLockExclusive } from ${JSON.stringify(lockModule)};
       const fd = openSync(${JSON.stringify(join(unfinished, UNFINISHED_MARKER))}, "r");
       console.log(tryLockExclusive(fd) ? "LOCKED" : "BUSY");
       setInterval(() => {}, 1000);`,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  try {
    const { value } = await holder.stdout.getReader().read();
    expect(new TextDecoder().decode(value).trim()).toBe("LOCKED");
    await sendFolder(alice, bob, 1);
    expect(readdirSync(bob.dir).sort()).toEqual(["photos", "photos (1)"]);
    expect(existsSync(join(unfinished, UNFINISHED_MARKER))).toBe(true); // the other one's, untouched
  } finally {
    holder.kill();
    await holder.exited;
  }
});
