/** bench/jitdump-map.ts: JavaScriptCore's jitdump read into perf's map format, a record cut short skipped. */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseJitDump, perfMapLines, writePerfMaps } from "../../bench/jitdump-map.ts";

/** A jitdump header (40 bytes) for `pid`. */
function header(pid: number): Uint8Array {
  const b = new Uint8Array(40);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x4a695444, true);
  v.setUint32(4, 1, true);
  v.setUint32(8, 40, true);
  v.setUint32(20, pid, true);
  return b;
}

/** A JIT_CODE_LOAD record of `name` at `address`, with `codeBytes` of code after the name. */
function codeLoad(address: bigint, size: bigint, name: string, codeBytes = 3): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const total = 16 + 40 + nameBytes.length + 1 + codeBytes;
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0, true);
  v.setUint32(4, total, true);
  v.setBigUint64(16 + 16, address, true);
  v.setBigUint64(16 + 24, size, true);
  b.set(nameBytes, 56);
  return b;
}

/** Another kind of record (JIT_CODE_DEBUG_INFO = 2), which names nothing. */
function otherRecord(): Uint8Array {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(0, 2, true);
  new DataView(b.buffer).setUint32(4, 32, true);
  return b;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("each compiled function of the dump, in order, other records skipped, a last record cut short left out", () => {
  const cut = codeLoad(0x30n, 8n, "JSC-DFG:_cut").subarray(0, 30);
  const dump = Buffer.concat([
    header(4242),
    codeLoad(0x7f00aa000000n, 0x1c0n, "JSC-DFG:_pumpSlice#AbCd"),
    otherRecord(),
    codeLoad(0x7f00aa001000n, 0x40n, "JSC-Baseline:_acked#XyZw"),
    cut,
  ]);
  const parsed = parseJitDump(dump);
  expect(parsed.pid).toBe(4242);
  expect(parsed.symbols.map((s) => s.name)).toEqual(["JSC-DFG:_pumpSlice#AbCd", "JSC-Baseline:_acked#XyZw"]);
  expect(perfMapLines(parsed.symbols)).toBe(
    "7f00aa000000 1c0 JSC-DFG:_pumpSlice#AbCd\n7f00aa001000 40 JSC-Baseline:_acked#XyZw\n",
  );
});

test("a file that is not a jitdump is refused", () => {
  expect(() => parseJitDump(new Uint8Array(64))).toThrow("not a jitdump file");
});

test("one map per process, its dumps together", () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-jitdump-"));
  dirs.push(dir);
  writeFileSync(join(dir, "jit-11-10.dump"), Buffer.concat([header(10), codeLoad(0x1000n, 0x10n, "a")]));
  writeFileSync(join(dir, "jit-12-10.dump"), Buffer.concat([header(10), codeLoad(0x2000n, 0x20n, "b")]));
  writeFileSync(join(dir, "jit-21-20.dump"), Buffer.concat([header(20), codeLoad(0x3000n, 0x30n, "c")]));
  writeFileSync(join(dir, "notes.txt"), "not a dump");
  const counts = writePerfMaps(dir, dir);
  expect([...counts].sort()).toEqual([
    [10, 2],
    [20, 1],
  ]);
  expect(readFileSync(join(dir, "perf-10.map"), "utf8").split("\n").filter(Boolean).sort()).toEqual([
    "1000 10 a",
    "2000 20 b",
  ]);
  expect(readFileSync(join(dir, "perf-20.map"), "utf8")).toBe("3000 30 c\n");
});
