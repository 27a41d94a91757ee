/**
 * FOLDER_END (session 14), the pure parts: its wire bytes and checks, the HELLO feature that
 * gates it, PeerFolders' count of a folder ended whole, and the lines and tallies of a folder
 * failed with no entry of it to carry that (TransferInfo.folderOnly).
 */

import { expect, test } from "bun:test";
import { failureWords } from "../../src/cli/reason-words.ts";
import {
  type ControlFrame,
  encodeMessage,
  Feature,
  FrameDecoder,
  type Message,
  makeHello,
  OWN_FEATURES,
  parseMessage,
  readsFolderEnd,
} from "../../src/protocol/index.ts";
import type { TransferDone, TransferInfo } from "../../src/session/index.ts";
import { PeerFolders, wholeFolderInfo } from "../../src/session/peer-folders.ts";
import { CommandTally } from "../../src/ui/command-tally.ts";
import { linePresenter } from "../presenter-lines.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const utf8 = new TextEncoder();

function frameOf(type: number, body: string): ControlFrame {
  const [frame] = new FrameDecoder().push(Uint8Array.from([0, 0, 0, body.length + 1, type, ...utf8.encode(body)]));
  return frame as ControlFrame;
}

test("FOLDER_END is tag 0x12 with a JSON body {group, code, detail}, keys in that order", () => {
  const message: Message = { kind: "folderEnd", group: 7, code: "E_CANCELLED", detail: "folder" };
  const body = '{"group":7,"code":"E_CANCELLED","detail":"folder"}';
  expect(hex(encodeMessage(message))).toBe(`000000${(body.length + 1).toString(16)}12${hex(utf8.encode(body))}`);
  expect(parseMessage(frameOf(0x12, body))).toEqual(message);
  expect(parseMessage(frameOf(0x12, '{"group":3,"code":"E_CANCELLED","extra":1}'))).toEqual({
    kind: "folderEnd",
    group: 3,
    code: "E_CANCELLED",
  });
});

test.each([
  ["group 0", '{"group":0,"code":"E_CANCELLED"}'],
  ["no group", '{"code":"E_CANCELLED"}'],
  ["group above 2^32-1", `{"group":${2 ** 32},"code":"E_CANCELLED"}`],
  ["no code", '{"group":1}'],
  ["a code that is a sentence", '{"group":1,"code":"cancelled by me"}'],
  ["a detail that is a path", '{"group":1,"code":"E_CANCELLED","detail":"a/b"}'],
])("FOLDER_END with %s is E_BAD_MESSAGE", (_what, body) => {
  expect(() => parseMessage(frameOf(0x12, body))).toThrow(expect.objectContaining({ code: "E_BAD_MESSAGE" }));
});

test("this build says folder-end in its HELLO; a HELLO without it (an older peer) is never sent FOLDER_END", () => {
  expect(OWN_FEATURES).toContain(Feature.FolderEnd);
  expect(readsFolderEnd(makeHello("0123456789abcdef", "a"))).toBe(true);
  expect(readsFolderEnd(makeHello("0123456789abcdef", "a", ["early-acks", "relay-window"]))).toBe(false);
  expect(readsFolderEnd(undefined)).toBe(false);
});

test("PeerFolders.endedWhole: the entries never offered, once; already cancelled folders: none; a folder never offered: a protocol error", () => {
  const folders = new PeerFolders();
  const photos = { group: 3, root: "photos", entries: 5, bytes: 50 };
  const command = { seq: 1, transfers: 6 };
  folders.offered({ ...photos, path: ["a"] }, command);
  folders.offered({ ...photos, path: ["b"] }, command);
  expect(() => folders.endedWhole(9)).toThrow("FOLDER_END for folder 9, never offered");
  expect(folders.endedWhole(3)).toBe(3);
  expect(folders.endedWhole(3)).toBeUndefined();
  expect(folders.offered({ ...photos, path: ["c"] })).toEqual({ code: "E_CANCELLED", detail: "folder" });
  expect(folders.wholeInfo(3, 3)).toEqual({
    id: 3,
    direction: "receive",
    name: "photos",
    size: 50,
    folder: { group: 3, root: "photos", path: [], entries: 5, bytes: 50 },
    command,
    folderRest: 3,
    folderOnly: true,
  });
  const cancelled = new PeerFolders();
  cancelled.offered({ ...photos, path: ["a"] });
  cancelled.cancelled({ id: 3, direction: "receive", name: "a", size: 10, folder: { ...photos, path: ["a"] } });
  expect(cancelled.endedWhole(3)).toBeUndefined();
});

test("a folder failed with no entry to carry it: one line naming the folder, its rest counted once in the folder's and the command's tallies", () => {
  for (const direction of ["receive", "send"] as const) {
    const { lines, p } = linePresenter();
    const folder = { group: 1, root: ".photos", entries: 5, bytes: 50 };
    const entry = (i: number): TransferInfo => ({
      id: 2 * i + 1,
      direction,
      name: `e${i}`,
      size: 10,
      folder: { ...folder, path: [`e${i}`] },
    });
    const done = (info: TransferInfo): TransferDone => ({
      ...info,
      bytes: 10,
      resumedFrom: 0,
      algo: "xxh3",
      digest: "0123456789abcdef",
      ...(direction === "receive" ? { path: `/in/_photos/${info.name}` } : {}),
    });
    for (const i of [0, 1, 2]) p.started(entry(i));
    const whole = wholeFolderInfo(direction, folder, 2, undefined);
    const why = direction === "receive" ? ({ by: "peer", said: "cancel" } as const) : ({ by: "us" } as const);
    const words = failureWords(whole, "E_CANCELLED", { ...why, code: "E_CANCELLED", detail: "folder" });
    p.failed(whole, words, false, false, true); // E_CANCELLED
    for (const i of [0, 1, 2]) p.finished(done(entry(i)));
    const name = direction === "receive" ? "_photos" : ".photos";
    expect(lines.slice(1)).toEqual(
      direction === "receive"
        ? [
            `Receiving folder ${name} failed: the peer cancelled it: cancelled by the sender, with its whole folder.`,
            // It said "The transfer command is done. ...", the words of a command all of which was saved.
            "The transfer command ended: the folder was cancelled, 3 of its 5 entries saved by the receiver; the receiver has received a total of 30 bytes from the sender.",
            "Saved folder /in/_photos: 3 entries, each XXH3-64 checksum matched. 2 of 5 entries cancelled (see above).",
          ]
        : [
            `Sending folder ${name} failed: cancelled by the sender, with its whole folder.`,
            "The transfer command ended: the folder was cancelled, 3 of its 5 entries saved by the receiver; the sender has sent a total of 30 bytes to the receiver.",
            "Folder .photos: the receiver saved 3 entries, each XXH3-64 checksum matched. 2 of 5 entries cancelled (see above).",
          ],
    );
    expect(p.sessionEnded()).toBe(0); // not incomplete
  }
  const commands = new CommandTally();
  const command = { seq: 4, transfers: 3 };
  expect(commands.ended({ direction: "receive", command }, 10)).toBeUndefined();
  const whole = wholeFolderInfo("receive", { group: 1, root: "d", entries: 3, bytes: 30 }, 2, command);
  expect(commands.ended(whole, undefined)).toEqual({
    transfers: 3,
    saved: 1,
    failed: 2,
    cancelled: 0,
    bytes: 10,
    cutBytes: 0,
    entries: 2,
  });
});
