/**
 * The transfer lines count in words: "1 byte", not "1 B, 1 bytes"; "1 entry", not "1 entries";
 * a size under 1 KiB once ("900 bytes"), larger ones in both units ("1.0 KiB, 1024 bytes").
 */

import { expect, test } from "bun:test";
import { count, sizeWords } from "../../src/cli/counts.ts";
import type { TransferDone, TransferInfo } from "../../src/session/index.ts";
import { linePresenter } from "../presenter-lines.ts";

const done = (info: TransferInfo, extra: Partial<TransferDone> = {}): TransferDone => ({
  ...info,
  bytes: info.size ?? 0,
  resumedFrom: 0,
  algo: "xxh3",
  digest: "0123456789abcdef",
  ...extra,
});

/** Entries a, b, c (ids 1, 3, 5) of folder d of `entries` entries and 4000 bytes, of `sizes` bytes. */
function folderEntries(
  direction: TransferInfo["direction"],
  sizes: readonly [number, number, number],
  entries: number,
): [TransferInfo, TransferInfo, TransferInfo] {
  return ["a", "b", "c"].map(
    (name, i): TransferInfo => ({
      id: 2 * i + 1,
      direction,
      name,
      size: sizes[i] as number,
      folder: { group: 1, root: "d", path: [name], entries, bytes: 4000 },
    }),
  ) as [TransferInfo, TransferInfo, TransferInfo];
}

test.each([
  [0, "0 bytes"],
  [1, "1 byte"],
  [1023, "1023 bytes"],
  [1024, "1.0 KiB, 1024 bytes"],
])("sizeWords(%p) is %p", (bytes, words) => {
  expect(sizeWords(bytes)).toBe(words);
});

test("count: singular only for exactly 1", () => {
  expect([0, 1, 2].map((n) => count(n, "entry", "entries"))).toEqual(["0 entries", "1 entry", "2 entries"]);
});

/** The lines of a 1-byte file a.txt received and finished with `extra`. */
function receivedLines(extra: Partial<TransferDone>): string[] {
  const { lines, p } = linePresenter();
  const info: TransferInfo = { id: 1, direction: "receive", name: "a.txt", size: 1 };
  p.started(info);
  p.finished(done(info, extra));
  return lines;
}

test("a 1-byte file, received: one byte, said once", () => {
  expect(receivedLines({ path: "/in/a.txt" })).toEqual([
    "Receiving #1 a.txt (1 byte).",
    "The transfer command is done. The receiver has received a total of 1 byte from the sender.",
    "Saved /in/a.txt; XXH3-64 checksum matched (0123456789abcdef).",
  ]);
});

test("a file from a plain wormhole sender (no checksum of its own): ours is shown, not said to match", () => {
  expect(receivedLines({ path: "/in/a.txt", unverified: true }).at(-1)).toBe(
    "Saved /in/a.txt, without a checksum from the sender to compare (ours: XXH3-64 0123456789abcdef).",
  );
});

test("a file stored in a download folder unmounted lazily meanwhile: said where it was and where it will be", () => {
  expect(receivedLines({ path: "/mnt/usb/a.txt", detached: true }).at(-1)).toBe(
    "Saved /mnt/usb/a.txt; XXH3-64 checksum matched (0123456789abcdef). Its folder's file system was unmounted meanwhile: it is there once that is mounted again.",
  );
});

test("a plain wormhole sender's file stored in a folder unmounted meanwhile: said too, and in its --json done", async () => {
  // Before, plainReceivedDone dropped the file receiver's `detached`: the line and --json said nothing of it.
  const { plainReceivedDone } = await import("../../src/cli/plain-run.ts");
  const { JsonReporter } = await import("../../src/cli/json-reporter.ts");
  const info: TransferInfo = { id: 1, direction: "receive", name: "a.txt", size: 1 };
  const got = { bytes: 1, path: "/mnt/usb/a.txt", algo: "sha256", digest: "ab", detached: true } as const;
  const doneOfPlain = plainReceivedDone(info, got);
  expect(doneOfPlain.detached).toBe(true);
  expect(receivedLines(doneOfPlain).at(-1)).toBe(
    "Saved /mnt/usb/a.txt, without a checksum from the sender to compare (ours: SHA-256 ab). Its folder's file system was unmounted meanwhile: it is there once that is mounted again.",
  );
  const written: string[] = [];
  const out = { write: (text: string) => written.push(text) > 0 };
  new JsonReporter(out as never, out as never).done(doneOfPlain);
  expect(written.map((line) => JSON.parse(line)).find((e) => e.type === "done")?.detached).toBe(true);
});

test("a 1-byte file, sent, resumed from 1 byte: 'was there', '0 bytes moved'", () => {
  const { lines, p } = linePresenter();
  const info: TransferInfo = { id: 1, direction: "send", name: "a.txt", size: 1 };
  p.started(info);
  p.finished(done(info, { resumedFrom: 1 }));
  expect(lines).toEqual([
    "Sending #1 a.txt (1 byte).",
    "Resumed a.txt: 1 byte was there from an earlier attempt, 0 bytes moved now.",
    "The transfer command is done. The sender has sent a total of 1 byte to the receiver.",
    "#1 a.txt: the receiver saved it and its XXH3-64 checksum matched (0123456789abcdef).",
  ]);
});

test("a folder of one entry: '1 entry' at the start and the end, and 'its' checksum", () => {
  const { lines, p } = linePresenter();
  const folder = { group: 1, root: "d", path: ["only.txt"], entries: 1, bytes: 5 };
  const info: TransferInfo = { id: 1, direction: "send", name: "only.txt", size: 5, folder };
  p.started(info);
  p.finished(done(info));
  expect(lines).toEqual([
    "Sending folder d: 1 entry, 5 bytes.",
    "The transfer command is done. The sender has sent a total of 5 bytes to the receiver.",
    "Folder d: the receiver saved 1 entry, its XXH3-64 checksum matched.", // was "each"
  ]);
});

test("a command of several cut short says, once the session ends, what it did move on each side", () => {
  // Its totals wait for its last transfer; when the session ends first (the connection lost,
  // sends still waiting their turn dropped, a peer that promised more than it offered), they
  // must still be said, not lost: before the command's tag each file said its own.
  for (const direction of ["send", "receive"] as const) {
    const { lines, p } = linePresenter();
    const command = { seq: 1, transfers: 20 };
    const a: TransferInfo = { id: 1, direction, name: "a.txt", size: 3, command };
    const b: TransferInfo = { id: 3, direction, name: "b.txt", size: 7, command };
    p.started(a);
    p.finished(done(a, { path: "/in/a.txt" }));
    p.started(b);
    p.failed(b, "the connection was lost");
    expect(lines.filter((l) => l.startsWith("The transfer command"))).toEqual([]);
    p.sessionEnded();
    const total =
      direction === "send"
        ? "the sender has sent a total of 3 bytes to the receiver"
        : "the receiver has received a total of 3 bytes from the sender";
    expect(lines.filter((l) => l.startsWith("The transfer command"))).toEqual([
      `The transfer command is incomplete: 1 of 20 transfers saved by the receiver, 1 failed, 18 never came; ${total}.`,
    ]);
    p.sessionEnded(); // said once
    expect(lines.filter((l) => l.startsWith("The transfer command"))).toHaveLength(1);
  }
});

test("a command cut short of which nothing was saved says no total", () => {
  const { lines, p } = linePresenter();
  const a: TransferInfo = { id: 1, direction: "send", name: "a.txt", size: 3, command: { seq: 1, transfers: 3 } };
  p.started(a);
  p.failed(a, "the connection was lost");
  p.sessionEnded();
  expect(lines.filter((l) => l.startsWith("The transfer command"))).toEqual([
    "The transfer command is incomplete: 0 of 3 transfers saved by the receiver, 1 failed, 2 never came.",
  ]);
});

test("a folder cut short says how many of its bytes moved, on each side: what its saved and its cut entries had", () => {
  for (const [direction, moved] of [
    ["receive", "arrived"],
    ["send", "were sent, 1450 of them confirmed by the receiver"],
  ] as const) {
    const { lines, p } = linePresenter();
    const [a, b, c] = folderEntries(direction, [1000, 1000, 1000], 4);
    for (const entry of [a, b, c]) p.started(entry);
    p.progressed(a, 1000);
    p.finished(done(a, { path: "/in/d/a" }));
    p.progressed(b, 300);
    p.progressed(c, 250);
    // Cut: its 300 bytes are kept to resume; the sender's, what the receiver confirmed of them.
    const confirmed = (bytes: number) => (direction === "send" ? { confirmedBytes: bytes } : {});
    p.failed({ ...b, ...confirmed(200) }, "connection lost", true);
    p.failed({ ...c, ...confirmed(250) }, "connection lost", true);
    p.sessionEnded(); // the fourth never came
    const hint = direction === "send" ? "Sending" : "The sender sending";
    expect(lines.filter((l) => l.startsWith("Folder d"))).toEqual([
      `Folder d is incomplete: 1 of 4 entries ${direction === "send" ? "were sent" : "arrived"}, 2 failed, 1 never came; 1550 of its 4000 bytes ${moved}. ${hint} the folder again continues it.`,
    ]);
  }
});

test("a folder whose every entry was cut says the bytes its entries had moved; one refused says none", () => {
  const { lines, p } = linePresenter();
  const folder = (name: string) => ({ group: 1, root: "d", path: [name], entries: 2, bytes: 2000 });
  const [a, b] = ["a", "b"].map(
    (name, i): TransferInfo => ({ id: 2 * i + 1, direction: "receive", name, size: 1000, folder: folder(name) }),
  ) as [TransferInfo, TransferInfo];
  p.started(a);
  p.started(b);
  p.progressed(a, 700);
  p.progressed(b, 1);
  p.failed(a, "the peer left (interrupted)", true);
  p.failed(b, "the peer left (interrupted)", true);
  expect(lines.at(-1)).toBe(
    "Folder d: nothing was saved. 2 of 2 entries failed (see above; 1 more for the same reason). 701 of its 2000 bytes arrived. The sender sending the folder again continues it.",
  );
  const refused = linePresenter();
  refused.p.started(a);
  refused.p.progressed(a, 700);
  refused.p.failed(a, "the checksum did not match");
  refused.p.failed(b, "the checksum did not match");
  expect(refused.lines.at(-1)).toBe(
    "Folder d: nothing was saved. 2 of 2 entries failed (see above; 1 more for the same reason).",
  );
});

test("a folder of which nothing was saved: the sender's summary says so as the receiver's does, not 'saved 0 entries'", () => {
  // The sender said 'Folder d: the receiver saved 0 entries. 2 of 2 entries failed ...' where the
  // receiver said 'Folder d: nothing was saved. ...', and the README (cancel) says both sides
  // say the latter (newuser24: receive --ask answered n to a folder).
  const { lines, p } = linePresenter();
  const folder = (name: string) => ({ group: 1, root: "d", path: [name], entries: 2, bytes: 2000 });
  for (const [i, name] of ["a", "b"].entries()) {
    p.failed(
      { id: 2 * i + 1, direction: "send", name, size: 1000, folder: folder(name) },
      "the peer declined: the receiver said no",
    );
  }
  expect(lines.at(-1)).toBe(
    "Folder d: nothing was saved. 2 of 2 entries failed (see above; 1 more for the same reason).",
  );
});

test("sent to a plain wormhole receiver whose ack had no SHA-256: not said to have matched", () => {
  const { lines, p } = linePresenter();
  const info: TransferInfo = { id: 1, direction: "send", name: "a.bin", size: 1 };
  p.started(info);
  p.finished(done(info, { algo: "sha256", digest: "ab12", unverified: true }));
  expect(lines.at(-1)).toBe(
    "#1 a.bin: the receiver said it saved it, without a checksum to compare (ours: SHA-256 ab12).",
  );
  expect(lines.join("\n")).not.toContain("matched");
});

test("sent to a receive --ask whose input ended: the first decline said, the rest in one line when their command ends", () => {
  const { lines, p } = linePresenter();
  const reason = "the peer declined: nobody answered at the receiver (its input ended)";
  // The chat's transfers of one file each (no command): each line at once.
  const a: TransferInfo = { id: 1, direction: "send", name: "a.txt", size: 1 };
  const b: TransferInfo = { id: 3, direction: "send", name: "b.txt", size: 1 };
  p.started(a);
  p.failed(a, reason, false, true);
  p.started(b);
  p.failed(b, reason, false, true);
  // A command of two: one line for both, before its summary.
  const command = { seq: 2, transfers: 2 };
  const c: TransferInfo = { id: 5, direction: "send", name: "c.txt", size: 1, command };
  const d: TransferInfo = { id: 7, direction: "send", name: "d.txt", size: 1, command };
  p.started(c);
  p.started(d);
  p.failed(c, reason, false, true);
  expect(lines.filter((l) => /declined/.test(l))).toHaveLength(2); // c waits for its command's end
  p.failed(d, reason, false, true);
  expect(p.sessionEnded()).toBe(0);
  expect(lines).toEqual([
    "Sending #1 a.txt (1 byte).",
    `Sending #1 a.txt failed: ${reason}.`,
    "Sending #3 b.txt (1 byte).",
    "The receiver declined 1 more offer without asking (its input had ended): #3 b.txt.",
    "Sending #5 c.txt (1 byte).",
    "Sending #7 d.txt (1 byte).",
    "The receiver declined 2 more offers without asking (its input had ended): #5 c.txt, #7 d.txt.",
    "All 2 transfers of this command have ended: 0 saved by the receiver, 2 failed.",
  ]);
});

test("a folder's entry cut after it resumed, before a byte more moved: the folder's bytes count where it resumed from", () => {
  // Before, only a progress counted an entry's bytes: one resumed from 600 and cut before its
  // first DATA (the sender's window full, --limit-rate) counted 0, and the sender said
  // '1250 of its 4000 bytes were sent, 1850 of them confirmed by the receiver'.
  for (const [direction, moved] of [
    ["receive", "arrived"],
    ["send", "were sent, 1850 of them confirmed by the receiver"],
  ] as const) {
    const { lines, p } = linePresenter();
    const [a, b, c] = folderEntries(direction, [1000, 2000, 1000], 3);
    for (const entry of [a, b, c]) p.started(entry);
    p.progressed(a, 1000);
    p.finished(done(a, { path: "/in/d/a" }));
    p.resumed(b, 600);
    p.progressed(c, 250);
    const confirmed = (bytes: number) => (direction === "send" ? { confirmedBytes: bytes } : {});
    p.failed({ ...b, ...confirmed(600) }, "connection lost", true);
    p.failed({ ...c, ...confirmed(250) }, "connection lost", true);
    // "Folder d: the receiver saved 1 entry, ..." (sender), "Saved folder /in/d: ..." (receiver).
    const summary = lines.filter((l) => / of 3 entries failed /.test(l));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toContain(` 1850 of its 4000 bytes ${moved}. `);
  }
});
