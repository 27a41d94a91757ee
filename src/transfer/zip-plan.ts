/**
 * Checks a received zip's central directory against its offer, pure: what magic-wormhole's
 * `directory` offer promised (numbytes inflated, numfiles) and Parley's folder rules, before
 * a single byte is inflated. The result is the plan of what to create: directories and files
 * under sanitised names, each file with the inflated size the zip declares (the extractor then
 * refuses any entry whose real bytes exceed it).
 *
 * Refused (ZipError): an entry outside the folder (absolute path, drive letter, a `..` or `.`
 * or empty component; a backslash is no separator here: `a\b.txt` is one name, made safe below), a link or any other special file, an encrypted entry, a
 * compression method other than stored or deflated, the same name twice, more files or more
 * declared bytes than offered, entry data that overlaps another's or runs into the central
 * directory (the overlapping-entries zip bomb), and a declared ratio deflate cannot reach.
 * Names are then sanitised exactly as Parley's own folders do (file-names.ts: no controls,
 * a leading dot becomes `_`, a name with a backslash keeps what follows its last one, as any
 * offered name), and two names that become one get "name (1)".
 */

import { TransferError } from "./errors.ts";
import { numberedName, sanitizeFileName } from "./file-names.ts";

/** Most entries a zip may hold (a few hundred thousand files is already a very big folder). */
export const MAX_ZIP_ENTRIES = 200_000;
/** Most folders a zip may make, whatever its offer says (see maxFolders). */
export const MAX_ZIP_FOLDERS = 100_000;
/** Folders allowed per offered file (the paths its files sit in). */
const FOLDERS_PER_FILE = 4;
/** Most components in an entry's path (as MAX_PATH_DEPTH for Parley's own folders). */
export const MAX_ZIP_DEPTH = 64;
/** Longest entry name, in UTF-16 units (names of 64 components of 240 bytes stay below). */
export const MAX_ZIP_NAME_LENGTH = 16_384;
/**
 * Deflate cannot expand data more than about 1032 times (RFC 1951: a 258-byte match costs at
 * least 2 bits): a declared size beyond this is a lie or a bomb.
 */
export const MAX_DEFLATE_RATIO = 1032;
/** Bytes of a local file header before its name (APPNOTE 4.3.7). */
const LOCAL_HEADER_BYTES = 30;

export type ZipErrorCode =
  | "E_ZIP_CORRUPT"
  | "E_ZIP_BAD_NAME"
  | "E_ZIP_LINK"
  | "E_ZIP_SPECIAL"
  | "E_ZIP_ENCRYPTED"
  | "E_ZIP_METHOD"
  | "E_ZIP_DUPLICATE"
  | "E_ZIP_TOO_MANY"
  | "E_ZIP_TOO_LARGE"
  | "E_ZIP_BOMB"
  | "E_ZIP_SIZE";

/** A received zip refused: nothing of it is stored. `entry` names the entry at fault. */
export class ZipError extends TransferError {
  override name = "ZipError";
  constructor(
    readonly zipCode: ZipErrorCode,
    message: string,
    readonly entry?: string,
    options?: ErrorOptions,
  ) {
    super("E_BAD_ZIP", message, options);
  }
}

/** What a `directory` offer promised about the zip (file-transfer-protocol.md). */
export interface DirectoryOffer {
  readonly dirname: string;
  /** Bytes of the zip itself. */
  readonly zipsize: number;
  /** Total inflated bytes. */
  readonly numbytes: number;
  /** Files (and, from some senders, directories) in it. */
  readonly numfiles: number;
}

/** One central-directory record, as the zip reader decoded it. */
export interface ZipEntryInfo {
  readonly name: string;
  /** Bytes of the raw name (the local header repeats it before the data). */
  readonly nameBytes: number;
  /** Host system in the high byte: 3 = Unix, whose mode sits in the high 16 bits of the attributes. */
  readonly versionMadeBy: number;
  readonly externalAttributes: number;
  readonly generalPurposeBitFlag: number;
  readonly compressionMethod: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

export interface PlannedItem {
  readonly kind: "file" | "dir";
  /** Index in the entries given (-1 for a directory only implied by its files). */
  readonly entry: number;
  /** Index in the plan's items of the directory it goes in; -1: the new folder itself. */
  readonly parent: number;
  /** Its sanitised name in that directory. */
  readonly name: string;
  /** Its name as the zip gives it, when that is not `name` (made safe, or numbered: zip-renames.ts). */
  readonly sent?: string;
  /** Declared inflated bytes (0 for a directory). */
  readonly size: number;
  readonly exec: boolean;
}

export interface ZipPlan {
  /** Directories before anything inside them. */
  readonly items: readonly PlannedItem[];
  readonly files: number;
  readonly folders: number;
  readonly bytes: number;
}

/** The components of item `index`'s path, relative to the new folder (built on demand: paths are not kept). */
export function plannedPath(plan: ZipPlan, index: number): string[] {
  const components: string[] = [];
  for (let at = index; at >= 0; ) {
    const item = plan.items[at] as PlannedItem;
    components.push(item.name);
    at = item.parent;
  }
  return components.reverse();
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const HOST_UNIX = 3;
const MSDOS_DIRECTORY = 0x10;
const FLAG_ENCRYPTED = 0x1;

/** A directory being planned: its item, the names taken in it, its subdirectories by raw name. */
interface DirNode {
  readonly index: number;
  readonly taken: Set<string>;
  /** Sanitised name -> the next number to try for it: clashes cost O(1) each, not O(clashes). */
  readonly next: Map<string, number>;
  readonly children: Map<string, DirNode>;
}

const newDir = (index: number): DirNode => ({ index, taken: new Set(), next: new Map(), children: new Map() });

/**
 * Folders a zip may make: a few per offered file (the paths they sit in) plus one chain as deep
 * as allowed, and never more than MAX_ZIP_FOLDERS. Each costs disk space (a block) and time,
 * and none is in the offer's counts: without a bound a zip of empty folders offered as "0
 * files, 0 bytes" makes hundreds of thousands.
 */
export function maxFolders(offer: DirectoryOffer): number {
  return Math.min(MAX_ZIP_FOLDERS, FOLDERS_PER_FILE * offer.numfiles + MAX_ZIP_DEPTH);
}

/**
 * The plan for extracting `entries`, or the first reason to refuse them. Linear in the entries
 * and their name lengths.
 * @param centralDirectoryOffset - where the central directory starts: entry data must end before it
 * @throws ZipError
 */
export function planZip(
  entries: readonly ZipEntryInfo[],
  offer: DirectoryOffer,
  centralDirectoryOffset: number,
): ZipPlan {
  if (entries.length > MAX_ZIP_ENTRIES) {
    throw new ZipError("E_ZIP_TOO_MANY", `${entries.length} entries, more than ${MAX_ZIP_ENTRIES}`);
  }
  checkLayout(entries, centralDirectoryOffset);
  const items: PlannedItem[] = [];
  const root = newDir(-1);
  const seen = new Set<string>();
  const folderLimit = maxFolders(offer);
  let files = 0;
  let folders = 0;
  let bytes = 0;
  const dirFor = (components: readonly string[], upTo: number, from: ZipEntryInfo): DirNode => {
    let node = root;
    for (let i = 0; i < upTo; i++) {
      const component = components[i] as string;
      let child = node.children.get(component);
      if (!child) {
        if (++folders > folderLimit) {
          throw new ZipError(
            "E_ZIP_TOO_MANY",
            `more than ${folderLimit} folders for ${offer.numfiles} files`,
            from.name,
          );
        }
        const name = freeName(node, component);
        const sent = name === component ? {} : { sent: component };
        items.push({ kind: "dir", entry: -1, parent: node.index, name, ...sent, size: 0, exec: false });
        child = newDir(items.length - 1);
        node.children.set(component, child);
      }
      node = child;
    }
    return node;
  };
  entries.forEach((info, index) => {
    const kind = entryKind(info);
    // "./": the folder itself (how Parley's own zip says an empty folder): nothing to make.
    if (kind === "dir" && info.name === "./") return;
    const components = checkedComponents(info.name);
    const key = components.join("/");
    if (seen.has(key)) throw new ZipError("E_ZIP_DUPLICATE", `two entries named ${key}`, info.name);
    seen.add(key);
    if (kind === "dir") {
      dirFor(components, components.length, info);
      return;
    }
    checkSizes(info);
    files++;
    bytes += info.uncompressedSize;
    if (files > offer.numfiles) {
      throw new ZipError("E_ZIP_TOO_MANY", `more files than the ${offer.numfiles} offered`, info.name);
    }
    if (bytes > offer.numbytes) {
      throw new ZipError("E_ZIP_TOO_LARGE", `more than the ${offer.numbytes} bytes offered`, info.name);
    }
    const parent = dirFor(components, components.length - 1, info);
    const last = components.at(-1) ?? "";
    const name = freeName(parent, last);
    const exec = info.versionMadeBy >> 8 === HOST_UNIX && ((info.externalAttributes >>> 16) & 0o111) !== 0;
    const sent = name === last ? {} : { sent: last };
    items.push({ kind: "file", entry: index, parent: parent.index, name, ...sent, size: info.uncompressedSize, exec });
  });
  return { items, files, folders, bytes };
}

/** A sanitised, not yet taken name in `dir`; taken from then on. */
function freeName(dir: DirNode, component: string): string {
  const safe = sanitizeFileName(component);
  let n = dir.next.get(safe) ?? 0;
  while (dir.taken.has(numberedName(safe, n))) n++;
  const name = numberedName(safe, n);
  dir.taken.add(name);
  dir.next.set(safe, n + 1);
  return name;
}

/** "file" or "dir"; @throws ZipError for links, devices, FIFOs, sockets, encrypted entries */
function entryKind(info: ZipEntryInfo): "file" | "dir" {
  if (info.generalPurposeBitFlag & FLAG_ENCRYPTED) {
    throw new ZipError("E_ZIP_ENCRYPTED", "an encrypted entry", info.name);
  }
  const unixMode = info.versionMadeBy >> 8 === HOST_UNIX ? info.externalAttributes >>> 16 : 0;
  const type = unixMode & S_IFMT;
  if (type === S_IFLNK) throw new ZipError("E_ZIP_LINK", "a symbolic link", info.name);
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
    throw new ZipError("E_ZIP_SPECIAL", "a special file (device, FIFO or socket)", info.name);
  }
  const dir = info.name.endsWith("/") || type === S_IFDIR || (type === 0 && info.externalAttributes & MSDOS_DIRECTORY);
  if (dir && (info.uncompressedSize !== 0 || info.compressedSize > 2)) {
    throw new ZipError("E_ZIP_CORRUPT", "a directory entry with data", info.name);
  }
  return dir ? "dir" : "file";
}

/** The name's components; @throws ZipError E_ZIP_BAD_NAME when any could leave the folder */
function checkedComponents(name: string): string[] {
  if (name.length === 0 || name.length > MAX_ZIP_NAME_LENGTH) {
    throw new ZipError("E_ZIP_BAD_NAME", "an empty or overlong name", name.slice(0, 200));
  }
  if (name.includes("\0")) throw new ZipError("E_ZIP_BAD_NAME", "a NUL in a name", name);
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) {
    throw new ZipError("E_ZIP_BAD_NAME", "an absolute path", name);
  }
  const components = name.replace(/\/$/, "").split("/");
  if (components.length > MAX_ZIP_DEPTH) throw new ZipError("E_ZIP_BAD_NAME", "a path too deep", name);
  for (const component of components) {
    if (component === "" || component === "." || component === "..") {
      throw new ZipError("E_ZIP_BAD_NAME", "a path leaving the folder", name);
    }
  }
  return components;
}

/** @throws ZipError when a method is unknown or the declared sizes cannot be true */
function checkSizes(info: ZipEntryInfo): void {
  const { compressionMethod: method, compressedSize, uncompressedSize } = info;
  if (method === 0) {
    if (compressedSize !== uncompressedSize) {
      throw new ZipError("E_ZIP_CORRUPT", "a stored entry whose sizes differ", info.name);
    }
    return;
  }
  if (method !== 8) throw new ZipError("E_ZIP_METHOD", `compression method ${method}`, info.name);
  // An empty deflate stream is 2 bytes; allow a little for the smallest inputs.
  if (uncompressedSize > compressedSize * MAX_DEFLATE_RATIO + 1024) {
    throw new ZipError("E_ZIP_BOMB", "a declared size deflate cannot reach", info.name);
  }
}

/**
 * Each entry's data (local header and compressed bytes) must sit apart from every other's and
 * before the central directory: overlapping entries are how one compressed block is inflated
 * many times over.
 */
function checkLayout(entries: readonly ZipEntryInfo[], centralDirectoryOffset: number): void {
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  let end = 0;
  for (const info of byOffset) {
    if (info.localHeaderOffset < end) {
      throw new ZipError("E_ZIP_BOMB", "entries whose data overlap", info.name);
    }
    end = info.localHeaderOffset + LOCAL_HEADER_BYTES + info.nameBytes + info.compressedSize;
    if (end > centralDirectoryOffset) {
      throw new ZipError("E_ZIP_CORRUPT", "entry data running into the central directory", info.name);
    }
  }
}
