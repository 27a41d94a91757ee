/**
 * Lists what `transfer <folder>` sends: every regular file and every empty directory under the
 * folder, with their paths relative to it. Symbolic links are never followed (a link could
 * point anywhere, inside the folder or out of it): they are listed as skipped, as are
 * sockets, FIFOs and devices.
 */

import { lstatSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { osReason, TransferError } from "./errors.ts";

export interface FolderItem {
  readonly kind: "file" | "dir";
  readonly path: string;
  /** Components relative to the folder; the last one is the item's own name. */
  readonly rel: readonly string[];
  readonly size: number;
}

export interface FolderListing {
  /** The folder's own name. */
  readonly root: string;
  readonly items: readonly FolderItem[];
  readonly bytes: number;
  /** Relative paths left out (links, special files), for the user to hear about. */
  readonly skipped: readonly string[];
}

/** @throws TransferError E_READ when a directory cannot be read */
export function walkFolder(folder: string): FolderListing {
  const items: FolderItem[] = [];
  const skipped: string[] = [];
  let bytes = 0;
  const visit = (dir: string, rel: string[]): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      throw new TransferError("E_READ", `cannot read the folder ${dir}: ${osReason(err)}`, { cause: err });
    }
    if (names.length === 0 && rel.length > 0) items.push({ kind: "dir", path: dir, rel, size: 0 });
    for (const name of names) {
      const path = join(dir, name);
      const stats = lstatSync(path);
      if (stats.isDirectory()) visit(path, [...rel, name]);
      else if (stats.isFile()) {
        items.push({ kind: "file", path, rel: [...rel, name], size: stats.size });
        bytes += stats.size;
      } else skipped.push([...rel, name].join("/"));
    }
  };
  visit(folder, []);
  const root = basename(folder.replace(/\/+$/, "")) || "folder";
  if (items.length === 0) items.push({ kind: "dir", path: folder, rel: [], size: 0 }); // the folder itself, empty
  return { root, items, bytes, skipped };
}
