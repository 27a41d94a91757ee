/**
 * processIo().outputStat and sameFile, in a real process: standard output and error sent to one
 * file (`> log 2>&1`) are told apart from two files, so `receive --ask > log 2>&1` keeps its
 * questions' lines whole (reporter.ts's shareLinesWith).
 */

import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "parley-same-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCRIPT = `
import { processIo, sameFile } from ${JSON.stringify(join(import.meta.dir, "../../src/cli/io.ts"))};
const io = processIo();
console.log("same " + sameFile(io.outputStat?.(false), io.outputStat?.(true)));
`;

function run(stdout: number, stderr: number): void {
  const child = Bun.spawnSync([process.execPath, "-e", SCRIPT], { stdout, stderr });
  expect(child.exitCode).toBe(0);
}

test("one file for both: same; two files: not", () => {
  const log = join(dir, "log");
  const fd = openSync(log, "w");
  run(fd, fd);
  closeSync(fd);
  expect(readFileSync(log, "utf8")).toBe("same true\n");

  const out = openSync(join(dir, "out"), "w");
  const err = openSync(join(dir, "err"), "w");
  run(out, err);
  closeSync(out);
  closeSync(err);
  expect(readFileSync(join(dir, "out"), "utf8")).toBe("same false\n");
});
