/** zip-renames.ts: which of a zip's entries went where when names are the same once made safe. */

import { expect, test } from "bun:test";
import { type DirectoryOffer, planZip, type ZipEntryInfo } from "../../src/transfer/index.ts";
import { zipRenames, zipStoredNames } from "../../src/transfer/zip-renames.ts";

let offset = 0;
function file(name: string): ZipEntryInfo {
  offset += 1000;
  return {
    name,
    nameBytes: Buffer.byteLength(name),
    versionMadeBy: (3 << 8) | 20,
    externalAttributes: (0o100644 << 16) >>> 0,
    generalPurposeBitFlag: 0,
    compressionMethod: 8,
    compressedSize: 10,
    uncompressedSize: 20,
    localHeaderOffset: offset,
  };
}
const OFFER: DirectoryOffer = { dirname: "d", zipsize: 1e9, numbytes: 1e6, numfiles: 100 };
const renames = (names: string[], stored = "d") => zipRenames(planZip(names.map(file), OFFER, 1e9), "d", stored);

test("the numbered entry, and the one made safe that holds its name, in either order", () => {
  expect(renames([".env", "_env", "kept"])).toEqual([
    { sent: "d/_env", stored: "d/_env (1)", taken: "d/_env" },
    { sent: "d/.env", stored: "d/_env" },
  ]);
  expect(renames(["_env", ".env"], "d (1)")).toEqual([
    { sent: "d/.env", stored: "d (1)/_env (1)", taken: "d (1)/_env" },
  ]);
});

test("folders numbered too, their entries named under both paths; a name made safe alone is not said", () => {
  expect(renames([".cfg/a", "_cfg/b", "x\u200b/c"])).toEqual([
    { sent: "d/_cfg", stored: "d/_cfg (1)", taken: "d/_cfg" },
    { sent: "d/.cfg", stored: "d/_cfg" },
  ]);
});

test("three the same once made safe: the holder said once", () => {
  expect(renames([".env", "_env", "\u200b_env"])).toEqual([
    { sent: "d/_env", stored: "d/_env (1)", taken: "d/_env" },
    { sent: "d/.env", stored: "d/_env" },
    { sent: "d/\u200b_env", stored: "d/_env (2)", taken: "d/_env" },
  ]);
});

test("for --json, every entry whose own name is not the zip's, in the zip's order, below the folder", () => {
  const plan = planZip([".env", "_env", "x\u200b/c", "kept", ".cfg/a"].map(file), OFFER, 1e9);
  expect(zipStoredNames(plan)).toEqual([
    { sent: ".env", stored: "_env", dir: false },
    { sent: "_env", stored: "_env (1)", taken: "_env", dir: false },
    { sent: "x\u200b", stored: "x", dir: true },
    { sent: ".cfg", stored: "_cfg", dir: true },
  ]);
  expect(zipStoredNames(planZip([".d/.e"].map(file), OFFER, 1e9))).toEqual([
    { sent: ".d", stored: "_d", dir: true },
    { sent: ".d/.e", stored: "_d/_e", dir: false },
  ]);
});
