/**
 * Where the entries of an incoming folder go: a new top-level folder in the download
 * directory, named after the sender's folder (or "name (1)", ... if that exists: created with
 * mkdir, which fails rather than reuse an existing folder), and inside it the sender's tree,
 * each component sanitised like a file name. Nothing is ever written outside that new folder:
 * every directory on the way is one we created, and is checked to be a real directory.
 */

import { lstatSync, mkdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import type { FolderEntry } from "../protocol/index.ts";
import type { ChecksumAlgo } from "./checksum.ts";
import { createDigest } from "./checksum.ts";
import { osReason, TransferError } from "./errors.ts";
import { numberedName, sanitizeFileName } from "./file-names.ts";
import type { IncomingSink, ReceivedFile } from "./source.ts";

const MAX_ROOT_TRIES = 1_000;

export class FolderTargets {
  /** group -> the top-level folder created for it. */
  private readonly roots = new Map<number, string>();

  constructor(private readonly downloadDir: string) {}

  /** The directory the entry's file goes in (created as needed). @throws TransferError E_WRITE */
  parentFor(entry: FolderEntry): string {
    let dir = this.rootFor(entry);
    for (const component of entry.path.slice(0, -1)) dir = this.subdir(dir, component);
    return dir;
  }

  /** An empty-directory entry: the directory itself, created. @throws TransferError E_WRITE */
  dirFor(entry: FolderEntry): string {
    const last = entry.path.at(-1);
    const parent = this.parentFor(entry);
    return last === undefined ? parent : this.subdir(parent, last);
  }

  /** The top-level folder of this entry's group: made on its first entry. */
  rootFor(entry: FolderEntry): string {
    const known = this.roots.get(entry.group);
    if (known) return known;
    const name = sanitizeFileName(entry.root);
    for (let n = 0; n < MAX_ROOT_TRIES; n++) {
      const path = join(this.downloadDir, numberedName(name, n));
      try {
        mkdirSync(path);
      } catch (err) {
        if ((err as { code?: string }).code === "EEXIST") continue;
        throw new TransferError("E_WRITE", `cannot create ${path}: ${osReason(err)}`, { cause: err });
      }
      this.roots.set(entry.group, path);
      return path;
    }
    throw new TransferError("E_WRITE", `no free folder name for ${name} in ${this.downloadDir}`);
  }

  /** `parent/component`, created if missing; it must be a real directory (not a link). */
  subdir(parent: string, component: string): string {
    const path = join(parent, sanitizeFileName(component));
    try {
      mkdirSync(path);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") {
        throw new TransferError("E_WRITE", `cannot create ${path}: ${osReason(err)}`, { cause: err });
      }
      if (!lstatSync(path).isDirectory()) throw new TransferError("E_WRITE", `${path} exists and is not a folder`);
    }
    return path;
  }
}

/** An empty directory of a folder transfer: made when accepted; no data; verified by END of 0 bytes. */
export class DirReceiver implements IncomingSink {
  readonly received = 0;

  constructor(
    readonly path: string,
    readonly name: string,
    private readonly algo: ChecksumAlgo,
  ) {}

  write(): void {
    throw new TransferError("E_SIZE_MISMATCH", "data for an empty folder");
  }

  finish(trailer: { bytes: number }): ReceivedFile {
    if (trailer.bytes !== 0) throw new TransferError("E_SIZE_MISMATCH", "data for an empty folder");
    return { path: this.path, bytes: 0, algo: this.algo, digest: createDigest(this.algo).hex() };
  }

  abort(): void {
    try {
      rmdirSync(this.path); // only if still empty
    } catch {
      // Not empty or gone: leave it.
    }
  }
}
