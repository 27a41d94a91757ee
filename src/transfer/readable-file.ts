/**
 * Whether a path can be sent as a file: checkReadableFile's checks (a regular file, readable,
 * not a kernel file whose size says nothing), and the names Bun could not decode. Apart from the
 * file sender (file-sender.ts) so that `parley send FILE` checks its paths before the code is
 * shown without loading the sender's code (the protocol layer, the digests): node:fs only, and
 * node:path only to word a failure.
 */

import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  statfsSync,
  statSync,
} from "node:fs";
import { osReason, TransferError } from "./errors.ts";

type NodePath = typeof import("node:path");

/** node:path's resolve, loaded to word a failure (a name's absolute path). */
function resolve(path: string): string {
  return (require("node:path") as NodePath).resolve(path);
}

/** What a path to send is: a file (its size), a folder, or why it cannot be sent. */
export type Sendable =
  | { readonly kind: "file"; readonly size: number }
  | { readonly kind: "folder" }
  | { readonly kind: "problem"; readonly error: TransferError };

/**
 * checkReadableFile's verdict, a folder told apart from the other paths it refuses as not a
 * file (a FIFO, a device, a kernel file), for a caller that sends a folder another way (a plain
 * wormhole peer's zip). Never throws a TransferError.
 */
export function sendableKind(path: string): Sendable {
  try {
    return { kind: "file", size: checkReadableFile(path) };
  } catch (err) {
    if (!(err instanceof TransferError)) throw err;
    if (err.code === "E_NOT_A_FILE" && statSync(path, { throwIfNoEntry: false })?.isDirectory())
      return { kind: "folder" };
    return { kind: "problem", error: err };
  }
}

/** Checks that `path` is a readable regular file and returns its size. @throws TransferError */
export function checkReadableFile(path: string): number {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const undecodable = code === "ENOENT" || code === "ENOTDIR" ? undecodableEntryIn(path) : undefined;
    if (undecodable !== undefined) {
      const why =
        undecodable === resolve(path)
          ? "its name is not UTF-8 text, so Parley can neither open it nor name it to the peer (rename it first)"
          : `the name of the folder ${undecodable} is not UTF-8 text, so Parley cannot open it (rename that folder first)`;
      throw new TransferError("E_BAD_NAME", `cannot send ${resolve(path)}: ${why}`);
    }
    // The absolute path: "no such file: package.json" does not say which folder was looked in.
    if (code === "ENOENT" || code === "ENOTDIR") {
      // A pattern the shell found nothing for (it passes it on as typed), or the chat's (input.ts expandTransferPaths), or one quoted.
      const wildcard = /[*?[]/.test(path)
        ? " (nothing matched the wildcard; the chat expands *, ? and [...] in the last name of a path only, and not inside quotes)"
        : "";
      throw new TransferError("E_NOT_FOUND", `no such file: ${resolve(path)}${wildcard}`);
    }
    throw new TransferError("E_UNREADABLE", `cannot read ${path}: ${osReason(err)}`, { cause: err });
  }
  if (stats.isDirectory()) throw new TransferError("E_NOT_A_FILE", `${path} is a directory, not a file`);
  if (!stats.isFile()) throw new TransferError("E_NOT_A_FILE", `${path} is not a regular file`);
  let hasBytes: boolean;
  let swapped = false;
  try {
    // Opening is the only honest readability test (permissions, ACLs, root). O_NONBLOCK: a
    // named pipe swapped in since the stat must not block the open (and the process) for ever.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      swapped = !fstatSync(fd).isFile();
      // A size of 0 is a promise of no bytes: /proc and /sys files say 0 and have content.
      hasBytes = !swapped && stats.size === 0 && readSync(fd, new Uint8Array(1), 0, 1, 0) > 0;
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new TransferError("E_UNREADABLE", `cannot read ${path}: ${osReason(err)}`, { cause: err });
  }
  if (swapped) throw new TransferError("E_NOT_A_FILE", `${path} is not a regular file`);
  if (hasBytes) {
    throw new TransferError(
      "E_NOT_A_FILE",
      `${path} says it is empty but is not (a /proc or /sys file?): send it as a stream, \`cat ${path} | parley send - --name NAME\``,
    );
  }
  // A /sys file says 4096 bytes and holds a line: the size is no promise there either. Such a
  // file takes no blocks; a file with bytes on a disk does, so only those are asked about.
  if (stats.size > 0 && stats.blocks === 0 && onKernelFileSystem(path)) {
    throw new TransferError(
      "E_NOT_A_FILE",
      `${path} is a kernel file (/proc, /sys) whose size says nothing of its content: send it as a stream, \`cat ${path} | parley send - --name NAME\``,
    );
  }
  return stats.size;
}

/** statfs(2) f_type of sysfs and procfs (linux/magic.h). */
const KERNEL_FILE_SYSTEMS: ReadonlySet<number> = new Set([0x62656572, 0x9fa0]);

/** `path` is on sysfs or procfs (false where that cannot be told). */
function onKernelFileSystem(path: string): boolean {
  try {
    return KERNEL_FILE_SYSTEMS.has(Number(statfsSync(path).type));
  } catch {
    return false;
  }
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
/** Lossy decodings differ in how many U+FFFD a bad sequence makes: compare with runs as one. */
const lossyKey = (text: string): string => text.replace(/\uFFFD+/g, "\uFFFD");

/**
 * When `path` (text with U+FFFD where its bytes were not UTF-8: Bun decodes argv and input
 * lines that way) is the lossy spelling of an existing entry whose real name, or a folder's on
 * its way, is not UTF-8, the first such component's absolute path (as text); else undefined.
 * Such a string names no file, so "no such file" would be wrong; this finds the entry byte by byte.
 */
export function undecodableEntryIn(path: string): string | undefined {
  if (!path.includes("\uFFFD")) return undefined;
  const { sep } = require("node:path") as NodePath;
  let at = Buffer.from(sep);
  let first: string | undefined;
  for (const part of resolve(path)
    .split(sep)
    .filter((p) => p !== "")) {
    const direct = Buffer.concat([at, Buffer.from(at.length > 1 ? sep + part : part)]);
    if (exists(direct)) {
      at = direct;
      continue;
    }
    if (!part.includes("\uFFFD")) return undefined;
    let names: Buffer[];
    try {
      names = readdirSync(at, { encoding: "buffer" });
    } catch {
      return undefined;
    }
    const match = names.find((n) => !isUtf8(n) && lossyKey(n.toString("utf8")) === lossyKey(part));
    if (!match) return undefined;
    at = Buffer.concat([at, Buffer.from(at.length > 1 ? sep : ""), match]);
    first ??= at.toString("utf8");
  }
  return first;
}

function exists(path: Buffer): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isUtf8(bytes: Buffer): boolean {
  try {
    STRICT_UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
