/**
 * --json's events for a folder's entries: an empty folder's entry says `dir: true` in its
 * `folder`, so its `done` (no bytes, the checksum of nothing) is not read as a 0-byte file's.
 */

import { expect, test } from "bun:test";
import { JsonReporter } from "../../src/cli/json-reporter.ts";
import type { TransferDone, TransferInfo } from "../../src/session/index.ts";

test("an empty folder's offer and done carry folder.dir; a 0-byte file's do not", () => {
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(s) === 0 || true };
  const reporter = new JsonReporter(out, out, true);
  const entry = (id: number, name: string, dir: boolean): TransferInfo => ({
    id,
    direction: "receive",
    name,
    size: 0,
    folder: { group: 1, root: "top", path: [name], entries: 2, bytes: 0, ...(dir ? { dir: true } : {}) },
  });
  const done = (info: TransferInfo): TransferDone => ({
    ...info,
    bytes: 0,
    resumedFrom: 0,
    algo: "sha256",
    digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    path: `/in/top/${info.name}`,
  });
  for (const info of [entry(1, "empty", true), entry(3, "zero.bin", false)]) {
    reporter.offered(info);
    reporter.done(done(info));
  }
  const events = lines.map((line) => JSON.parse(line) as { type: string; name: string; folder?: { dir?: boolean } });
  const of = (type: string, name: string) => events.find((e) => e.type === type && e.name === name);
  expect(of("offer", "empty")?.folder?.dir).toBe(true);
  expect(of("done", "empty")?.folder?.dir).toBe(true);
  expect(of("offer", "zero.bin")?.folder).not.toHaveProperty("dir");
  expect(of("done", "zero.bin")?.folder).not.toHaveProperty("dir");
});

test("E_FOLDER_INCOMPLETE of a sender whose entry was cut after it resumed, before a byte more went: sent counts where it resumed from", () => {
  // Before: sent 250 (only progress counted), bytes (confirmed) 850: more confirmed than sent.
  const lines: string[] = [];
  const out = { write: (s: string) => lines.push(s) === 0 || true };
  const reporter = new JsonReporter(out, out, true);
  const entry = (id: number, name: string): TransferInfo => ({
    id,
    direction: "send",
    name,
    size: 1000,
    folder: { group: 1, root: "top", path: [name], entries: 3, bytes: 3000 },
  });
  const [b, c] = [entry(1, "b"), entry(3, "c")];
  for (const info of [b, c]) reporter.offered(info);
  reporter.resumed(b, 600);
  reporter.progressed(c, 250);
  reporter.failed({ ...b, confirmedBytes: 600 }, "connection lost", "E_CONNECTION", true);
  reporter.failed({ ...c, confirmedBytes: 250 }, "connection lost", "E_CONNECTION", true);
  reporter.sessionEnded();
  const incomplete = lines.map((l) => JSON.parse(l)).find((e) => e.code === "E_FOLDER_INCOMPLETE");
  expect(incomplete?.folder).toMatchObject({ entries: 3, failed: 2, bytes: 850, sent: 850 });
  expect(incomplete?.message).toEndWith("; 850 of its 3000 bytes were sent, 850 of them confirmed by the receiver");
});
