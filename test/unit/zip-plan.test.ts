/** zip-plan.ts: a zip's central directory checked against its offer, and the names it gets. */

import { describe, expect, test } from "bun:test";
import {
  type DirectoryOffer,
  maxFolders,
  plannedPath,
  planZip,
  type ZipEntryInfo,
  ZipError,
} from "../../src/transfer/index.ts";

const UNIX = 3 << 8;
let offset = 0;
function entry(name: string, fields: Partial<ZipEntryInfo> = {}): ZipEntryInfo {
  offset += 1000;
  const dir = name.endsWith("/");
  return {
    name,
    nameBytes: Buffer.byteLength(name),
    versionMadeBy: UNIX | 20,
    externalAttributes: ((dir ? 0o040755 : 0o100644) << 16) >>> 0,
    generalPurposeBitFlag: 0,
    compressionMethod: dir ? 0 : 8,
    compressedSize: dir ? 0 : 10,
    uncompressedSize: dir ? 0 : 20,
    localHeaderOffset: offset,
    ...fields,
  };
}
const OFFER: DirectoryOffer = { dirname: "d", zipsize: 1e9, numbytes: 1e6, numfiles: 100 };
const plan = (entries: ZipEntryInfo[], offer = OFFER) => planZip(entries, offer, 1e9);
const paths = (entries: ZipEntryInfo[]) => {
  const planned = plan(entries);
  return planned.items.map((i, n) => `${plannedPath(planned, n).join("/")}${i.kind === "dir" ? "/" : ""}`);
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ZipError) return err.zipCode;
    throw err;
  }
  return undefined;
}

describe("planZip", () => {
  test("directories come before what is inside them, each once, explicit or implied", () => {
    expect(paths([entry("a/b/x"), entry("a/"), entry("a/b/"), entry("c/")])).toEqual(["a/", "a/b/", "a/b/x", "c/"]);
  });

  test('"./" (an empty folder, as Parley zips it) is the folder itself: nothing planned; "./x" still refused', () => {
    expect(paths([entry("./")])).toEqual([]);
    expect(paths([entry("./"), entry("a.txt")])).toEqual(["a.txt"]);
    expect(codeOf(() => plan([entry("./x")]))).toBe("E_ZIP_BAD_NAME");
    expect(codeOf(() => plan([entry(".")]))).toBe("E_ZIP_BAD_NAME");
  });

  test("a file and a folder of the same name: the folder that comes second is numbered", () => {
    expect(paths([entry("a"), entry("a/b")])).toEqual(["a", "a (1)/", "a (1)/b"]);
  });

  test("the executable bit comes from the Unix mode; other hosts' attributes give none", () => {
    const items = plan([
      entry("run", { externalAttributes: (0o100755 << 16) >>> 0 }),
      entry("dos.exe", { versionMadeBy: 20, externalAttributes: 0x20 }),
    ]).items;
    expect(items.map((i) => i.exec)).toEqual([true, false]);
  });

  test("an MS-DOS directory attribute makes a directory", () => {
    expect(
      paths([entry("folder", { versionMadeBy: 20, externalAttributes: 0x10, compressedSize: 0, uncompressedSize: 0 })]),
    ).toEqual(["folder/"]);
  });

  test.each<[string, ZipEntryInfo[], string]>([
    ["a path 65 deep", [entry(`${"x/".repeat(64)}f`)], "E_ZIP_BAD_NAME"],
    ["an unknown method", [entry("f", { compressionMethod: 12 })], "E_ZIP_METHOD"],
    ["a stored entry whose sizes differ", [entry("f", { compressionMethod: 0, compressedSize: 5 })], "E_ZIP_CORRUPT"],
    ["a directory with data", [entry("d/", { uncompressedSize: 5 })], "E_ZIP_CORRUPT"],
    ["data running into the central directory", [entry("f", { localHeaderOffset: 1e9 - 20 })], "E_ZIP_CORRUPT"],
    ["a socket", [entry("s", { externalAttributes: (0o140644 << 16) >>> 0 })], "E_ZIP_SPECIAL"],
    ["a directory entry and a file of one name", [entry("a/"), entry("a")], "E_ZIP_DUPLICATE"],
  ])("%s is refused", (_what, entries, code) => {
    expect(codeOf(() => plan(entries))).toBe(code);
  });

  test("exactly the offered files and bytes pass; one more of either does not", () => {
    const two = [entry("a"), entry("b")];
    expect(plan(two, { ...OFFER, numfiles: 2, numbytes: 40 }).bytes).toBe(40);
    expect(codeOf(() => plan(two, { ...OFFER, numfiles: 1, numbytes: 40 }))).toBe("E_ZIP_TOO_MANY");
    expect(codeOf(() => plan(two, { ...OFFER, numfiles: 2, numbytes: 39 }))).toBe("E_ZIP_TOO_LARGE");
  });

  test("10,000 names that become one after sanitising get distinct numbers without quadratic work", () => {
    // Invisible characters (Unicode Cf) are dropped: every one of these names becomes "a".
    const invisible = [
      "\u200b",
      "\u200c",
      "\u200d",
      "\u2060",
      "\u2061",
      "\u2062",
      "\u2063",
      "\u2064",
      "\ufeff",
      "\u00ad",
    ];
    const names: string[] = [];
    for (const x of invisible)
      for (const y of invisible) for (const z of invisible) for (const w of invisible) names.push(`a${x}${y}${z}${w}`);
    const planned = plan(
      names.map((n) => entry(n)),
      { ...OFFER, numfiles: names.length, numbytes: 20 * names.length },
    );
    const stored = new Set(planned.items.map((i) => i.name));
    expect(stored.size).toBe(10_000);
    expect(stored.has("a")).toBe(true);
    expect(stored.has("a (9999)")).toBe(true);
  }, 20_000);

  test("folders count: a zip of folders offered as 0 files is refused past one deep chain", () => {
    const none = { ...OFFER, numfiles: 0, numbytes: 0 };
    expect(
      codeOf(() =>
        plan(
          Array.from({ length: 1000 }, (_, i) => entry(`d${i}/`)),
          none,
        ),
      ),
    ).toBe("E_ZIP_TOO_MANY");
    expect(plan([entry(`${"x/".repeat(63)}`)], none).folders).toBe(63);
    expect(maxFolders({ ...OFFER, numfiles: 10 })).toBe(104);
  });
});
