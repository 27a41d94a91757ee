/**
 * Extracts a received zip (magic-wormhole's `directory` offer, already stored whole in a local
 * file) into a new folder of the download directory, safely:
 *
 *   1. read the central directory only (yauzl) and check it against the offer (zip-plan.ts):
 *      nothing is inflated from a zip that names a path outside the folder, a link, more
 *      files or bytes than offered, overlapping data...;
 *   2. inflate each file into a hidden working folder made for this zip alone (mode 0700),
 *      every file created exclusively and without following links, each through the folder
 *      above it held open (zip-folder.ts, held-dir.ts), counting its real inflated bytes and
 *      CRC-32: more bytes than the entry declares stops at once;
 *   3. give the folder its final name only once complete: the sanitised offered name, or
 *      "name (1)", ... if taken; an existing folder is never merged into or replaced.
 *
 * Any failure removes the working folder: nothing of a refused zip stays behind.
 */

import { closeSync, fstatSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import yauzl from "yauzl";
import { osReason, TransferError } from "./errors.ts";
import { HeldDir } from "./held-dir.ts";
import { ZipFolder } from "./zip-folder.ts";
import {
  type DirectoryOffer,
  MAX_ZIP_ENTRIES,
  plannedPath,
  planZip,
  type ZipEntryInfo,
  ZipError,
  type ZipPlan,
} from "./zip-plan.ts";
import { type ZipRename, type ZipStored, zipRenames, zipStoredNames } from "./zip-renames.ts";

export { UNZIP_WORK_PREFIX } from "./zip-folder.ts";

const YIELD_EVERY_ITEMS = 1_000;
/** Largest central directory read (its records are kept while extracting): 64 MiB. */
export const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const FILE_MODE = 0o644;
const EXEC_MODE = 0o755;

export interface ExtractedFolder {
  /** Where the folder now is (where it was, when `detached`). */
  readonly path: string;
  /**
   * No path led to the download folder when the folder was named (its file system unmounted
   * lazily meanwhile): stored all the same, there once it is mounted again (FileReceiver's too).
   */
  readonly detached?: true;
  /** Its name in the download directory (the offered one, sanitised, perhaps numbered). */
  readonly name: string;
  readonly files: number;
  /** Directories made (implied by paths or listed empty), the folder itself not counted. */
  readonly dirs: number;
  /** Inflated bytes written. */
  readonly bytes: number;
  /** Entries stored under a numbered name (their name made safe was taken), and the ones holding those names. */
  readonly renamed: readonly ZipRename[];
  /** Every entry whose own name is not the zip's (made safe, or numbered), for --json. */
  readonly stored: readonly ZipStored[];
}

export interface ExtractOptions {
  /** Called as inflated bytes are written (running total). */
  readonly onProgress?: (bytes: number) => void;
  /**
   * Called with the hidden working folder once it exists, and what removes it (through the
   * folders held, never by its path), so that a caller ending the process early (a signal) can;
   * once the folder has its final name there is nothing to remove.
   */
  readonly onWorkFolder?: (path: string, remove: () => void) => void;
  /** Called once the folder has its final name (tests swap it for a link there). */
  readonly onNamed?: (path: string) => void;
}

/**
 * Checks the zip (its path, or an open descriptor: read where it stands, never reopened by
 * name, which someone else could have swapped meanwhile) against `offer` and extracts it into
 * a new folder of `downloadDir`. A descriptor given stays open (the caller closes it).
 * @throws ZipError (code E_BAD_ZIP) when the zip is refused; TransferError E_WRITE when the
 *   disk fails. Either way nothing is left in `downloadDir`.
 */
export async function extractZipFolder(
  zip: ZipSource,
  downloadDir: string | HeldDir,
  offer: DirectoryOffer,
  options: ExtractOptions = {},
): Promise<ExtractedFolder> {
  const opened = await openZip(zip);
  let download: HeldDir | undefined;
  let work: ZipFolder | undefined;
  let named = false;
  try {
    const { entries, raw } = await readCentralDirectory(opened);
    const plan = planZip(entries, offer, opened.centralDirectoryOffset);
    download = holdDownload(downloadDir);
    // The zip's `.part` (a descriptor: ours, just made here) shows who owns what we make here.
    work = ZipFolder.make(download, typeof zip === "number" ? fstatSync(zip).uid : undefined);
    const made = work;
    options.onWorkFolder?.(work.path, () => made.remove());
    const bytes = await extractInto(opened.file, raw, plan, work, options);
    work.openUp();
    const { path, name } = work.giveFinalName(offer.dirname);
    named = true;
    options.onNamed?.(path);
    work.check(name);
    const renamed = zipRenames(plan, offer.dirname, name);
    const done = { name, files: plan.files, dirs: plan.folders, bytes, renamed, stored: zipStoredNames(plan) };
    // Where the download folder is now (another program may have moved it), or, when no path
    // leads to it any more (`umount -l`), where it was: `detached`, as FileReceiver.finish says.
    const folderNow = download.pathNow();
    if (folderNow === undefined) return { ...done, path, detached: true };
    return { ...done, path: join(folderNow, name) };
  } finally {
    // yauzl's close() would close a descriptor we were lent; left open, its reader just goes.
    if (typeof zip !== "number") opened.file.close();
    // Unfinished: what it made goes, through the folders held (never what is now under its name).
    if (!named) work?.remove();
    work?.close();
    download?.release();
  }
}

/** The download folder held: its path opened, or one more holder of a held one. @throws TransferError E_WRITE */
function holdDownload(downloadDir: string | HeldDir): HeldDir {
  if (typeof downloadDir !== "string") return downloadDir.retain();
  try {
    return HeldDir.open(downloadDir);
  } catch (err) {
    throw new TransferError("E_WRITE", `cannot open ${downloadDir}: ${osReason(err)}`, { cause: err });
  }
}

/** A zip file's path, or its open descriptor. */
export type ZipSource = string | number;

interface OpenZip {
  readonly file: yauzl.ZipFile;
  readonly centralDirectoryOffset: number;
}

function openZip(zip: ZipSource): Promise<OpenZip> {
  return new Promise((resolve, reject) => {
    const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false };
    const opened = (err: Error | null, file?: yauzl.ZipFile) => {
      if (err || !file)
        return reject(new ZipError("E_ZIP_CORRUPT", `not a readable zip: ${err?.message}`, undefined, { cause: err }));
      // Before the first entry is read, the cursor is where the central directory starts.
      resolve({ file, centralDirectoryOffset: Number(file.readEntryCursor) });
    };
    if (typeof zip === "number") yauzl.fromFd(zip, options, opened);
    else yauzl.open(zip, options, opened);
  });
}

/** Every central-directory record, decoded; nothing is inflated yet. */
async function readCentralDirectory(zip: OpenZip): Promise<{ entries: ZipEntryInfo[]; raw: yauzl.Entry[] }> {
  const { file } = zip;
  // The count comes from the end record: refuse a huge one before reading any record.
  if (file.entryCount > MAX_ZIP_ENTRIES) throw new ZipError("E_ZIP_TOO_MANY", `${file.entryCount} entries`);
  // Records are read one at a time and kept for inflating: bound what they may add up to first.
  const directoryBytes = file.fileSize - zip.centralDirectoryOffset;
  if (directoryBytes > MAX_CENTRAL_DIRECTORY_BYTES) {
    throw new ZipError("E_ZIP_TOO_MANY", `a central directory of ${directoryBytes} bytes`);
  }
  const raw: yauzl.Entry[] = [];
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    file.on("entry", (entry: yauzl.Entry) => {
      // decodeStrings is off (its checks end the whole read with an untyped error); decode
      // as yauzl would (UTF-8 flag, Info-ZIP Unicode path, else CP437) and check it ourselves.
      names.push(decodedName(entry));
      // Inflating needs neither the comment nor the extra fields (zip64 sizes are already read).
      entry.fileCommentRaw = EMPTY;
      entry.extraFieldRaw = EMPTY;
      entry.extraFields = [];
      raw.push(entry);
      file.readEntry();
    });
    file.once("end", () => resolve());
    file.once("error", (err: Error) =>
      reject(new ZipError("E_ZIP_CORRUPT", `a damaged central directory: ${err.message}`, undefined, { cause: err })),
    );
    file.readEntry();
  });
  const entries = raw.map(
    (entry, index): ZipEntryInfo => ({
      name: names[index] as string,
      nameBytes: entry.fileNameRaw.length,
      versionMadeBy: entry.versionMadeBy,
      externalAttributes: entry.externalFileAttributes,
      generalPurposeBitFlag: entry.generalPurposeBitFlag,
      compressionMethod: entry.compressionMethod,
      compressedSize: entry.compressedSize,
      uncompressedSize: entry.uncompressedSize,
      localHeaderOffset: entry.relativeOffsetOfLocalHeader,
    }),
  );
  return { entries, raw };
}

/** Creates the plan's directories and files in `work`; returns the inflated bytes written. */
async function extractInto(
  file: yauzl.ZipFile,
  raw: readonly yauzl.Entry[],
  plan: ZipPlan,
  work: ZipFolder,
  options: ExtractOptions,
): Promise<number> {
  let total = 0;
  for (const [index, item] of plan.items.entries()) {
    work.check();
    const components = plannedPath(plan, index);
    const parentComponents = item.parent < 0 ? [] : plannedPath(plan, item.parent);
    if (item.kind === "dir") {
      // Every directory on the way is one made here, in order, and opened without following links.
      work.makeDir(components, item.parent, parentComponents);
      // Folders alone never await: let signals and timers in now and then.
      if (index % YIELD_EVERY_ITEMS === 0) await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    const entry = raw[item.entry] as yauzl.Entry;
    const fd = work.createFile(components, item.parent, parentComponents, item.exec ? EXEC_MODE : FILE_MODE);
    try {
      total = await inflateEntry(file, entry, item.size, fd, total, options);
    } finally {
      closeSync(fd);
    }
  }
  return total;
}

/** Inflates one entry into `fd`, counting bytes and CRC-32 against the central directory. */
async function inflateEntry(
  file: yauzl.ZipFile,
  entry: yauzl.Entry,
  declared: number,
  fd: number,
  totalBefore: number,
  options: ExtractOptions,
): Promise<number> {
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    file.openReadStream(entry, (err, readStream) =>
      err || !readStream
        ? reject(
            new ZipError("E_ZIP_CORRUPT", `cannot read an entry: ${err?.message}`, entryName(entry), { cause: err }),
          )
        : resolve(readStream),
    );
  });
  let written = 0;
  let crc = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > declared) {
        throw new ZipError("E_ZIP_SIZE", `more bytes than the ${declared} declared`, entryName(entry));
      }
      crc = crc32(chunk, crc);
      writeAll(fd, chunk);
      options.onProgress?.(totalBefore + written);
    }
  } catch (err) {
    (stream as unknown as { destroy?: () => void }).destroy?.();
    if (err instanceof TransferError) throw err;
    throw new ZipError("E_ZIP_CORRUPT", `damaged data: ${(err as Error).message}`, entryName(entry), { cause: err });
  }
  if (written !== declared) {
    throw new ZipError("E_ZIP_SIZE", `${written} bytes where ${declared} were declared`, entryName(entry));
  }
  if (crc !== entry.crc32) throw new ZipError("E_ZIP_CORRUPT", "a CRC-32 mismatch", entryName(entry));
  return totalBefore + written;
}

/** Info-ZIP's Unicode Path extra field: the name in UTF-8 beside a CP437 one. */
const UNICODE_PATH_FIELD = 0x7075;
/** General purpose bit 11: the name is UTF-8. */
const UTF8_FLAG = 0x800;

/**
 * An entry's name as yauzl reads it (UTF-8 flag, Unicode Path field, else CP437), but in a CP437
 * name the bytes below 0x20 and 0x7f are the control characters Python's cp437 codec reads (the
 * wormhole client's zipfile writes an ASCII name without the UTF-8 flag), not yauzl's PC glyphs:
 * `a<BEL>b` was stored as `a•b` with no word, where `a<BEL>é` (UTF-8) lost its BEL and was said
 * (renamed-entries shortenedNameLines). A CP437 glyph is one UTF-16 unit a byte, so `i` lines up.
 */
function decodedName(entry: yauzl.Entry): string {
  // strictFileNames: a backslash stays itself, for zip-plan to refuse; yauzl's lenient decoding
  // made `a\b.txt` the folder `a` and its file `b.txt` (a name the sender never had, said nowhere).
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  if ((entry.generalPurposeBitFlag & UTF8_FLAG) !== 0) return name;
  if (entry.extraFields.some((field) => field.id === UNICODE_PATH_FIELD)) return name;
  const raw = entry.fileNameRaw;
  if (!raw.some((byte) => byte < 0x20 || byte === 0x7f)) return name;
  return Array.from(name, (ch, i) => {
    const byte = raw[i] as number;
    return byte < 0x20 || byte === 0x7f ? String.fromCharCode(byte) : ch;
  }).join("");
}

function entryName(entry: yauzl.Entry): string {
  return entry.fileNameRaw.toString("utf8");
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    throw new TransferError("E_WRITE", `cannot write: ${osReason(err)}`, { cause: err });
  }
}
