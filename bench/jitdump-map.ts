/**
 * Names JavaScriptCore's JIT code in `perf` profiles of Bun processes. Bun is stripped, and
 * `perf inject --jit` does not recognise JavaScriptCore's jitdump files (named jit-TID-PID.dump),
 * so without this a profile's JavaScript frames are bare addresses. With the jitdump turned into
 * the map perf reads for a process (/tmp/perf-PID.map: "START SIZE name" a line), `perf report`
 * and `perf script` name every JIT frame (`JSC-DFG:_pumpSlice#...`, `JSC-Baseline:_...`), and a
 * frame-pointer call graph (`-g`) shows the first JavaScript frame above each native sample.
 *
 *   BUN_JSC_useJITDump=1 BUN_JSC_jitDumpDirectory=DIR perf record -a -g -e cpu-clock -o OUT -- \
 *     npx bun bench/run.ts --size 1G --runs 1 --files 0 --link-ms 0 --no-external --cases parley-cli
 *   npx bun bench/jitdump-map.ts DIR            writes /tmp/perf-PID.map for each dump in DIR
 *   perf report -i OUT --pid PID ...            (the map must exist when perf reads the profile)
 *
 * The bench passes its environment on to every process it starts, so each Bun process of the run
 * (the CLIs, the bench peers, the bench itself) writes its own dump. The dump is written as code is
 * compiled; a process killed in the middle leaves a last record cut short, which is skipped.
 */

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** "JiTD" read as a little-endian u32: the jitdump header's magic. */
const JITDUMP_MAGIC = 0x4a695444;
/** The record kind that announces a compiled function (JIT_CODE_LOAD). */
const JIT_CODE_LOAD = 0;
/** Record header: kind u32, total size u32, timestamp u64. */
const RECORD_HEADER_BYTES = 16;
/** JIT_CODE_LOAD after the record header: pid, tid (u32), vma, code address, code size, code index (u64). */
const CODE_LOAD_FIXED_BYTES = 40;

export interface JitSymbol {
  readonly address: bigint;
  readonly size: bigint;
  readonly name: string;
}

export interface JitDump {
  /** The process that wrote the dump (the header's pid). */
  readonly pid: number;
  readonly symbols: JitSymbol[];
}

/**
 * The compiled functions a jitdump announces, in order.
 * @throws Error when the bytes are not a little-endian jitdump
 */
export function parseJitDump(bytes: Uint8Array): JitDump {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 40 || view.getUint32(0, true) !== JITDUMP_MAGIC) throw new Error("not a jitdump file");
  const headerBytes = view.getUint32(8, true);
  const pid = view.getUint32(20, true);
  const symbols: JitSymbol[] = [];
  const decoder = new TextDecoder();
  for (let at = headerBytes; at + RECORD_HEADER_BYTES <= bytes.length; ) {
    const kind = view.getUint32(at, true);
    const total = view.getUint32(at + 4, true);
    // A record cut short (the process ended while writing it), or a size that cannot be: stop.
    if (total < RECORD_HEADER_BYTES || at + total > bytes.length) break;
    if (kind === JIT_CODE_LOAD && total >= RECORD_HEADER_BYTES + CODE_LOAD_FIXED_BYTES) {
      const fixed = at + RECORD_HEADER_BYTES;
      const address = view.getBigUint64(fixed + 16, true);
      const size = view.getBigUint64(fixed + 24, true);
      const nameStart = fixed + CODE_LOAD_FIXED_BYTES;
      let nameEnd = nameStart;
      while (nameEnd < at + total && bytes[nameEnd] !== 0) nameEnd++;
      symbols.push({ address, size, name: decoder.decode(bytes.subarray(nameStart, nameEnd)) });
    }
    at += total;
  }
  return { pid, symbols };
}

/** The lines of a perf map: "START SIZE name", hexadecimal without 0x. */
export function perfMapLines(symbols: readonly JitSymbol[]): string {
  return symbols.map((s) => `${s.address.toString(16)} ${s.size.toString(16)} ${s.name}\n`).join("");
}

/**
 * Writes OUT/perf-PID.map for every jit-*.dump in `dir` (a process's dumps appended into one map).
 * @returns each pid and how many functions its map names
 */
export function writePerfMaps(dir: string, outDir = "/tmp"): Map<number, number> {
  const maps = new Map<number, JitSymbol[]>();
  for (const name of readdirSync(dir).filter((n) => /^jit-.*\.dump$/.test(n))) {
    const dump = parseJitDump(readFileSync(join(dir, name)));
    maps.set(dump.pid, [...(maps.get(dump.pid) ?? []), ...dump.symbols]);
  }
  for (const [pid, symbols] of maps) writeFileSync(join(outDir, `perf-${pid}.map`), perfMapLines(symbols));
  return new Map([...maps].map(([pid, symbols]) => [pid, symbols.length]));
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: bun bench/jitdump-map.ts DIR [OUT_DIR]  (DIR: BUN_JSC_jitDumpDirectory)\n");
    process.exit(1);
  }
  for (const [pid, count] of writePerfMaps(dir, process.argv[3])) {
    process.stdout.write(`${join(process.argv[3] ?? "/tmp", `perf-${pid}.map`)}: ${count} functions\n`);
  }
}
