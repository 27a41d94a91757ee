/**
 * Builds the zip that a folder is sent as to a plain magic-wormhole peer (a `directory` offer,
 * mode `zipfile/deflated`). As wormhole's own sender does, the zip is written to a temporary
 * file first: the offer must say its size (zipsize) before any byte goes.
 *
 * What goes in follows Parley's folder rules (folder-walk.ts): regular files and empty
 * directories, paths relative to the folder, links never followed, special files left out and
 * reported; an empty folder is one "./" directory entry. Entries carry Unix modes (0644, 0755 for executables and directories): the
 * wormhole client chmods each extracted entry to the mode it finds, and 0 would leave it
 * unreadable. A file whose first 64 KiB do not shrink under deflate (media, archives, random
 * data) is stored rather than deflated: deflating it would cost about 30 MiB/s of CPU here for
 * nothing. Memory stays bounded: files are opened one at a time, as the zip reaches them.
 */

import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { deflateRawSync } from "node:zlib";
import yazl from "yazl";
import { osReason, TransferError } from "./errors.ts";
import { isListedFile } from "./file-identity.ts";
import { type FileId, type FolderItem, type FolderListing, type SkippedEntry, walkFolder } from "./folder-walk.ts";

/** Bytes sampled from the start of a file to decide whether deflating it is worth it. */
const SAMPLE_BYTES = 64 * 1024;
/** Deflate a file when its sample shrinks to at most this fraction. */
const WORTH_DEFLATING = 0.9;
const FILE_MODE = 0o100644;
const EXEC_MODE = 0o100755;
const DIR_MODE = 0o040755;

export interface BuiltZip {
  /** The zip file (in a temporary folder: call `remove` when done). */
  readonly path: string;
  /** The offer's fields (file-transfer-protocol.md). */
  readonly dirname: string;
  readonly zipsize: number;
  readonly numbytes: number;
  /** Entries: files and empty directories. */
  readonly numfiles: number;
  readonly files: number;
  /** Entries left out: links, special files, unreadable files, names with a backslash. */
  readonly skipped: readonly SkippedEntry[];
  /** Removes the zip and its temporary folder. */
  remove(): void;
}

export interface ZipBuildOptions {
  /** Where the temporary folder is made; default the system's (TMPDIR). */
  readonly tempParent?: string;
  /**
   * The temporary folder is made: `remove` removes it and what is in it (the run is ending
   * before the zip is done: a signal). BuiltZip.remove does the same once it is built.
   */
  readonly onWorkFolder?: (remove: () => void) => void;
}

/**
 * Zips `folder` into a new temporary file.
 * @throws TransferError E_READ when the folder or a file cannot be read, E_WRITE when the
 *   temporary file cannot be written
 */
export function buildFolderZip(folder: string, options: ZipBuildOptions = {}): Promise<BuiltZip> {
  return buildListingZip(walkFolder(folder), options);
}

/**
 * Zips what `listing` names (made earlier by walkFolder: the files may have changed since).
 * Each file is opened without following a link and without blocking (a FIFO swapped in), must
 * still be a regular file and the file listed (walkFolder's lstat: device and inode, as
 * FileSender checks a folder's entry), and when its turn comes is reopened the same way and
 * must be that file still: a link or another file swapped in since the listing is never read.
 */
export async function buildListingZip(listing: FolderListing, options: ZipBuildOptions = {}): Promise<BuiltZip> {
  const folder = listing.root;
  const skipped = [...listing.skipped];
  const tempParent = options.tempParent ?? tmpdir();
  let work: string;
  try {
    work = mkdtempSync(join(tempParent, "parley-zip-"));
  } catch (err) {
    throw new TransferError("E_WRITE", `cannot create a folder in ${tempParent}: ${osReason(err)}`, { cause: err });
  }
  const remove = (): void => rmSync(work, { recursive: true, force: true });
  options.onWorkFolder?.(remove);
  const path = join(work, `${listing.root}.zip`);
  const zip = new yazl.ZipFile();
  // yazl tells a failure part-way (a file shorter than listed, one changed before its turn) on the
  // ZipFile alone, where nothing listened (an uncaught error): its output fails with it now, and so
  // does the pipeline below.
  zip.on("error", (err: Error) => (zip.outputStream as Readable).destroy(err));
  // The entries opened so far: a failure part-way leaves the one being read open (yazl stops
  // reading it), so each is destroyed (closed) then.
  const opened: ReturnType<typeof createReadStream>[] = [];
  let numfiles = 0;
  let files = 0;
  let numbytes = 0;
  /** The entry the zip reads now (entries are opened one at a time, in order, as it reaches them). */
  let reading: string | undefined;
  try {
    for (const item of listing.items) {
      const name = item.rel.join("/");
      if (item.rel.length === 0) {
        // The folder itself, empty. A zip with no entry makes the wormhole client create
        // nothing; a "./" directory entry makes it create the folder (it extracts every entry
        // into the folder it names, and "./" is that folder).
        zip.addEmptyDirectory(".", { mode: DIR_MODE });
        numfiles++;
        continue;
      }
      if (name.includes("\\")) {
        skipped.push({ rel: name, kind: "backslash" }); // yazl would turn it into a path separator, and peers refuse it
        continue;
      }
      if (item.kind === "dir") {
        zip.addEmptyDirectory(name, { mode: DIR_MODE });
        numfiles++;
        continue;
      }
      const probe = probeFile(item);
      if (probe === undefined) {
        skipped.push({ rel: name, kind: "unreadable" });
        continue;
      }
      zip.addReadStreamLazy(
        name,
        { size: item.size, mtime: probe.mtime, mode: probe.exec ? EXEC_MODE : FILE_MODE, compress: probe.deflate },
        (callback) => {
          reading = name;
          const fd = openSame(item.path, probe.identity);
          if (fd === undefined) callback(new Error(`${name} changed while the folder was zipped`), undefined as never);
          else {
            const stream = createReadStream("", { fd });
            opened.push(stream);
            callback(null, stream);
          }
        },
      );
      numfiles++;
      files++;
      numbytes += item.size;
    }
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(path, { flags: "wx" }));
    const zipsize = statSync(path).size;
    return { path, dirname: listing.root, zipsize, numbytes, numfiles, files, skipped, remove };
  } catch (err) {
    for (const stream of opened) stream.destroy();
    remove();
    if (err instanceof TransferError) throw err;
    // yazl's words for a file that read shorter or longer than listed ("file data stream has
    // unexpected number of bytes"): say which file, as openSame's "changed" does.
    const resized = reading !== undefined && err instanceof Error && /unexpected number of bytes/.test(err.message);
    const why = resized ? `${reading} changed size while the folder was zipped` : osReason(err);
    throw new TransferError("E_READ", `cannot zip ${folder}: ${why}`, { cause: err });
  }
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** `path` opened as the regular file `identity` names, or undefined (gone, a link, another file). */
function openSame(path: string, identity: FileId): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isFile() && isListedFile(stats, identity, path)) return fd;
  } catch {
    // Not told: not read.
  }
  closeSync(fd);
  return undefined;
}

/**
 * Whether the file opens as the regular file listed, and how to store it; undefined when it
 * cannot be read or is not the one listed (replaced since: another file renamed over it).
 */
function probeFile(item: FolderItem): { mtime: Date; exec: boolean; deflate: boolean; identity: FileId } | undefined {
  let fd: number;
  try {
    fd = openSync(item.path, OPEN_FLAGS);
  } catch {
    return undefined; // unreadable, gone, or a link now
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return undefined; // a FIFO or device swapped in since the listing
    if (item.id && !isListedFile(stats, item.id, item.path)) return undefined;
    const sample = Buffer.allocUnsafe(Math.min(SAMPLE_BYTES, item.size));
    const n = sample.length === 0 ? 0 : readSync(fd, sample, 0, sample.length, 0);
    const deflate = n > 0 && deflateRawSync(sample.subarray(0, n), { level: 1 }).length <= n * WORTH_DEFLATING;
    return {
      mtime: stats.mtime,
      exec: (stats.mode & 0o100) !== 0,
      deflate,
      identity: item.id ?? { dev: stats.dev, ino: stats.ino },
    };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
