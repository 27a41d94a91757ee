/**
 * Test helpers for zips: a hand-written zip writer that lies where a test asks it to (names
 * no library would write, declared sizes, CRCs, modes, entries sharing one block of data),
 * and a snapshot of a folder tree to compare two trees.
 *
 * Layout written (APPNOTE 4.3): per entry a local header (30 bytes + name) and its data; then
 * a central-directory record (46 bytes + name) per entry; then the end record (22 bytes).
 */

import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateRawSync } from "node:zlib";

export interface CraftEntry {
  readonly name: string;
  /** Content (inflated). Absent: empty. */
  readonly data?: Uint8Array;
  /** 8 (deflate, default) or 0 (stored). */
  readonly method?: 0 | 8;
  /** Inflated size written in both headers (default: the real one). */
  readonly declaredSize?: number;
  readonly crc?: number;
  /** Unix mode (type and permission bits); default a regular 0644 file, 0755 dir for "x/". */
  readonly mode?: number;
  /** Instead of its own data, point at the local header of entry number `sameDataAs`. */
  readonly sameDataAs?: number;
  readonly flags?: number;
}

const UTF8_FLAG = 0x800;

export function craftZip(entries: readonly CraftEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  const offsets: number[] = [];
  const records: { compressed: number; size: number; crc: number; method: number }[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const data = entry.data ?? new Uint8Array(0);
    const method = entry.method ?? (entry.name.endsWith("/") ? 0 : 8);
    const body = method === 8 ? deflateRawSync(data) : data;
    const size = entry.declaredSize ?? data.length;
    const crc = entry.crc ?? crc32(data);
    const flags = (entry.flags ?? 0) | UTF8_FLAG;
    let at = offset;
    let record = { compressed: body.length, size, crc, method };
    if (entry.sameDataAs !== undefined) {
      at = offsets[entry.sameDataAs] as number;
      record = records[entry.sameDataAs] as typeof record;
    } else {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(flags, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      parts.push(local, name, body);
      offset += 30 + name.length + body.length;
    }
    offsets.push(at);
    records.push(record);
    const mode = entry.mode ?? (entry.name.endsWith("/") ? 0o040755 : 0o100644);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(record.method, 10);
    cd.writeUInt32LE(record.crc, 16);
    cd.writeUInt32LE(record.compressed, 20);
    cd.writeUInt32LE(entry.sameDataAs === undefined ? size : record.size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE((mode << 16) >>> 0, 38);
    cd.writeUInt32LE(at, 42);
    central.push(cd, name);
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}

/**
 * Every entry under `root`: "dir/" for directories, "path\tsize\tsha256 prefix\tmode" for
 * files, "path\t(special)" for anything else; sorted.
 */
export function snapshotTree(root: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const rel = prefix + name;
    const path = join(root, rel);
    const stats = lstatSync(path);
    if (stats.isDirectory()) out.push(`${rel}/`, ...snapshotTree(root, `${rel}/`));
    else if (stats.isFile()) {
      const digest = createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
      out.push(`${rel}\t${stats.size}\t${digest}\t${(stats.mode & 0o777).toString(8)}`);
    } else out.push(`${rel}\t(special)`);
  }
  return out;
}
